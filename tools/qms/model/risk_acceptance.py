"""Risk acceptances (`qms-risk-acceptance/1`), the levels of who may accept what, and lapses.

ISO/IEC 27001 6.1.3 f: a risk owner accepts the residual risk. A signed acceptance is
bound to the risk's id, its current residual likelihood and impact, the register (id
and version) that holds the risk, and a date until which it holds. Who may accept which
score is the signing policy's `risk_acceptance` levels: each level covers scores up to
its bound, and a role of a higher level may accept what a lower level may.

An acceptance lapses when the risk's current score rises above the accepted one, when
its date has passed, or when its signer no longer holds a role the current score's
level allows. All of it is pure: the service judges the signature, these rules the rest.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from qms.model.canonical import canonical_json, parse_canonical, worded
from qms.model.timeutil import format_utc, parse_utc
from qms.model.traceability import RiskRow
from qms.model.vocabulary import SCORE_RANGE

SCHEMA = "qms-risk-acceptance/1"
# In a level's roles: the role the risk's own risk_owner field names.
RISK_OWNER = "risk-owner"
MAX_SCORE = SCORE_RANGE[1] * SCORE_RANGE[1]


@dataclass(frozen=True)
class AcceptanceLevel:
    """Scores up to `up_to` may be accepted by a holder of one of `roles`."""

    up_to: int
    roles: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """As the signing policy holds it."""
        return {"up_to": self.up_to, "roles": list(self.roles)}


@dataclass(frozen=True)
class AcceptancePolicy:
    """The levels, lowest first; the last reaches the highest score."""

    levels: tuple[AcceptanceLevel, ...]
    # Roles that own risks without a level of their own: named so that they may carry a
    # title in [tool.qms.roles], which a risk's risk_owner field names them by.
    owner_roles: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """As the signing policy holds it."""
        data: dict[str, Any] = {"levels": [level.as_dict() for level in self.levels]}
        if self.owner_roles:
            data["owner_roles"] = list(self.owner_roles)
        return data

    @property
    def roles(self) -> tuple[str, ...]:
        """Every registry role the policy names (not the risk-owner placeholder)."""
        named = (r for level in self.levels for r in level.roles if r != RISK_OWNER)
        return tuple(dict.fromkeys([*named, *self.owner_roles]))

    def level_of(self, score: int) -> int:
        """The index of the level a score needs."""
        return next(i for i, level in enumerate(self.levels) if score <= level.up_to)

    def allowed(self, score: int, owner_role: str) -> tuple[str, ...]:
        """Roles that may accept `score`: its level's and every higher level's, with the
        risk-owner placeholder read as `owner_role` (dropped when the owner is no role)."""
        found: list[str] = []
        for level in self.levels[self.level_of(score) :]:
            for role in level.roles:
                role = owner_role if role == RISK_OWNER else role
                if role and role not in found:
                    found.append(role)
        return tuple(found)


def level_problems(levels: Sequence[AcceptanceLevel]) -> str:
    """Why configured levels cannot be used ("" when they can)."""
    bounds = [level.up_to for level in levels]
    if bounds != sorted(set(bounds)):
        return "levels must rise: each up_to higher than the one before"
    if bounds[-1] != MAX_SCORE:
        return f"the last level must reach up_to = {MAX_SCORE}, so that every score has one"
    return ""


# Absent [tool.qms.risk_acceptance], the risk's own owner accepts any score.
DEFAULT_POLICY = AcceptancePolicy((AcceptanceLevel(MAX_SCORE, (RISK_OWNER,)),))


def owner_role(risk_owner: str, role_titles: Mapping[str, str], keys: Collection[str] = ()) -> str:
    """The registry role a risk_owner field names, by title or by key ("" for none)."""
    wanted = " ".join(risk_owner.split()).casefold()
    for key, title in role_titles.items():
        if wanted in (key.casefold(), " ".join(title.split()).casefold()):
            return key
    return next((key for key in keys if key.casefold() == wanted), "")


@dataclass(frozen=True)
class RiskNow:
    """What acceptance needs to know of a risk as the register holds it today."""

    id: str
    likelihood: int
    impact: int
    owner: str
    register_id: str
    register_version: str
    # An acceptance is needed: treatment accept, a current score above the threshold,
    # or an inherent score above it without a mitigating control.
    needs_acceptance: bool
    # The risk's need, for locating findings.
    path: str = ""
    line: int | None = None

    @property
    def score(self) -> int:
        """Current likelihood times impact."""
        return self.likelihood * self.impact


def risk_now(
    row: RiskRow, threshold: int, register: tuple[str, str], where: tuple[str, int | None]
) -> RiskNow:
    """A register row as acceptance sees it; `register` is (document id, version)."""
    likelihood, impact = row.scores("current")
    needs = (
        row.risk.text("treatment") == "accept"
        or row.current > threshold
        or (row.inherent > threshold and not row.controls)
    )
    return RiskNow(
        row.risk.id,
        likelihood or 0,
        impact or 0,
        row.risk.text("risk_owner"),
        register[0],
        register[1],
        needs,
        where[0],
        where[1],
    )


@dataclass(frozen=True)
class Acceptance:
    """A risk owner's signed word that a risk's residual is accepted, at a score, until a day."""

    risk_id: str
    likelihood: int
    impact: int
    register_id: str
    register_version: str
    until: date
    signer_name: str
    signer_fingerprint: str
    signer_role: str
    signed_at: datetime
    comment: str = ""

    # The words of the meaning the signer confirmed (model/ceremony.py); "" in a statement
    # made before they were recorded (issue 18), whose bytes stay as they were.
    wording: str = ""

    @property
    def score(self) -> int:
        """The accepted likelihood times impact."""
        return self.likelihood * self.impact

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (the canonical field set)."""
        return {
            "schema": SCHEMA,
            "risk_id": self.risk_id,
            "likelihood": self.likelihood,
            "impact": self.impact,
            "score": self.score,
            "register": {"document_id": self.register_id, "version": self.register_version},
            "until": self.until.isoformat(),
            "signer_name": self.signer_name,
            "signer_fingerprint": self.signer_fingerprint,
            "signer_role": self.signer_role,
            "signed_at": format_utc(self.signed_at),
            "comment": self.comment,
        }

    def to_bytes(self) -> bytes:
        """Canonical bytes, as every signed statement."""
        return canonical_json(worded(self.as_dict(), self.wording))

    @classmethod
    def from_bytes(cls, data: bytes) -> Acceptance:
        """Parse an acceptance; refuse anything that is not exactly canonical."""
        return parse_canonical(data, SCHEMA, "risk acceptance", cls._parse, "risk-acceptance")

    @classmethod
    def _parse(cls, raw: dict[str, Any]) -> Acceptance:
        acceptance = cls(
            risk_id=raw["risk_id"],
            likelihood=raw["likelihood"],
            impact=raw["impact"],
            register_id=raw["register"]["document_id"],
            register_version=raw["register"]["version"],
            until=date.fromisoformat(raw["until"]),
            signer_name=raw["signer_name"],
            signer_fingerprint=raw["signer_fingerprint"],
            signer_role=raw["signer_role"],
            signed_at=parse_utc(raw["signed_at"]),
            comment=raw["comment"],
            wording=raw.get("wording", ""),
        )
        if raw["score"] != acceptance.score:
            raise ValueError(f"score {raw['score']} is not likelihood times impact")
        return acceptance


