"""Files a site build writes beside its pages (scripts, caches), each written atomically."""

from __future__ import annotations

from pathlib import Path

from qms.adapters.files import write_atomic


def write_build_file(path: Path, data: bytes) -> None:
    """Write `data` to `path`, so that a reader (or a parallel build) never sees half of it."""
    write_atomic(path, data)
