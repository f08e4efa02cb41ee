"""Training records (`qms-training/1`): the canonical JSON a detached signature covers.

One kind, three ways of making it, each saying which it is:

- `self`: a person acknowledges, with their own key (the roster lists it), that they read and
  understood exact document versions ("read and understood");
- `session`: a trainer attests a classroom or on-the-job session: attendees, date,
  document versions, form;
- `import`: the training coordinator signs the completions of a learning-system export,
  naming the source system and the SHA-256 of the exported file.

Every record is a list of completions, each bound to document id, version and content
digest, so one signature may cover a session's attendees or an import's rows and is still
one named person's signed word for each completion it lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from qms.model.approval import canonical_json, text_field
from qms.model.canonical import parse_canonical, worded
from qms.model.document import Version
from qms.model.signature_rules import Authority, ListedKey, RegisteredSigner
from qms.model.timeutil import format_utc, parse_utc

SCHEMA = "qms-training/1"


class Method(StrEnum):
    """How a training record was made."""

    SELF = "self"
    SESSION = "session"
    IMPORT = "import"


# The registry role each way of making a record needs ("" for self: the person's own key,
# which the roster lists, not the registry).
METHOD_ROLES = {Method.SELF: "", Method.SESSION: "trainer", Method.IMPORT: "training-coordinator"}
# Forms of a trainer-led session.
SESSION_FORMS = ("classroom", "on-the-job", "e-learning")


@dataclass(frozen=True)
class Completed:
    """One person trained on one document version's exact content, on a day."""

    employee: str
    document_id: str
    version: Version
    content_sha256: str
    completed_on: date

    def as_dict(self) -> dict[str, str]:
        """JSON-ready data."""
        return {
            "employee": self.employee,
            "document_id": self.document_id,
            "version": str(self.version),
            "content_sha256": self.content_sha256,
            "completed_on": self.completed_on.isoformat(),
        }


@dataclass(frozen=True)
class TrainingRecord:
    """Who signed which completions, made which way, when."""

    method: Method
    completions: tuple[Completed, ...]
    signer_name: str
    signer_fingerprint: str
    signed_at: datetime
    # session: its form and title; import: the source system and the export's SHA-256.
    form: str = ""
    title: str = ""
    source_system: str = ""
    source_sha256: str = ""
    comment: str = ""

    # The words of the meaning the signer confirmed (model/ceremony.py); "" in a statement
    # made before they were recorded (issue 18), whose bytes stay as they were.
    wording: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (the canonical field set)."""
        data: dict[str, Any] = {
            "schema": SCHEMA,
            "method": str(self.method),
            "completions": [c.as_dict() for c in self.completions],
            "signer_name": self.signer_name,
            "signer_fingerprint": self.signer_fingerprint,
            "signed_at": format_utc(self.signed_at),
            "comment": self.comment,
        }
        if self.method is Method.SESSION:
            data["session"] = {"form": self.form, "title": self.title}
        if self.method is Method.IMPORT:
            data["source"] = {"system": self.source_system, "sha256": self.source_sha256}
        return data

    def to_bytes(self) -> bytes:
        """Canonical bytes, as every signed statement."""
        return canonical_json(worded(self.as_dict(), self.wording))

    @property
    def employees(self) -> tuple[str, ...]:
        """Everyone the record names, sorted."""
        return tuple(sorted({c.employee for c in self.completions}))

    @classmethod
    def from_bytes(cls, data: bytes) -> TrainingRecord:
        """Parse a record; refuse anything that is not exactly canonical."""
        return parse_canonical(data, SCHEMA, "training record", cls._parse, "training-record")

    @classmethod
    def _parse(cls, raw: dict[str, Any]) -> TrainingRecord:
        method = Method(raw["method"])
        session = raw.get("session") or {}
        source = raw.get("source") or {}
        completions = tuple(
            Completed(
                employee=text_field(item, "employee"),
                document_id=text_field(item, "document_id"),
                version=Version.parse(text_field(item, "version")),
                content_sha256=text_field(item, "content_sha256"),
                completed_on=date.fromisoformat(text_field(item, "completed_on")),
            )
            for item in raw["completions"]
        )
        return cls(
            method=method,
            completions=completions,
            signer_name=text_field(raw, "signer_name"),
            signer_fingerprint=text_field(raw, "signer_fingerprint"),
            signed_at=parse_utc(text_field(raw, "signed_at")),
            form=text_field(session, "form") if method is Method.SESSION else "",
            title=text_field(session, "title") if method is Method.SESSION else "",
            source_system=text_field(source, "system") if method is Method.IMPORT else "",
            source_sha256=text_field(source, "sha256") if method is Method.IMPORT else "",
            comment=raw["comment"],
            wording=raw.get("wording", ""),
        )


def record_refusal(record: TrainingRecord) -> str:
    """Why a record's shape does not fit its method ("" when it does); pure."""
    if record.method is Method.SELF and len(record.employees) != 1:
        return "an acknowledgement in person names exactly one person"
    if record.method is Method.SESSION and record.form not in SESSION_FORMS:
        return f"session form '{record.form}' is not one of {', '.join(SESSION_FORMS)}"
    late = [c for c in record.completions if c.completed_on > record.signed_at.date()]
    if late:
        return (
            f"completion on {late[0].completed_on} lies after the record was signed "
            f"({format_utc(record.signed_at)})"
        )
    return ""


def record_authority(
    record: TrainingRecord, keys_of: Mapping[str, tuple[str, ...]], revoked: frozenset[str]
) -> Authority:
    """Who may sign `record`: for `self`, a key the roster lists for the one person it
    names (`keys_of`: employee -> keys); else a registered signer in the method's role."""
    if record.method is Method.SELF:
        # More than one person is refused by record_refusal; no key is listed for "".
        employee = record.employees[0] if len(record.employees) == 1 else ""
        return ListedKey(keys_of.get(employee, ()), employee, revoked)
    return RegisteredSigner(METHOD_ROLES[record.method])