class Lapse(StrEnum):
    """Why an acceptance that was valid when signed no longer holds."""

    SCORE = "score"
    EXPIRED = "expired"
    ROLE = "role"


def signing_refusal(
    acceptance: Acceptance, risk: RiskNow | None, policy: AcceptancePolicy, owner: str
) -> str:
    """Why `acceptance` cannot be made or counted for `risk` ("" when it can); `owner` is
    the registry role the risk's owner field names."""
    if risk is None:
        return f"{acceptance.risk_id} is not a risk of this handbook"
    if not acceptance.score:
        return f"{risk.id} has no current residual likelihood and impact to accept"
    if acceptance.until <= acceptance.signed_at.date():
        return f"the acceptance would hold until {acceptance.until}, which is not after today"
    allowed = policy.allowed(acceptance.score, owner)
    if acceptance.signer_role not in allowed:
        return (
            f"the role '{acceptance.signer_role}' may not accept a score of {acceptance.score}; "
            f"that needs {_roles(allowed)}"
        )
    return ""


def lapse(
    acceptance: Acceptance,
    risk: RiskNow,
    policy: AcceptancePolicy,
    owner: str,
    roles_now: tuple[str, ...] | None,
    on: date,
) -> tuple[Lapse | None, str]:
    """(why the acceptance lapsed, in words) on `on`; (None, "") while it holds.

    `roles_now` are the roles its signer holds in the registry today (None: no longer
    registered).
    """
    if risk.score > acceptance.score:
        return Lapse.SCORE, (
            f"the current score {risk.score} is above the accepted {acceptance.score} "
            f"({acceptance.signer_name}, {format_utc(acceptance.signed_at)}); accept it again"
        )
    if on > acceptance.until:
        return Lapse.EXPIRED, (
            f"the acceptance by {acceptance.signer_name} expired on {acceptance.until}; "
            "review the risk and accept it again"
        )
    allowed = policy.allowed(risk.score, owner)
    if roles_now is None or acceptance.signer_role not in roles_now:
        return Lapse.ROLE, (
            f"{acceptance.signer_name} no longer holds the role '{acceptance.signer_role}' "
            f"that accepted it; {_roles(allowed)} accepts it again"
        )
    if acceptance.signer_role not in allowed:
        return Lapse.ROLE, (
            f"the role '{acceptance.signer_role}' of {acceptance.signer_name} no longer "
            f"allows a score of {risk.score}; {_roles(allowed)} accepts it again"
        )
    return None, ""


def _roles(roles: Sequence[str]) -> str:
    if not roles:
        return "a role no signer can hold (see [tool.qms.risk_acceptance])"
    return "a holder of " + " or ".join(f"'{r}'" for r in roles)
