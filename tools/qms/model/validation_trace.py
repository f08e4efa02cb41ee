"""User requirements traced to the tests that verify them: the trace and its gaps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from qms.model.findings import Finding, FindingCode
from qms.model.gamp import LEVELS, Level, risk_class, risk_priority
from qms.model.requirement_markers import Check, Marker, MarkerProblem
from qms.model.traceability import Graph, Need
from qms.model.vocabulary import URS

URS_MARKER = FindingCode.URS_MARKER


@dataclass(frozen=True)
class UrsRisk:
    """A user requirement's GAMP 5 assessment: the three judgements, its class and priority."""

    severity: Level
    probability: Level
    detectability: Level

    @property
    def risk_class(self) -> int:
        """1, 2 or 3 (1 the highest): severity against probability."""
        return risk_class(self.severity, self.probability)

    @property
    def priority(self) -> Level:
        """The risk class against detectability; a high one is tested both ways."""
        return risk_priority(self.severity, self.probability, self.detectability)


def urs_risk(need: Need) -> UrsRisk | None:
    """The need's assessment, or None while a judgement is missing or not a level.

    sphinx-needs reports a missing or wrong field at the need's line; nothing is guessed.
    """
    values = [need.text(name) for name in ("severity", "probability", "detectability")]
    if any(value not in LEVELS for value in values):
        return None
    severity, probability, detectability = (Level(value) for value in values)
    return UrsRisk(severity, probability, detectability)


@dataclass(frozen=True)
class UrsItem:
    """One user requirement as the trace needs it: its id, priority and where it is written."""

    id: str
    # None while its assessment is incomplete: then no two-sided test can be asked for.
    priority: Level | None
    path: str
    line: int | None


def urs_items(graph: Graph, locate: Mapping[str, tuple[str, int | None]]) -> tuple[UrsItem, ...]:
    """Every urs need of the graph, by id, located by `locate` (need id -> path, line)."""
    found = []
    for need in graph.of_type(URS):
        risk = urs_risk(need)
        path, line = locate.get(need.id, (need.docname, need.lineno))
        found.append(UrsItem(need.id, risk.priority if risk else None, path, line))
    return tuple(found)


@dataclass(frozen=True)
class MarkedTest:
    """One test that names a requirement, as its marker says."""

    # The module's path relative to the suite ("test_signatures.py"), and pytest's name
    # of the test in it ("test_x" or "TestClass::test_x").
    module: str
    test: str
    check: Check
    path: str
    line: int

    @property
    def node_id(self) -> str:
        """pytest's node id relative to the suite: `test_signatures.py::test_x`."""
        return f"{self.module}::{self.test}"


@dataclass(frozen=True)
class Traced:
    """One user requirement with the tests that verify it, positive and negative."""

    item: UrsItem
    positive: tuple[MarkedTest, ...] = ()
    negative: tuple[MarkedTest, ...] = ()

    @property
    def tests(self) -> tuple[MarkedTest, ...]:
        """Every test of it, positive first."""
        return (*self.positive, *self.negative)

    @property
    def two_sided(self) -> bool:
        """A positive and a negative test, and two different tests at that."""
        distinct = {t.node_id for t in self.tests}
        return bool(self.positive) and bool(self.negative) and len(distinct) >= 2


@dataclass(frozen=True)
class SuiteMarkers:
    """What the OQ suite's modules mark: each marker with its module's suite-relative name."""

    markers: tuple[tuple[str, Marker], ...] = ()
    problems: tuple[MarkerProblem, ...] = ()


@dataclass(frozen=True)
class ValidationTrace:
    """Each user requirement with its tests, and what keeps the trace from being complete."""

    traced: tuple[Traced, ...]
    findings: tuple[Finding, ...]

    def of(self, requirement: str) -> Traced | None:
        """The trace of one requirement id, or None when the handbook holds no such urs."""
        return next((t for t in self.traced if t.item.id == requirement), None)


def _refs(markers: Iterable[tuple[str, Marker]]) -> dict[str, list[MarkedTest]]:
    by_id: dict[str, list[MarkedTest]] = {}
    for module, marker in markers:
        ref = MarkedTest(module, marker.test, marker.check, marker.path, marker.line)
        for requirement in dict.fromkeys(marker.requirements):
            if ref not in by_id.setdefault(requirement, []):
                by_id[requirement].append(ref)
    return by_id


def _gap(traced: Traced) -> Finding | None:
    item = traced.item
    mark = f"@pytest.mark.requirement({item.id!r})"
    if not traced.tests:
        return Finding(
            item.path,
            item.line,
            f"{item.id}: no test of the OQ suite verifies this requirement; mark one with {mark}",
            FindingCode.URS_UNTESTED,
        )
    if item.priority is Level.HIGH and not traced.two_sided:
        if not traced.positive:
            missing = "a positive test (check='positive')"
        elif not traced.negative:
            missing = "a negative test (check='negative')"
        else:
            missing = "a second, different test: one test marked both ways is not two"
        return Finding(
            item.path,
            item.line,
            f"{item.id}: high GAMP priority needs a positive and a negative test; "
            f"it lacks {missing}",
            FindingCode.URS_ONE_SIDED,
        )
    return None


def trace(items: Iterable[UrsItem], suite: SuiteMarkers) -> ValidationTrace:
    """Join requirements and markers; every gap a finding where it is fixed.

    A requirement without a test, or of high priority without a positive and a negative
    test, is reported at its need; a marker naming no requirement, or one that cannot be
    read, at the test's line.
    """
    items = tuple(items)
    refs = _refs(suite.markers)
    traced = tuple(
        Traced(
            item,
            tuple(r for r in refs.get(item.id, ()) if r.check is Check.POSITIVE),
            tuple(r for r in refs.get(item.id, ()) if r.check is Check.NEGATIVE),
        )
        for item in items
    )
    findings = [gap for gap in map(_gap, traced) if gap is not None]
    known = {item.id for item in items}
    for module, marker in suite.markers:
        for requirement in dict.fromkeys(marker.requirements):
            if requirement not in known:
                findings.append(
                    Finding(
                        marker.path,
                        marker.line,
                        f"a requirement marker in {module} names {requirement}, which no "
                        "user requirement of the handbook carries",
                        FindingCode.URS_UNKNOWN,
                    )
                )
    findings += [
        Finding(p.path, p.line, f"unreadable requirement marker: {p.message}", URS_MARKER)
        for p in suite.problems
    ]
    unique = sorted(dict.fromkeys(findings), key=lambda f: f.sort_key)
    return ValidationTrace(traced, tuple(unique))
