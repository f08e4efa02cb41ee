"""Approval statements: the canonical JSON that a signer's detached signature covers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

# Defined with every statement kind's parsing; named here too, where most callers look.
from qms.model.canonical import StatementError as StatementError
from qms.model.canonical import canonical_json as canonical_json
from qms.model.canonical import parse_canonical
from qms.model.timeutil import format_utc, parse_utc

# The shape of every version is qms/schemas/approval.schema.json.
# Version 2 adds the git commit that held the signed content, so that a rewritten
# history is detected; version 1 statements (without it) stay valid. Version 3 adds the
# fingerprints of the items the document links to upstream (change impact,
# model/impact.py); statements of versions 1 and 2 record none and stay valid. Version 4
# adds the wording of the meaning the signer confirmed (model/ceremony.py); earlier
# versions record none and stay valid.
SCHEMA_V4 = "qms-approval/4"
SCHEMA_V3 = "qms-approval/3"
SCHEMA = "qms-approval/2"
SCHEMA_V1 = "qms-approval/1"
# A retirement (issue 17) is signed like an approval, with the same meanings and rules, over
# the last version's content, and adds the reason; it records no upstream fingerprints.
RETIREMENT = "qms-retirement/1"
# Version 2 of a retirement adds the wording, as qms-approval/4 does.
RETIREMENT_V2 = "qms-retirement/2"
_HEX64 = re.compile(r"[0-9a-f]{64}")


class Meaning(StrEnum):
    """What a signature means (21 CFR 11.50(a)(3)), in the order they must be given."""

    AUTHORED = "authored"
    REVIEWED = "reviewed"
    APPROVED = "approved"


MEANING_ORDER = (Meaning.AUTHORED, Meaning.REVIEWED, Meaning.APPROVED)


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
    # (upstream item id, fingerprint), sorted by id; None in statements before version 3.
    upstream: tuple[tuple[str, str], ...] | None = None
    # Why the document is withdrawn from use: set only in a retirement statement.
    retirement_reason: str = ""
    # What the meaning says in words, as the signer confirmed it ("" before version 4).
    wording: str = ""

    @property
    def schema(self) -> str:
        """The statement's version: the oldest that holds all it records."""
        if self.retirement_reason:
            return RETIREMENT_V2 if self.wording else RETIREMENT
        if self.wording:
            return SCHEMA_V4
        if self.upstream is not None:
            return SCHEMA_V3
        return SCHEMA if self.commit else SCHEMA_V1

    def as_dict(self) -> dict[str, Any]:
        """The statement as JSON-ready data (the canonical field set)."""
        data: dict[str, Any] = {
            "schema": self.schema,
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
        if self.upstream is not None:
            data["upstream"] = [{"item": i, "fingerprint": f} for i, f in self.upstream]
        if self.retirement_reason:
            data["reason"] = self.retirement_reason
        if self.wording:
            data["wording"] = self.wording
        return data

    def signer_summary(self) -> dict[str, str]:
        """Who signed, meaning what, when: the fields reports and manifests show."""
        summary = {
            "meaning": str(self.meaning),
            "name": self.signer_name,
            "role": self.role,
            "fingerprint": self.signer_fingerprint,
            "signed_at": format_utc(self.signed_at),
        }
        # Only where recorded (qms-approval/4): earlier reports and manifests stay as they were.
        if self.wording:
            summary["wording"] = self.wording
        return summary

    def to_bytes(self) -> bytes:
        """Canonical bytes: sorted keys, no insignificant space, UTF-8, one final newline."""
        return canonical_json(self.as_dict())

    @classmethod
    def from_bytes(cls, data: bytes) -> Statement:
        """Parse a statement; refuse anything that is not exactly canonical."""
        return parse_canonical(
            data, (SCHEMA_V4, SCHEMA_V3, SCHEMA, SCHEMA_V1), "statement", cls._build, "approval"
        )

    @classmethod
    def retirement_from_bytes(cls, data: bytes) -> Statement:
        """Parse a retirement statement; an approval statement is not one, nor the reverse."""
        return parse_canonical(
            data, (RETIREMENT_V2, RETIREMENT), "retirement statement", cls._build, "approval"
        )

    @classmethod
    def _build(cls, raw: dict[str, Any]) -> Statement:
        return cls(
            document_id=raw["document_id"],
            version=raw["version"],
            content_sha256=raw["content_sha256"],
            meaning=Meaning(raw["meaning"]),
            signer_name=raw["signer_name"],
            signer_fingerprint=raw["signer_fingerprint"],
            role=raw["role"],
            signed_at=parse_utc(raw["signed_at"]),
            comment=raw["comment"] if isinstance(raw["comment"], str) else "",
            includes=tuple((item["path"], item["sha256"]) for item in raw["includes"]),
            commit=raw.get("commit", ""),
            upstream=_upstream(raw["upstream"]) if "upstream" in raw else None,
            retirement_reason=raw.get("reason", ""),
            wording=raw.get("wording", ""),
        )


def _upstream(entries: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    found = tuple((entry["item"], entry["fingerprint"]) for entry in entries)
    if any(_HEX64.fullmatch(digest) is None for _, digest in found):
        raise ValueError("an upstream fingerprint must be 64 hex digits")
    if [item for item, _ in found] != sorted({item for item, _ in found}):
        raise ValueError("upstream items must be sorted by id, each once")
    return found


def text_field(raw: Any, key: str) -> str:
    """A statement's field that must be non-empty text."""
    value = raw[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"'{key}' must be non-empty text")
    return value
