"""CAPA states imported from an external eQMS (`qms-capa-import/1`): the integration point.

Many organisations keep CAPA in their eQMS. QA exports its CAPA list as CSV
(capa_id,state,due) and signs the rows as one statement naming the source system and the
export's SHA-256, as training imports do. A finding then names the external CAPA
(`:external_capa:`), and the CAPA log counts it with a state derived the same way: the
eQMS says open, closed, effective or not effective; overdue follows from `due` (the next
action's date while open, the effectiveness check's once closed) and the day judged.
The latest import that counts is the eQMS's state as of its signing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from qms.model.approval import canonical_json, text_field
from qms.model.canonical import parse_canonical, worded
from qms.model.capa import CapaState
from qms.model.csvcells import read_rows
from qms.model.timeutil import format_utc, parse_utc
from qms.model.vocabulary import ID_PATTERN

SCHEMA = "qms-capa-import/1"
CSV_COLUMNS = ("capa_id", "state", "due")
IMPORT_STATES = ("open", "closed", "effective", "not-effective")


@dataclass(frozen=True)
class ExternalCapa:
    """One CAPA as the eQMS reported it."""

    capa_id: str
    state: str
    due: date | None = None

    def as_dict(self) -> dict[str, str]:
        """JSON-ready data."""
        return {
            "capa_id": self.capa_id,
            "state": self.state,
            "due": self.due.isoformat() if self.due else "",
        }

    def state_on(self, on: date) -> CapaState:
        """The state the CAPA log shows on `on`, derived as for the handbook's own CAPAs."""
        late = self.due is not None and on > self.due
        if self.state == "open":
            return CapaState.ACTION_OVERDUE if late else CapaState.OPEN
        if self.state == "closed":
            return CapaState.CHECK_OVERDUE if late else CapaState.AWAITING_CHECK
        return CapaState.EFFECTIVE if self.state == "effective" else CapaState.NOT_EFFECTIVE


@dataclass(frozen=True)
class CapaImport:
    """QA's signed word that an eQMS export, by its SHA-256, held these CAPA states."""

    rows: tuple[ExternalCapa, ...]
    source_system: str
    source_sha256: str
    role: str
    signer_name: str
    signer_fingerprint: str
    signed_at: datetime
    comment: str = ""

    # The words of the meaning the signer confirmed (model/ceremony.py); "" in a statement
    # made before they were recorded (issue 18), whose bytes stay as they were.
    wording: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (the canonical field set)."""
        return {
            "schema": SCHEMA,
            "rows": [row.as_dict() for row in self.rows],
            "source": {"system": self.source_system, "sha256": self.source_sha256},
            "role": self.role,
            "signer_name": self.signer_name,
            "signer_fingerprint": self.signer_fingerprint,
            "signed_at": format_utc(self.signed_at),
            "comment": self.comment,
        }

    def to_bytes(self) -> bytes:
        """Canonical bytes, as every signed statement."""
        return canonical_json(worded(self.as_dict(), self.wording))

    @classmethod
    def from_bytes(cls, data: bytes) -> CapaImport:
        """Parse an import; refuse anything that is not exactly canonical."""
        return parse_canonical(data, SCHEMA, "CAPA import", cls._build, "capa-import")

    @classmethod
    def _build(cls, raw: dict[str, Any]) -> CapaImport:
        rows = tuple(
            ExternalCapa(
                text_field(item, "capa_id"),
                text_field(item, "state"),
                date.fromisoformat(item["due"]) if item["due"] else None,
            )
            for item in raw["rows"]
        )
        return cls(
            rows=rows,
            source_system=text_field(raw["source"], "system"),
            source_sha256=text_field(raw["source"], "sha256"),
            role=text_field(raw, "role"),
            signer_name=text_field(raw, "signer_name"),
            signer_fingerprint=text_field(raw, "signer_fingerprint"),
            signed_at=parse_utc(text_field(raw, "signed_at")),
            comment=raw["comment"],
            wording=raw.get("wording", ""),
        )


def _row(line: int, item: dict[str, str], where: str) -> tuple[ExternalCapa | None, str]:
    at = f"{where}:{line}"
    capa_id, state, due_text = item["capa_id"], item["state"], item["due"]
    if not ID_PATTERN.match(capa_id):
        return None, f"{at}: capa_id {capa_id!r} is not an id (upper case, dash-separated)"
    if state not in IMPORT_STATES:
        return None, f"{at}: state {state!r} is not one of {', '.join(IMPORT_STATES)}"
    try:
        due = date.fromisoformat(due_text) if due_text else None
    except ValueError:
        return None, f"{at}: due {due_text!r} is not a day written YYYY-MM-DD"
    return ExternalCapa(capa_id, state, due), ""


def from_csv(text: str, where: str) -> tuple[tuple[ExternalCapa, ...] | None, tuple[str, ...]]:
    """The rows of an eQMS export, or None and every bad row named (`where:LINE: ...`)."""
    lines, unreadable = read_rows(text, CSV_COLUMNS, where, optional=("due",))
    if unreadable:
        return None, (f"{unreadable[0]}; the export needs {', '.join(CSV_COLUMNS)}",)
    rows: dict[str, ExternalCapa] = {}
    problems: list[str] = []
    for line, item in lines:
        row, problem = _row(line, item, where)
        if row is not None and row.capa_id in rows:
            problem = f"{where}:{line}: {row.capa_id} is listed twice"
        if row is None or problem:
            problems.append(problem)
            continue
        rows[row.capa_id] = row
    if problems:
        return None, tuple(problems)
    if not rows:
        return None, (f"{where}:1: the export lists no CAPA",)
    return tuple(sorted(rows.values(), key=lambda r: r.capa_id)), ()
