"""Approval statements: the canonical JSON that a signer's detached signature covers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from qms.model.parsing import load_json
from qms.model.timeutil import format_utc, parse_utc

# Version 2 adds the git commit that held the signed content, so that a rewritten
# history is detected; version 1 statements (without it) stay valid.
SCHEMA = "qms-approval/2"
SCHEMA_V1 = "qms-approval/1"


class Meaning(StrEnum):
    """What a signature means (21 CFR 11.50(a)(3)), in the order they must be given."""

    AUTHORED = "authored"
    REVIEWED = "reviewed"
    APPROVED = "approved"


MEANING_ORDER = (Meaning.AUTHORED, Meaning.REVIEWED, Meaning.APPROVED)


class StatementError(ValueError):
    """A statement file that is not a well-formed, canonical approval statement."""


@dataclass(frozen=True)
class Statement:
    """Who signed which exact content of which document version, meaning what, when."""

    document_id: str
    version: str
    content_sha256: str
    meaning: Meaning
    signer_name: str
    signer_fingerprint: str
    role: str
    signed_at: datetime
    comment: str = ""
    # Files the document pulls in ({include}), each with its SHA-256, sorted by path.
    includes: tuple[tuple[str, str], ...] = ()
    # The commit whose tree held the signed content ("" in version 1 statements).
    commit: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The statement as JSON-ready data (the canonical field set)."""
        data: dict[str, Any] = {
            "schema": SCHEMA if self.commit else SCHEMA_V1,
            "document_id": self.document_id,
            "version": self.version,
            "content_sha256": self.content_sha256,
            "includes": [{"path": path, "sha256": digest} for path, digest in self.includes],
            "meaning": str(self.meaning),
            "signer_name": self.signer_name,
            "signer_fingerprint": self.signer_fingerprint,
            "role": self.role,
            "signed_at": format_utc(self.signed_at),
            "comment": self.comment,
        }
        if self.commit:
            data["commit"] = self.commit
        return data

    def signer_summary(self) -> dict[str, str]:
        """Who signed, meaning what, when: the fields reports and manifests show."""
        return {
            "meaning": str(self.meaning),
            "name": self.signer_name,
            "role": self.role,
            "fingerprint": self.signer_fingerprint,
            "signed_at": format_utc(self.signed_at),
        }

    def to_bytes(self) -> bytes:
        """Canonical bytes: sorted keys, no insignificant space, UTF-8, one final newline."""
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return (text + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Statement:
        """Parse a statement; refuse anything that is not exactly canonical."""
        try:
            raw = load_json(data)
        except ValueError as exc:
            raise StatementError(f"not a JSON statement: {exc}") from exc
        if not isinstance(raw, dict) or raw.get("schema") not in (SCHEMA, SCHEMA_V1):
            raise StatementError(f"not a {SCHEMA} statement")
        expected = {
            "schema", "document_id", "version", "content_sha256", "includes", "meaning",
            "signer_name", "signer_fingerprint", "role", "signed_at", "comment",
        }  # fmt: skip
        if raw["schema"] == SCHEMA:
            expected.add("commit")
        if set(raw) != expected:
            raise StatementError(f"statement fields differ from {raw['schema']}")
        try:
            statement = cls(
                document_id=_text(raw, "document_id"),
                version=_text(raw, "version"),
                content_sha256=_text(raw, "content_sha256"),
                meaning=Meaning(raw["meaning"]),
                signer_name=_text(raw, "signer_name"),
                signer_fingerprint=_text(raw, "signer_fingerprint"),
                role=_text(raw, "role"),
                signed_at=parse_utc(_text(raw, "signed_at")),
                comment=raw["comment"] if isinstance(raw["comment"], str) else "",
                includes=tuple(
                    (_text(item, "path"), _text(item, "sha256")) for item in raw["includes"]
                ),
                commit=_text(raw, "commit") if "commit" in expected else "",
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise StatementError(f"malformed statement: {exc}") from exc
        if statement.to_bytes() != data:
            # Only canonical bytes are accepted, so that one statement has one form.
            raise StatementError("statement is not in canonical form")
        return statement


def _text(raw: Any, key: str) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"'{key}' must be non-empty text")
    return value
