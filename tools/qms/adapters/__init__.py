"""Adapters to the outside world: file system, git (GitPython) and gpg (python-gnupg)."""
