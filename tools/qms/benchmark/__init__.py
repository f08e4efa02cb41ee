"""Performance benchmark: a synthetic handbook, measured against plain Sphinx and gpg."""
