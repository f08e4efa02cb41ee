"""CAPA closures and effectiveness verifications (`qms-capa/1`), who may sign them, and a CAPA's
state derived from them and from dates.

A CAPA's state is never typed: it follows from its actions' due and done dates, its
effectiveness check's due date, and two signed statements:

- `close`: a closing role's signed word that the actions are implemented;
- `verify`: a verifying role's signed word that the effectiveness check, made on a day
  against the CAPA's criterion, found it effective or not effective.

A GxP-relevant CAPA is closed and verified only by the roles `gxp_roles` names (QA).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from qms.model.approval import canonical_json, text_field
from qms.model.canonical import parse_canonical, worded
from qms.model.timeutil import format_utc, parse_utc

SCHEMA = "qms-capa/1"


class Act(StrEnum):
    """What a CAPA statement signs."""

    CLOSE = "close"
    VERIFY = "verify"


class Result(StrEnum):
    """What an effectiveness check found."""

    EFFECTIVE = "effective"
    NOT_EFFECTIVE = "not-effective"


class CapaState(StrEnum):
    """A CAPA's state on a day, in the order it moves through them."""

    OPEN = "open"
    ACTION_OVERDUE = "action overdue"
    AWAITING_CHECK = "closed, awaiting effectiveness check"
    CHECK_OVERDUE = "effectiveness check overdue"
    EFFECTIVE = "effective"
    NOT_EFFECTIVE = "not effective"

    @property
    def overdue(self) -> bool:
        """Whether an action or the effectiveness check is late (`qms capa --strict` fails)."""
        return self in (CapaState.ACTION_OVERDUE, CapaState.CHECK_OVERDUE)


@dataclass(frozen=True)
class CapaPolicy:
    """Who closes and who verifies a CAPA ([tool.qms.capa]); part of the signing policy."""

    close_roles: tuple[str, ...] = ("isms-manager", "qa")
    verify_roles: tuple[str, ...] = ("isms-manager", "qa")
    # A GxP-relevant CAPA is closed and verified by these roles only.
    gxp_roles: tuple[str, ...] = ("qa",)
    # Who signs CAPA states imported from an external eQMS (model/capa_import.py).
    import_roles: tuple[str, ...] = ("qa",)

    def roles_for(self, act: Act, gxp: bool) -> tuple[str, ...]:
        """The roles that may sign `act` for a CAPA (GxP-relevant or not)."""
        if gxp:
            return self.gxp_roles
        return self.close_roles if act is Act.CLOSE else self.verify_roles

    @property
    def roles(self) -> frozenset[str]:
        """Every role this policy names."""
        return frozenset(
            (*self.close_roles, *self.verify_roles, *self.gxp_roles, *self.import_roles)
        )

    def as_dict(self) -> dict[str, list[str]]:
        """As the signing policy holds it."""
        return {
            "close_roles": list(self.close_roles),
            "verify_roles": list(self.verify_roles),
            "gxp_roles": list(self.gxp_roles),
            "import_roles": list(self.import_roles),
        }


@dataclass(frozen=True)
class CapaStatement:
    """One closure or effectiveness verification of one CAPA, by one signer."""

    capa_id: str
    act: Act
    role: str
    signer_name: str
    signer_fingerprint: str
    signed_at: datetime
    # verify only: the day of the check, the criterion it was judged by, what it found.
    checked_on: date | None = None
    criterion: str = ""
    result: Result | None = None
    comment: str = ""

    # The words of the meaning the signer confirmed (model/ceremony.py); "" in a statement
    # made before they were recorded (issue 18), whose bytes stay as they were.
    wording: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (the canonical field set)."""
        data: dict[str, Any] = {
            "schema": SCHEMA,
            "capa_id": self.capa_id,
            "act": str(self.act),
            "role": self.role,
            "signer_name": self.signer_name,
            "signer_fingerprint": self.signer_fingerprint,
            "signed_at": format_utc(self.signed_at),
            "comment": self.comment,
        }
        if self.act is Act.VERIFY:
            data["check"] = {
                "checked_on": self.checked_on.isoformat() if self.checked_on else "",
                "criterion": self.criterion,
                "result": str(self.result or ""),
            }
        return data

    def to_bytes(self) -> bytes:
        """Canonical bytes, as every signed statement."""
        return canonical_json(worded(self.as_dict(), self.wording))

    @classmethod
    def from_bytes(cls, data: bytes) -> CapaStatement:
        """Parse a statement; refuse anything that is not exactly canonical."""
        return parse_canonical(data, SCHEMA, "CAPA statement", cls._build, "capa-statement")

    @classmethod
    def _build(cls, raw: dict[str, Any]) -> CapaStatement:
        act = Act(raw["act"])
        check = raw.get("check") or {}
        verify = act is Act.VERIFY
        return cls(
            capa_id=text_field(raw, "capa_id"),
            act=act,
            role=text_field(raw, "role"),
            signer_name=text_field(raw, "signer_name"),
            signer_fingerprint=text_field(raw, "signer_fingerprint"),
            signed_at=parse_utc(text_field(raw, "signed_at")),
            checked_on=date.fromisoformat(text_field(check, "checked_on")) if verify else None,
            criterion=text_field(check, "criterion") if verify else "",
            result=Result(text_field(check, "result")) if verify else None,
            comment=raw["comment"],
            wording=raw.get("wording", ""),
        )


def statement_refusal(
    statement: CapaStatement,
    gxp: bool,
    policy: CapaPolicy,
    closure: CapaStatement | None,
) -> str:
    """Why a statement cannot count for its CAPA ("" when it can); pure.

    `closure` is the CAPA's closure that counts, if any: a verification needs one, made
    no earlier than the check it records.
    """
    allowed = policy.roles_for(statement.act, gxp)
    if statement.role not in allowed:
        kind = "GxP-relevant CAPA" if gxp else "CAPA"
        return (
            f"the role '{statement.role}' may not {statement.act} a {kind}; "
            f"[tool.qms.capa] names {', '.join(allowed) or 'no role'}"
        )
    if statement.act is Act.CLOSE:
        return ""
    if closure is None:
        return f"{statement.capa_id} is not closed: an effectiveness check follows a closure"
    checked = statement.checked_on
    if checked is None or checked < closure.signed_at.date():
        return (
            f"the effectiveness check is dated {checked}, before the closure on "
            f"{closure.signed_at.date()}"
        )
    if checked > statement.signed_at.date():
        return f"the effectiveness check is dated {checked}, after it was signed"
    return ""


def open_actions(actions: Iterable[tuple[str, date | None]]) -> tuple[str, ...]:
    """The ids of actions (id, done) not done yet: a CAPA is closed only without any."""
    return tuple(action_id for action_id, done in actions if done is None)


def derive_state(
    actions: Iterable[tuple[date | None, date | None]],
    check_due: date | None,
    closed: CapaStatement | None,
    verified: CapaStatement | None,
    on: date,
) -> CapaState:
    """The state of a CAPA on `on`, from its actions' (due, done), its check's due date and
    the closure and verification that count; pure."""
    if verified is not None:
        return (
            CapaState.EFFECTIVE if verified.result is Result.EFFECTIVE else CapaState.NOT_EFFECTIVE
        )
    if closed is not None:
        late = check_due is not None and on > check_due
        return CapaState.CHECK_OVERDUE if late else CapaState.AWAITING_CHECK
    if any(done is None and due is not None and on > due for due, done in actions):
        return CapaState.ACTION_OVERDUE
    return CapaState.OPEN
