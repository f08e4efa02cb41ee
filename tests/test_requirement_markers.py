"""Requirement markers read from test source, and the GAMP priority of a requirement."""

from __future__ import annotations

import pytest

from qms.model.gamp import Level, risk_class, risk_priority
from qms.model.requirement_markers import Check, markers_in

SOURCE = """
import pytest
from pytest import mark

pytestmark = pytest.mark.requirement("URS-AUD-001")

@pytest.mark.requirement("URS-SIG-001", "URS-SIG-002", check="negative")
def test_altered():
    pass

class TestRelease:
    @mark.requirement("URS-REL-001")
    def test_effective_only(self):
        pass

def helper():
    pass
"""


def test_markers_carry_ids_check_test_and_line() -> None:
    found = markers_in(SOURCE, "oq/test_x.py")
    assert found.problems == ()
    by_test = {(m.test, m.requirements): m for m in found.markers}
    altered = by_test[("test_altered", ("URS-SIG-001", "URS-SIG-002"))]
    assert altered.check is Check.NEGATIVE and altered.line == 7
    assert by_test[("TestRelease::test_effective_only", ("URS-REL-001",))].line == 12
    # The module's pytestmark reaches every test, the helper none.
    assert {m.test for m in found.markers if m.requirements == ("URS-AUD-001",)} == {
        "test_altered",
        "TestRelease::test_effective_only",
    }


@pytest.mark.parametrize(
    ("decorator", "message"),
    [
        ("@pytest.mark.requirement(NAME)", "literal strings"),
        ("@pytest.mark.requirement()", "at least one"),
        ('@pytest.mark.requirement("URS-X-001", check="maybe")', "check='positive'"),
    ],
)
def test_unreadable_markers_are_located(decorator: str, message: str) -> None:
    found = markers_in(f"import pytest\n\n{decorator}\ndef test_a():\n    pass\n", "t.py")
    assert found.markers == ()
    assert [(p.line, message in p.message) for p in found.problems] == [(3, True)]


def test_a_module_that_is_not_python_is_one_problem() -> None:
    found = markers_in("def test_a(:\n", "broken.py")
    assert found.markers == () and found.problems[0].line == 1


def test_gamp_priority_follows_class_and_detectability() -> None:
    assert risk_class(Level.HIGH, Level.LOW) == 2
    assert risk_priority(Level.HIGH, Level.HIGH, Level.LOW) is Level.HIGH
    assert risk_priority(Level.HIGH, Level.HIGH, Level.HIGH) is Level.MEDIUM
    assert risk_priority(Level.LOW, Level.LOW, Level.HIGH) is Level.LOW
    assert risk_priority(Level.MEDIUM, Level.LOW, Level.LOW) is Level.MEDIUM
