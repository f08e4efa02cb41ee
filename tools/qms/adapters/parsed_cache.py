"""What earlier runs read out of exact bytes, kept in a file of this clone's git folder.

Each entry is keyed by a kind and the SHA-256 of the bytes it was read from, and holds what
a pure function of those bytes gave: the fingerprints gpg found in a key file, a signed
statement's parsed form. A changed file has other bytes, hence another key. Nothing about a
signature or who may make one is kept here. A file that is unreadable, damaged or of another
format is ignored, not trusted, and written afresh.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qms.adapters.files import write_atomic

FORMAT = "qms-parsed/1"
# Entries kept at most: past it, only those used by the last run are written back.
LIMIT = 500_000


def digest_of(data: bytes) -> str:
    """The SHA-256 an entry of `data` is kept under."""
    return hashlib.sha256(data).hexdigest()


@dataclass
class ParsedCache:
    """Entries by kind and digest (`digest_of`), as read from `path` and added to in this
    run."""

    path: Path
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    used: set[tuple[str, str]] = field(default_factory=set)
    changed: bool = False

    @classmethod
    def load(cls, path: Path) -> ParsedCache:
        """The cache at `path`; an empty one when it is missing, unreadable or foreign."""
        cache = cls(path)
        try:
            # The C parser, not load_json's bounded one: the text may be large, and too
            # deep a nesting is a RecursionError here, a cache ignored.
            raw = json.loads(path.read_bytes().decode("utf-8"))
            entries = raw["entries"]
            if raw.get("format") != FORMAT or not isinstance(entries, dict):
                raise ValueError("another format")
            if not all(isinstance(kind, dict) for kind in entries.values()):
                raise ValueError("another format")
            cache.entries = entries
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            cache.entries = {}
            cache.changed = path.exists()
        return cache

    def section(self, kind: str) -> dict[str, Any]:
        """Every entry of `kind`, by digest; the caller checks each value's shape."""
        return self.entries.get(kind, {})

    def get(self, kind: str, digest: str) -> Any:
        """The value of `kind` kept for `digest`, or None; the caller checks its shape."""
        value = self.section(kind).get(digest)
        if value is not None:
            self.used.add((kind, digest))
        return value

    def put(self, kind: str, digest: str, value: Any) -> None:
        """Keep `value` (JSON data) of `kind` for `digest`."""
        section = self.entries.setdefault(kind, {})
        if section.get(digest) != value:
            section[digest] = value
            self.changed = True
        self.used.add((kind, digest))

    def save(self) -> None:
        """Write the cache atomically when this run added to it; a write that fails is
        only a cache lost."""
        if not self.changed:
            return
        keep = self.entries
        if sum(map(len, keep.values())) > LIMIT:
            keep = {
                kind: {d: v for d, v in section.items() if (kind, d) in self.used}
                for kind, section in keep.items()
            }
        data = {"format": FORMAT, "entries": keep}
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
        try:
            write_atomic(self.path, (text + "\n").encode("utf-8"))
        except (OSError, UnicodeEncodeError, ValueError):
            return
        self.changed = False
