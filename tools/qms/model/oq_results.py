"""OQ results: the JUnit XML `qms validate oq` writes, read into test cases and their outcomes.

Each test case carries the pytest node id (property `nodeid`, which the OQ runner adds)
and the requirements it verifies (properties `requirement` and `check`, which the OQ
suite's conftest records from `@pytest.mark.requirement`). A case that did not pass
(failed, error or skipped) is a deviation, which QA disposes of with a signed statement
(`model/deviation.py`).
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from enum import StrEnum

# A results file is written by pytest; anything much larger is not one.
MAX_BYTES = 32 * 1024 * 1024


class Outcome(StrEnum):
    """What happened to one test case."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"

    @property
    def deviation(self) -> bool:
        """Whether the case needs a signed disposition."""
        return self is not Outcome.PASSED


@dataclass(frozen=True)
class CaseResult:
    """One test case of an OQ run."""

    test_id: str  # the pytest node id, e.g. "test_signatures.py::test_altered_content"
    outcome: Outcome
    message: str
    requirements: tuple[str, ...]
    checks: tuple[str, ...]  # "positive" / "negative", as recorded
    time: float = 0.0


@dataclass(frozen=True)
class OqResults:
    """Every test case of one JUnit file, and the file's SHA-256."""

    sha256: str
    cases: tuple[CaseResult, ...]

    def count(self, outcome: Outcome) -> int:
        """How many cases ended with `outcome`."""
        return sum(1 for case in self.cases if case.outcome is outcome)

    @property
    def deviations(self) -> tuple[CaseResult, ...]:
        """The cases that did not pass, in file order."""
        return tuple(case for case in self.cases if case.outcome.deviation)

    def case(self, test_id: str) -> CaseResult | None:
        """The case with node id `test_id`."""
        return next((c for c in self.cases if c.test_id == test_id), None)

    def summary(self) -> str:
        """'40 passed, 1 failed, 0 errors, 2 skipped'."""
        return (
            f"{self.count(Outcome.PASSED)} passed, {self.count(Outcome.FAILED)} failed, "
            f"{self.count(Outcome.ERROR)} errors, {self.count(Outcome.SKIPPED)} skipped"
        )


class ResultsError(ValueError):
    """A file that is not a readable JUnit XML results file."""


def parse_junit(data: bytes) -> OqResults:
    """Read a JUnit XML results file; ResultsError for anything else.

    A DOCTYPE is refused before parsing: pytest never writes one, and entity
    declarations are the way XML bombs in.
    """
    if len(data) > MAX_BYTES:
        raise ResultsError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ResultsError("holds a DOCTYPE or entity declaration, which JUnit XML never does")
    try:
        root = ET.fromstring(data)  # noqa: S314 (no DOCTYPE, so no entities: see above)
    except ET.ParseError as exc:
        raise ResultsError(f"not XML: {exc}") from exc
    if root.tag not in ("testsuites", "testsuite"):
        raise ResultsError(f"the root element is <{root.tag}>, not <testsuites>")
    cases = tuple(_case(element) for element in root.iter("testcase"))
    return OqResults(hashlib.sha256(data).hexdigest(), cases)


def _case(element: ET.Element) -> CaseResult:
    properties = [(p.get("name", ""), p.get("value", "")) for p in element.iter("property")]
    named = [value for name, value in properties if name == "nodeid"]
    classname, name = element.get("classname", ""), element.get("name", "")
    test_id = named[0] if named else f"{classname}::{name}" if classname else name
    outcome, message = Outcome.PASSED, ""
    for child in element:
        kind = {
            "failure": Outcome.FAILED,
            "error": Outcome.ERROR,
            "skipped": Outcome.SKIPPED,
        }.get(child.tag)
        if kind is not None:
            outcome = kind if outcome is Outcome.PASSED else outcome
            message = message or " ".join((child.get("message") or child.text or "").split())
    try:
        time = float(element.get("time", "0") or 0)
    except ValueError:
        time = 0.0
    return CaseResult(
        test_id=test_id,
        outcome=outcome,
        message=message[:500],
        requirements=tuple(dict.fromkeys(v for n, v in properties if n == "requirement")),
        checks=tuple(dict.fromkeys(v for n, v in properties if n == "check")),
        time=time,
    )
