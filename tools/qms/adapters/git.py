"""The git record store through GitPython: clean-file checks and commits of given paths."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import git

from qms.errors import QmsError

# Length of a full SHA-1 commit name; shorter names need git to resolve them.
FULL_HASH = 40
HEX_DIGITS = frozenset("0123456789abcdef")


class GitError(QmsError):
    """The handbook is not a usable git repository for this operation."""


@dataclass(frozen=True)
class FileChange:
    """One file as one commit left it (data is None when the commit deleted it)."""

    commit: str
    author: str
    email: str
    when: datetime
    path: str
    data: bytes | None


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
        self._reachable_set: frozenset[str] | None = None

    def _relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    def relative_path(self, path: Path) -> str:
        """`path` from the top of the working tree, as git names it."""
        return self._relative(path)

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

    def is_dirty(self) -> bool:
        """Whether tracked files differ from HEAD (untracked and ignored files do not count)."""
        return bool(self._repo.is_dirty(untracked_files=False))

    def has_untracked(self, folder: Path) -> bool:
        """Whether `folder` holds files git does not track (ignored files do not count)."""
        return bool(self._repo.git.ls_files("--others", "--exclude-standard", "--", str(folder)))

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

    @property
    def is_shallow(self) -> bool:
        """Whether this clone lacks older history (git clone --depth)."""
        return (Path(self._repo.git_dir) / "shallow").is_file()

    @property
    def hooks_dir(self) -> Path:
        """Where git looks for hooks: core.hooksPath when set, else the git folder's hooks/."""
        configured = self._repo.config_reader().get_value("core", "hooksPath", "")
        if not configured:
            return Path(self._repo.git_dir) / "hooks"
        # git reads a relative hooksPath from the top of the working tree; "~" is the home.
        return self.root / Path(str(configured)).expanduser()

    def commit_time(self, commit: str) -> int:
        """A commit's committer time, as a Unix timestamp."""
        return int(self._repo.commit(commit).committed_date)

    @property
    def git_dir(self) -> Path:
        """This clone's own git folder (not part of any commit)."""
        return Path(self._repo.git_dir)

    def branch(self) -> str | None:
        """The branch checked out; None on a detached HEAD."""
        try:
            return str(self._repo.active_branch.name)
        except TypeError:
            return None

    def first_parents(self) -> frozenset[str]:
        """The commits of HEAD's first-parent chain: the branch's own line of history.

        A merge of some other history (even the old one, `git merge -s ours`) adds commits
        that HEAD reaches, never ones on this chain.
        """
        if not self._repo.head.is_valid():
            return frozenset()
        return frozenset(self._repo.git.rev_list("--first-parent", "HEAD").split())

    def first_parent_log(self) -> tuple[tuple[str, int], ...]:
        """HEAD's first-parent chain, newest first, as (commit, committer time) pairs:
        the branch's own states in the order it had them."""
        if not self._repo.head.is_valid():
            return ()
        listed = self._repo.git.rev_list("--first-parent", "--timestamp", "HEAD").split("\n")
        pairs = (line.split(" ", 1) for line in listed if line)
        return tuple((commit, int(seconds)) for seconds, commit in pairs)

    def is_published(self, commit: str) -> bool:
        """Whether a remote-tracking branch holds `commit`: others may have it too."""
        try:
            return bool(self._repo.git.branch("-r", "--contains", commit).strip())
        except git.GitCommandError:
            return False

    def tracked(self, folder: Path) -> frozenset[str]:
        """Files git tracks under `folder`, as paths from the top of the working tree."""
        listed = self._repo.git.ls_files("--", self._relative(folder))
        return frozenset(line for line in listed.split("\n") if line)

    def user_name(self) -> str:
        """Who git says is working here (user.name), for records of deliberate acts."""
        reader = self._repo.config_reader()
        return str(reader.get_value("user", "name", "unknown"))

    def head(self) -> str | None:
        """The current commit, if any."""
        return self._repo.head.commit.hexsha if self._repo.head.is_valid() else None

    def resolve(self, ref: str) -> str | None:
        """The commit a tag, branch or (abbreviated) commit id names; None if it names none."""
        try:
            return str(self._repo.commit(ref).hexsha)
        except (git.BadName, ValueError, git.GitCommandError):
            return None

    def changes(self, folder: str, suffix: str) -> Iterator[FileChange]:
        """Every change to files under `folder` ending in `suffix`, oldest commit first.

        Each commit is compared with its first parent, so a merge reports what it brought;
        the root commit with the empty tree (GitPython reports that diff as additions).
        """
        if not self._repo.head.is_valid():
            return
        for commit in self._repo.iter_commits("HEAD", paths=folder, reverse=True):
            parent = commit.parents[0] if commit.parents else None
            diffs = (
                parent.diff(commit, paths=folder)
                if parent is not None
                else commit.diff(git.NULL_TREE, paths=folder)
            )
            when = commit.committed_datetime.astimezone(UTC)
            for diff in diffs:
                path = diff.b_path if not diff.deleted_file else diff.a_path
                if not path or not path.endswith(suffix):
                    continue
                data = (
                    None
                    if diff.deleted_file or diff.b_blob is None
                    else diff.b_blob.data_stream.read()
                )
                if diff.renamed_file and diff.a_path and diff.a_path != path:
                    # The old name is gone: report it, so that id lineage is exact.
                    yield FileChange(
                        commit.hexsha,
                        str(commit.author.name),
                        str(commit.author.email),
                        when,
                        diff.a_path,
                        None,
                    )
                yield FileChange(
                    commit.hexsha,
                    str(commit.author.name),
                    str(commit.author.email),
                    when,
                    path,
                    data,
                )

    def clone_at(self, commit: str, folder: Path) -> Repository:
        """A local clone in `folder` (objects shared, nothing copied), checked out at `commit`."""
        clone = self._repo.clone(str(folder), shared=True, no_checkout=True)
        clone.git.checkout(commit, detach=True)
        return Repository(folder)

    def check_out(self, commit: str) -> None:
        """Move this clone's working tree to `commit` (detached); only changed files are
        written, so their times alone change."""
        self._repo.git.checkout(commit, detach=True, force=True)

    def file_at(self, commit: str, path: str) -> bytes:
        """The bytes of `path` (relative to the repository root) in `commit`."""
        blob = self._repo.commit(commit).tree / path
        data: bytes = blob.data_stream.read()
        return data

    def blobs_under(self, commit: str, folder: str) -> dict[str, str]:
        """Every file under `folder` (from the repository root; "." for all) in `commit`:
        its path from the root and its blob id, read from the tree alone (one git call)."""
        try:
            listed = self._repo.git.ls_tree("-r", "-z", "--full-tree", commit, "--", folder)
        except git.GitCommandError:
            return {}
        found: dict[str, str] = {}
        for entry in listed.split("\0"):
            info, _, path = entry.partition("\t")
            parts = info.split()
            if len(parts) == 3 and parts[1] == "blob":
                found[path] = parts[2]
        return found

    def object_id(self, commit: str, path: str) -> str:
        """The id of the tree or blob at `path` in `commit` ("" when it has none): two
        commits with the same id there hold the same files there."""
        try:
            return str((self._repo.commit(commit).tree / path).hexsha)
        except KeyError:
            return ""

    def blob(self, blob_id: str) -> bytes:
        """The bytes of the blob `blob_id`."""
        data: bytes = self._repo.odb.stream(bytes.fromhex(blob_id)).read()
        return data

    def changed_since(self, commit: str, ignoring: Path) -> list[str]:
        """Files that differ between `commit` and HEAD, except those under `ignoring`."""
        skipped = self._relative(ignoring) + "/"
        listed = self._repo.git.diff("--name-only", commit, "HEAD", "--").split("\n")
        return [path for path in listed if path and not path.startswith(skipped)]

    def committed_alterations(self, folder: Path) -> dict[str, str]:
        """Files under `folder` that a commit reachable from HEAD deleted or modified.

        Path (from the top of the working tree) -> the newest such commit. Every parent of
        a merge is compared, and a rename counts as a deletion: neither hides a removal.
        Depends on HEAD only, so callers may keep it while HEAD stays.
        """
        found: dict[str, str] = {}
        for path, commit in self._logged_paths(folder, "-m", "--diff-filter=DM"):
            found.setdefault(path, commit)
        return found

    def _logged_paths(self, folder: Path, *options: str) -> Iterator[tuple[str, str]]:
        """(path, commit) for each file under `folder` that git log lists, newest first."""
        if not self._repo.head.is_valid():
            return
        listed = self._repo.git.log(
            "--no-renames", *options, "--name-only", "--format=%x00%H",
            "--", self._relative(folder),
        )  # fmt: skip
        commit = ""
        for line in listed.split("\n"):
            if line.startswith("\0"):
                commit = line[1:]
            elif line:
                yield line, commit

    def altered_files(
        self, folder: Path, committed: Mapping[str, str], editable: Sequence[Path] = ()
    ) -> dict[str, tuple[str, str]]:
        """Files under `folder` that git once held and that are now gone or different.

        `committed` is what committed_alterations found (empty to look at the working tree
        only). Path -> ("deleted" or "modified", the newest commit that did it, "" for the
        working tree). Files under `editable` may change, but not go. A file restored to
        the bytes it was first committed with is not listed.
        """
        if not self._repo.head.is_valid():
            return {}
        listed = self._repo.git.ls_files("--deleted", "--modified", "--", self._relative(folder))
        seen = {line: "" for line in listed.split("\n") if line}
        for path, commit in committed.items():
            seen.setdefault(path, commit)
        kept = tuple(self._relative(path) for path in editable)
        found: dict[str, tuple[str, str]] = {}
        for path, commit in sorted(seen.items()):
            current = self.root / path
            if not current.is_file():
                found[path] = ("deleted", commit)
            elif not _under(path, kept) and current.read_bytes() != self._first_version(path):
                found[path] = ("modified", commit)
        return found

    def modified_in_tree(self, folder: Path) -> tuple[str, ...]:
        """Tracked files under `folder` that the working tree changed (paths from the top)."""
        if not self._repo.head.is_valid():
            return ()
        listed = self._repo.git.ls_files("--modified", "--", self._relative(folder))
        return tuple(line for line in listed.split("\n") if line)

    def committed_versions(self, path: str) -> list[bytes]:
        """Every content `path` (from the top) was committed with, as HEAD reaches it."""
        listed = self._repo.git.log("-m", "--format=%H", "--", path)
        found = [self.blob_at(commit, path) for commit in dict.fromkeys(listed.split())]
        return [data for data in found if data is not None]

    def _first_version(self, path: str) -> bytes | None:
        """The bytes `path` had in the commit that first added it."""
        added = self._repo.git.log("--diff-filter=A", "--format=%H", "--reverse", "--", path)
        if not added:
            return None
        try:
            blob = self._repo.commit(added.split()[0]).tree / path
        except KeyError:
            return None
        data: bytes = blob.data_stream.read()
        return data

    def first_added(self, folder: Path) -> dict[str, str]:
        """Path (from the top) -> the oldest commit HEAD reaches that added it, under `folder`."""
        # Newest first, so the oldest is written last.
        return dict(self._logged_paths(folder, "--diff-filter=A"))

    def parents(self, commit: str) -> tuple[str, ...]:
        """The parents of `commit`, first parent first."""
        return tuple(parent.hexsha for parent in self._repo.commit(commit).parents)

    def blob_at(self, commit: str, path: str) -> bytes | None:
        """The bytes of `path` in `commit`, or None when its tree has no such file."""
        try:
            return self.file_at(commit, path)
        except KeyError:
            return None

    def is_ancestor(self, commit: str) -> bool:
        """Whether `commit` exists and is reachable from HEAD."""
        if len(commit) == FULL_HASH and set(commit) <= HEX_DIGITS:
            return commit in self._reachable()
        try:
            target = self._repo.commit(commit)
            return bool(self._repo.is_ancestor(target, self._repo.head.commit))
        except (git.GitCommandError, ValueError, git.BadName):
            return False

    def _reachable(self) -> frozenset[str]:
        """Every commit HEAD reaches, listed by one git call on first use.

        A Repository lives for one command, so HEAD as it was then is the HEAD asked about.
        """
        if self._reachable_set is None:
            valid = self._repo.head.is_valid()
            listed = self._repo.git.rev_list(self._repo.head.commit.hexsha) if valid else ""
            self._reachable_set = frozenset(listed.split())
        return self._reachable_set


def _under(path: str, folders: Sequence[str]) -> bool:
    """Whether `path` is one of `folders` or inside one (POSIX paths from the top)."""
    return any(path == folder or path.startswith(folder + "/") for folder in folders)


def open_repository(root: Path) -> Repository | None:
    """The repository holding `root`, or None when it is not under git."""
    try:
        return Repository(root)
    except GitError:
        return None


def git_version() -> str | None:
    """The version of the git that GitPython runs, or None when there is none to run."""
    try:
        parts = git.Git().version_info
    except (git.GitCommandNotFound, git.GitCommandError, OSError):
        return None
    return ".".join(str(part) for part in parts)
