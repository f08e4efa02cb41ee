"""The git record store through GitPython: clean-file checks and commits of given paths."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import git

from qms.errors import QmsError


class GitError(QmsError):
    """The handbook is not a usable git repository for this operation."""


class Repository:
    """The handbook's git repository."""

    def __init__(self, root: Path) -> None:
        try:
            self._repo = git.Repo(root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise GitError(
                f"{root} is not a git repository",
                "approvals are recorded as git commits; run 'git init' or work in a clone",
            ) from exc
        if self._repo.working_tree_dir is None:
            raise GitError(f"{root} is a bare repository", "work in a clone with a working tree")
        self.root = Path(self._repo.working_tree_dir)

    def _relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    def uncommitted(self, path: Path) -> bool:
        """Whether `path` is untracked or differs from HEAD (in the index or working tree)."""
        relative = self._relative(path)
        if not self._repo.head.is_valid():
            return True
        if relative in self._repo.untracked_files:
            return True
        tracked = self._repo.head.commit.tree
        try:
            tracked[relative]
        except KeyError:
            return True
        changed = self._repo.index.diff(None, paths=[relative]) or self._repo.index.diff(
            "HEAD", paths=[relative]
        )
        return bool(changed)

    def staged_paths(self) -> list[str]:
        """Paths whose staged content differs from HEAD."""
        if not self._repo.head.is_valid():
            return [str(path) for path, _ in self._repo.index.entries]
        return [d.a_path or d.b_path or "" for d in self._repo.index.diff("HEAD")]

    def commit(self, paths: Sequence[Path], message: str) -> str:
        """Commit exactly `paths` with `message`; refuse if anything else is staged."""
        others = sorted(set(self.staged_paths()) - {self._relative(p) for p in paths})
        if others:
            raise GitError(
                f"other changes are staged ({', '.join(others[:3])})",
                "commit or unstage them first, so the approval commit holds only the approval",
            )
        self._repo.index.add([self._relative(p) for p in paths])
        commit = self._repo.index.commit(message)
        return commit.hexsha

    def head(self) -> str | None:
        """The current commit, if any."""
        return self._repo.head.commit.hexsha if self._repo.head.is_valid() else None
