"""Migration statements: a registry administrator ties commit-less approvals to commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qms.model.approval import canonical_json
from qms.model.canonical import parse_canonical, worded
from qms.model.timeutil import format_utc, parse_utc

# The shape of a migration is qms/schemas/migration.schema.json.
SCHEMA = "qms-migration/1"


@dataclass(frozen=True)
class Tie:
    """One qms-approval/1 record, by path and the SHA-256 of its bytes, and its commit."""

    path: str
    sha256: str
    commit: str


@dataclass(frozen=True)
class Migration:
    """Which commit held the signed content of each listed record, attested by a signer."""

    number: int
    signer_name: str
    signer_fingerprint: str
    signed_at: datetime
    ties: tuple[Tie, ...]

    # The words of the meaning the signer confirmed (model/ceremony.py); "" in a statement
    # made before they were recorded (issue 18), whose bytes stay as they were.
    wording: str = ""

    def to_bytes(self) -> bytes:
        """Canonical bytes: sorted keys, no insignificant space, UTF-8, one final newline."""
        data: dict[str, object] = {
            "schema": SCHEMA,
            "number": self.number,
            "signer_name": self.signer_name,
            "signer_fingerprint": self.signer_fingerprint,
            "signed_at": format_utc(self.signed_at),
            "records": [
                {"path": t.path, "sha256": t.sha256, "commit": t.commit} for t in self.ties
            ],
        }
        return canonical_json(worded(data, self.wording))

    @classmethod
    def from_bytes(cls, data: bytes) -> Migration:
        """Parse a migration; refuse anything that is not exactly canonical."""
        return parse_canonical(data, SCHEMA, "migration", cls._build, "migration")

    @classmethod
    def _build(cls, raw: dict[str, Any]) -> Migration:
        return cls(
            number=raw["number"],
            signer_name=raw["signer_name"],
            signer_fingerprint=raw["signer_fingerprint"],
            signed_at=parse_utc(raw["signed_at"]),
            ties=tuple(
                Tie(item["path"], item["sha256"], item["commit"]) for item in raw["records"]
            ),
            wording=raw.get("wording", ""),
        )
