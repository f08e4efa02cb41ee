"""The pure CAPA rules: statements in one byte form, who may sign, and the derived state."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from qms.model.canonical import StatementError
from qms.model.capa import (
    Act,
    CapaPolicy,
    CapaState,
    CapaStatement,
    Result,
    derive_state,
    statement_refusal,
)

AT = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
CLOSURE = CapaStatement("CAPA-2026-0031", Act.CLOSE, "qa", "Sarah", "F" * 40, AT)


def verification(checked: date, result: Result = Result.EFFECTIVE) -> CapaStatement:
    return CapaStatement(
        "CAPA-2026-0031", Act.VERIFY, "qa", "Sarah", "F" * 40, datetime(2026, 12, 1, tzinfo=UTC),
        checked_on=checked, criterion="four reviews on time", result=result,
    )  # fmt: skip


def test_a_statement_reads_back_only_in_its_canonical_bytes() -> None:
    for statement in (CLOSURE, verification(date(2026, 11, 30))):
        data = statement.to_bytes()
        assert CapaStatement.from_bytes(data) == statement
        with pytest.raises(StatementError, match="canonical"):
            CapaStatement.from_bytes(data.replace(b",", b", ", 1))
    with pytest.raises(StatementError, match="a verification, and only it, records its check"):
        CapaStatement.from_bytes(CLOSURE.to_bytes().replace(b'"close"', b'"verify"'))


def test_only_the_configured_roles_sign_and_a_check_follows_the_closure() -> None:
    policy = CapaPolicy(("isms-manager",), ("isms-manager",), ("qa",))
    assert statement_refusal(CLOSURE, True, policy, None) == ""
    assert "may not close a CAPA; [tool.qms.capa] names isms-manager" in statement_refusal(
        CLOSURE, False, policy, None
    )
    assert "is not closed" in statement_refusal(verification(date(2026, 8, 1)), True, policy, None)
    early = statement_refusal(verification(date(2026, 6, 30)), True, policy, CLOSURE)
    assert early == "the effectiveness check is dated 2026-06-30, before the closure on 2026-07-01"
    late = statement_refusal(verification(date(2026, 12, 2)), True, policy, CLOSURE)
    assert late == "the effectiveness check is dated 2026-12-02, after it was signed"
    assert statement_refusal(verification(date(2026, 7, 1)), True, policy, CLOSURE) == ""


def test_the_state_is_derived_from_dates_and_what_counts() -> None:
    due, done = date(2026, 6, 30), date(2026, 6, 15)
    check = date(2026, 12, 31)
    on = date(2026, 7, 15)
    assert derive_state([(due, None)], check, None, None, due) is CapaState.OPEN
    assert derive_state([(due, None)], check, None, None, on) is CapaState.ACTION_OVERDUE
    assert derive_state([(due, done)], check, None, None, on) is CapaState.OPEN
    assert derive_state([(due, done)], check, CLOSURE, None, on) is CapaState.AWAITING_CHECK
    assert derive_state([(due, done)], check, CLOSURE, None, date(2027, 1, 1)) is (
        CapaState.CHECK_OVERDUE
    )
    checked = verification(date(2026, 12, 1))
    assert derive_state([], check, CLOSURE, checked, on) is CapaState.EFFECTIVE
    failed = verification(date(2026, 12, 1), Result.NOT_EFFECTIVE)
    assert derive_state([], check, CLOSURE, failed, on) is CapaState.NOT_EFFECTIVE
    assert {s for s in CapaState if s.overdue} == {
        CapaState.ACTION_OVERDUE,
        CapaState.CHECK_OVERDUE,
    }
