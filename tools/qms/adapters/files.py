"""File-system access: listing sources and writing files atomically."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

SOURCE_SUFFIX = ".md"
# Sphinx exclude patterns matching what iter_sources skips: any path part that
# starts with "_" (build output, templates) or "." (hidden files and folders).
EXCLUDED_SOURCES = ("_*", "**/_*", ".*", "**/.*")


def iter_sources(docs: Path) -> Iterator[tuple[str, Path]]:
    """Yield (docname, path) for every Markdown source under `docs`, in name order."""
    for path in sorted(docs.rglob(f"*{SOURCE_SUFFIX}")):
        relative = path.relative_to(docs)
        if any(part.startswith(("_", ".")) for part in relative.parts):
            continue  # build output, templates and hidden folders are not sources
        yield relative.with_suffix("").as_posix(), path


def files_under(folder: Path, suffix: str) -> list[Path]:
    """Every file under `folder` whose name ends in `suffix`, in the order of
    `sorted(folder.rglob(...))`: one directory listing per folder, no per-file stat."""
    found: list[Path] = []

    def walk(here: str) -> None:
        try:
            with os.scandir(here) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            # A path sorts part by part, so a folder's files come where its name sorts.
            if entry.is_dir(follow_symlinks=False):
                walk(entry.path)
            elif entry.name.endswith(suffix) and entry.is_file():
                found.append(Path(entry.path))

    walk(str(folder))
    return found


def read_beside(paths: Sequence[Path], suffix: str) -> list[tuple[Path, bytes, Path, bytes | None]]:
    """Each file's bytes, with the file beside it named with `suffix` added and its bytes
    (None when it cannot be read), each file read once."""
    found = []
    for path in paths:
        name = os.fspath(path)
        beside = name + suffix
        try:
            other: bytes | None = _read(beside)
        except OSError:
            other = None
        found.append((path, _read(name), Path(beside), other))
    return found


def _read(name: str) -> bytes:
    """A whole file, in as few system calls as a small file allows (tens of thousands of
    statements and signatures are read in each run)."""
    handle = os.open(name, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        chunks = []
        while chunk := os.read(handle, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(handle)


def is_site_page(docname: str, patterns: tuple[str, ...]) -> bool:
    """Whether `docname` is a navigation page rather than a controlled document."""
    return any(fnmatchcase(docname, pattern) for pattern in patterns)


def read_text(path: Path) -> str:
    """Read a UTF-8 source file; a byte-order mark is dropped, as Sphinx does."""
    return path.read_text(encoding="utf-8-sig")


def current_umask() -> int:
    """The process's file-creation mask.

    Read from /proc/self/status on Linux: setting the mask to read it back, the only
    portable way, briefly changes it for every thread of the process (Sphinx's parallel
    build runs threads), so that round trip is the fallback elsewhere.
    """
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        status = ""
    for line in status.splitlines():
        if line.startswith("Umask:"):
            return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write `data` so that readers see the old file or the new one, never half of it.

    The file gets `mode` when given; otherwise, as an editor's save would, the mode the
    file already has, or for a new file the one the user's umask gives (0o666 less the
    mask), never mkstemp's owner-only one.
    """
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~current_umask()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
