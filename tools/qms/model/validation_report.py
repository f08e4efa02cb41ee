"""The validation report's trace matrix: each user requirement, its GAMP priority, the OQ
tests that verified it (positive or negative) and their result."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from qms.model.gamp import Level, risk_priority
from qms.model.oq_results import CaseResult, OqResults, Outcome
from qms.model.traceability import Need

URS = "urs"
UNRATED = "unrated"


class Result:
    """A requirement's result over its tests."""

    PASSED = "passed"
    DEVIATION = "deviation"
    NOT_TESTED = "not tested"


@dataclass(frozen=True)
class TraceRow:
    """One requirement in the matrix."""

    urs_id: str
    title: str
    priority: str  # high, medium, low, or UNRATED when its risk fields are not levels
    tests: tuple[CaseResult, ...]

    @property
    def result(self) -> str:
        """Passed when every test passed; a deviation when one did not; else not tested."""
        if not self.tests:
            return Result.NOT_TESTED
        if all(t.outcome is Outcome.PASSED for t in self.tests):
            return Result.PASSED
        return Result.DEVIATION

    def checks(self) -> frozenset[str]:
        """The kinds of check (positive, negative) its tests made."""
        return frozenset(check for test in self.tests for check in test.checks)


# The need's GAMP judgements, as the urs need type names its fields (model/vocabulary.py).
RISK_FIELDS = ("severity", "probability", "detectability")


def priority_of(need: Need) -> str:
    """The GAMP priority from the need's severity, probability and detectability
    (computed, never a field); at integration, `model/validation_trace.py` `urs_risk`."""
    try:
        levels = [Level(need.text(name)) for name in RISK_FIELDS]
    except ValueError:
        return UNRATED
    return str(risk_priority(*levels))


def trace_rows(needs: Iterable[Need], results: OqResults | None) -> tuple[TraceRow, ...]:
    """The matrix: every `urs` need, in id order, with the cases that name it."""
    cases = results.cases if results is not None else ()
    return tuple(
        TraceRow(
            need.id,
            need.title,
            priority_of(need),
            tuple(case for case in cases if need.id in case.requirements),
        )
        for need in sorted((n for n in needs if n.type == URS), key=lambda n: n.id)
    )
