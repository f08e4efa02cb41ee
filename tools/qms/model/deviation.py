"""Deviations of the OQ and their signed dispositions (`qms-deviation/1`).

Every test case of the OQ results that failed, errored or was skipped is a deviation.
QA disposes of it with a signed statement bound to the results file's SHA-256 and the
test's node id: `accepted` (the deviation does not affect the intended use, with the
reason) or `corrected` (the cause was corrected, the reason naming how). A disposition
of other results, or of a test that passed, answers for nothing; whether a deviation is
disposed of is derived from verified dispositions only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from qms.model.canonical import canonical_json, parse_canonical
from qms.model.oq_results import CaseResult, OqResults
from qms.model.timeutil import format_utc, parse_utc

SCHEMA = "qms-deviation/1"
# Who disposes of a deviation: the Head of QA, as for a GxP CAPA (EU GMP Annex 11 §4.5:
# deviations in validation are recorded and assessed by the quality unit).
DISPOSITION_ROLE = "qa"


class Decision(StrEnum):
    """What QA decided of one deviation."""

    ACCEPTED = "accepted"
    CORRECTED = "corrected"


@dataclass(frozen=True)
class Disposition:
    """QA's signed disposition of one deviation of one OQ results file."""

    test_id: str
    results_sha256: str
    outcome: str  # the deviation as recorded: failed, error or skipped
    decision: Decision
    reason: str
    signer_name: str
    signer_fingerprint: str
    signer_role: str
    signed_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (the canonical field set)."""
        return {
            "schema": SCHEMA,
            "test_id": self.test_id,
            "results_sha256": self.results_sha256,
            "outcome": self.outcome,
            "decision": str(self.decision),
            "reason": self.reason,
            "signer_name": self.signer_name,
            "signer_fingerprint": self.signer_fingerprint,
            "signer_role": self.signer_role,
            "signed_at": format_utc(self.signed_at),
        }

    def to_bytes(self) -> bytes:
        """Canonical bytes, as every signed statement."""
        return canonical_json(self.as_dict())

    @classmethod
    def from_bytes(cls, data: bytes) -> Disposition:
        """Parse a disposition; refuse anything that is not exactly canonical."""
        return parse_canonical(data, SCHEMA, "deviation disposition", cls._parse, "deviation")

    @classmethod
    def _parse(cls, raw: dict[str, Any]) -> Disposition:
        return cls(
            test_id=raw["test_id"],
            results_sha256=raw["results_sha256"],
            outcome=raw["outcome"],
            decision=Decision(raw["decision"]),
            reason=raw["reason"],
            signer_name=raw["signer_name"],
            signer_fingerprint=raw["signer_fingerprint"],
            signer_role=raw["signer_role"],
            signed_at=parse_utc(raw["signed_at"]),
        )

    def answers_for(self, results: OqResults, case: CaseResult) -> bool:
        """Whether this disposition is of `case` in exactly these results."""
        return (
            self.results_sha256 == results.sha256
            and self.test_id == case.test_id
            and self.outcome == str(case.outcome)
        )


def disposition_refusal(results: OqResults, test_id: str, reason: str) -> str:
    """Why a disposition of `test_id` cannot be signed ("" when it can)."""
    if not reason.strip():
        return "a disposition gives its reason (--reason)"
    case = results.case(test_id)
    if case is None:
        return f"the OQ results hold no test {test_id}"
    if not case.outcome.deviation:
        return f"{test_id} passed: there is no deviation to dispose of"
    return ""


@dataclass(frozen=True)
class Deviation:
    """One deviation and the verified disposition that answers for it, if any."""

    case: CaseResult
    disposition: Disposition | None

    @property
    def disposed(self) -> bool:
        """Whether a verified disposition answers for it."""
        return self.disposition is not None


def deviations(results: OqResults, valid: Iterable[Disposition]) -> tuple[Deviation, ...]:
    """Each deviation of `results` with the latest verified disposition of it."""
    counted = sorted(valid, key=lambda d: d.signed_at)
    return tuple(
        Deviation(
            case,
            next((d for d in reversed(counted) if d.answers_for(results, case)), None),
        )
        for case in results.deviations
    )
