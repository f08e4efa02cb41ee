"""What gpg said of signatures in earlier runs, kept in a file of this clone's git folder.

Only good verifications are kept, each under the SHA-256 of the signature's bytes and the
signed bytes (and gpg's version), with the state of the key that made it: an entry counts
only while that key reads exactly as it did (same subkeys, expiry, revocation), so a new
key elsewhere in the keyring (a new hire's) leaves every other entry good. Nothing else is
kept: every rule (who may sign, when, the registry, the roster) is judged again on each
run. A file that is unreadable, damaged or of another format is ignored, not trusted, and
written afresh.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qms.adapters.files import write_atomic
from qms.model.parsing import load_json
from qms.model.signature_rules import SignatureFacts
from qms.model.timeutil import format_utc, parse_utc

FORMAT = "qms-verified-signatures/2"
# Entries kept at most: past it, only those used by the last run are written back.
LIMIT = 500_000


def entry_key(item_digest: str) -> str:
    """The key of one verification: the signature's and the signed bytes' digest."""
    return hashlib.sha256(f"signature:{item_digest}".encode("ascii")).hexdigest()


def _facts(value: Any, key_state: Callable[[str], str]) -> SignatureFacts | None:
    """A kept entry as gpg's answer; None (asked again) for one that is not well formed,
    or whose signing key no longer reads as it did (`key_state`)."""
    try:
        fingerprint, signed_at, expires, state = value
        if not isinstance(fingerprint, str) or not isinstance(signed_at, str):
            return None
        if not isinstance(state, str) or key_state(fingerprint) != state:
            return None
        return SignatureFacts(
            good=True,
            fingerprint=fingerprint,
            signed_at=parse_utc(signed_at),
            key_expires=parse_utc(expires) if isinstance(expires, str) else None,
        )
    except (ValueError, TypeError):
        return None


def _entry(facts: SignatureFacts, state: str) -> list[str | None]:
    return [
        facts.fingerprint,
        format_utc(facts.signed_at) if facts.signed_at else None,
        format_utc(facts.key_expires) if facts.key_expires else None,
        state,
    ]


@dataclass
class VerifiedCache:
    """Good verifications by `entry_key`, as read from `path` and added to in this run.

    Entries stay as read until one is asked for: a run reads many, uses few when the
    caller verifies only some documents."""

    path: Path
    gpg_version: str
    entries: dict[str, Any] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    changed: bool = False
    # Entries read in this run, as (fingerprint, key state, facts), by key.
    read: dict[str, tuple[str, str, SignatureFacts]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, gpg_version: str) -> VerifiedCache:
        """The cache at `path`; an empty one when it is missing, unreadable or foreign."""
        cache = cls(path, gpg_version)
        try:
            raw = load_json(path.read_bytes())
            if raw.get("format") != FORMAT or raw.get("gpg") != gpg_version:
                raise ValueError("another format")
            if not isinstance(raw["entries"], dict):
                raise ValueError("no entries")
            cache.entries = raw["entries"]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            cache.entries = {}
            cache.changed = path.exists()
        return cache

    def get(self, key: str, key_state: Callable[[str], str]) -> SignatureFacts | None:
        """A kept good verification, if any, made by a key that still reads as it did."""
        read = self.read.get(key)
        if read is not None and key_state(read[0]) == read[1]:
            return read[2]  # asked before in this run: read once, its key checked again
        facts = _facts(self.entries.get(key), key_state)
        if facts is not None and facts.fingerprint:
            self.used.add(key)
            self.read[key] = (facts.fingerprint, key_state(facts.fingerprint), facts)
        return facts

    def put(self, key: str, facts: SignatureFacts, key_state: Callable[[str], str]) -> None:
        """Keep `facts` if gpg found the signature good (a failure is asked again)."""
        if facts.good and facts.fingerprint and facts.signed_at is not None:
            self.read.pop(key, None)
            self.entries[key] = _entry(facts, key_state(facts.fingerprint))
            self.used.add(key)
            self.changed = True

    def save(self) -> None:
        """Write the cache atomically when this run added to it; a write that fails is
        only a cache lost."""
        if not self.changed:
            return
        keep = self.entries
        if len(keep) > LIMIT:
            keep = {k: v for k, v in keep.items() if k in self.used}
        data = {
            "format": FORMAT,
            "gpg": self.gpg_version,
            "entries": dict(sorted(keep.items())),
        }
        try:
            write_atomic(self.path, (json.dumps(data, separators=(",", ":")) + "\n").encode())
        except OSError:
            return
        self.changed = False
