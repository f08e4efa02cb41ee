"""Migration statements: a registry administrator ties commit-less approvals to commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from qms.model.approval import StatementError, canonical_json
from qms.model.parsing import load_json
from qms.model.schemas import problems
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
        return canonical_json(data)

    @classmethod
    def from_bytes(cls, data: bytes) -> Migration:
        """Parse a migration; refuse anything that is not exactly canonical."""
        try:
            raw = load_json(data)
        except ValueError as exc:
            raise StatementError(f"not a JSON statement: {exc}") from exc
        found = problems("migration", raw)
        if found:
            raise StatementError(found[0].message)
        try:
            migration = cls(
                number=raw["number"],
                signer_name=raw["signer_name"],
                signer_fingerprint=raw["signer_fingerprint"],
                signed_at=parse_utc(raw["signed_at"]),
                ties=tuple(
                    Tie(item["path"], item["sha256"], item["commit"]) for item in raw["records"]
                ),
            )
        except ValueError as exc:  # the time, which the schema leaves to parse_utc
            raise StatementError(f"malformed migration: {exc}") from exc
        if migration.to_bytes() != data:
            raise StatementError("statement is not in canonical form")
        return migration
