"""What a clone, or a published release, has seen of a handbook's signature files.

A repository alone cannot prove what it used to hold: a force-push can drop an approval,
a revocation or a registry revision, and the branch still verifies. A witness outside
the branch can: this clone's high-water mark (in its git folder), or a signed release
that lists the files it relied on. Signature files are append-only, so anything a
witness saw must still be there, byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def _files(raw: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ValueError("'files' must map paths to SHA-256 digests")
    return tuple(sorted(raw.items()))


@dataclass(frozen=True)
class Snapshot:
    """The witnessed files (path -> SHA-256) and the commit they were seen at."""

    head: str
    files: tuple[tuple[str, str], ...]
    seen_at: str = ""  # UTC time, for messages
    # Whether a remote-tracking branch held `head` when it was seen: only then is a
    # rewrite of it someone else's doing (rewriting one's own unpushed commits is not).
    published: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "head": self.head,
            "seen_at": self.seen_at,
            "published": self.published,
            "files": dict(self.files),
        }

    @classmethod
    def from_dict(cls, raw: object) -> Snapshot:
        """Parse; raise ValueError for anything else."""
        if not isinstance(raw, Mapping):
            raise ValueError("a branch's mark must be an object")
        head, seen, published = raw.get("head"), raw.get("seen_at", ""), raw.get("published")
        if not isinstance(head, str) or not isinstance(seen, str):
            raise ValueError("'head' and 'seen_at' must be text")
        return cls(head, _files(raw.get("files")), seen, published is True)


@dataclass(frozen=True)
class Loss:
    """A witnessed file that the handbook no longer holds as it was."""

    path: str
    change: str  # "gone" or "changed"


# The digest of a file whose bytes may change but which may never go (a key: a
# revocation is appended to it).
PRESENT = "present"


def losses(witnessed: tuple[tuple[str, str], ...], current: Mapping[str, str]) -> list[Loss]:
    """Every witnessed file that is missing from `current` or holds other bytes."""
    found = []
    for path, digest in witnessed:
        now = current.get(path)
        # A key may change (it gains revocations), so only its presence is witnessed; a
        # mark made before a file counted as a key holds its digest instead.
        if now is not None and PRESENT in (digest, now):
            continue
        if now != digest:
            found.append(Loss(path, "gone" if now is None else "changed"))
    return found


@dataclass(frozen=True)
class Acceptance:
    """A rollback someone accepted on purpose: recorded, never silent."""

    at: str
    by: str
    branch: str
    reason: str
    lost: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "at": self.at,
            "by": self.by,
            "branch": self.branch,
            "reason": self.reason,
            "lost": list(self.lost),
        }
