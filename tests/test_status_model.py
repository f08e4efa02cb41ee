"""Unit tests of status derivation and review dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from qms.model.frontmatter import parse_document
from qms.model.status import Evidence, Status, add_months, derive_status, next_review

from .test_frontmatter_model import VALID

REQUIRED = ("authored", "reviewed", "approved")
DOC = parse_document("x.md", VALID).document
assert DOC is not None


def status(evidence: Evidence, today: date = date(2026, 6, 1)) -> Status:
    assert DOC is not None
    return derive_status(DOC, evidence, REQUIRED, today).status


def test_no_signatures_is_draft() -> None:
    assert status(Evidence()) is Status.DRAFT


def test_some_signatures_is_in_review() -> None:
    assert status(Evidence(meanings=frozenset({"authored"}))) is Status.IN_REVIEW


def test_all_signatures_before_effective_date_is_approved() -> None:
    evidence = Evidence(meanings=frozenset(REQUIRED))
    assert status(evidence, today=date(2026, 1, 14)) is Status.APPROVED
    assert status(evidence, today=date(2026, 1, 15)) is Status.EFFECTIVE


def test_signed_other_content_is_not_approved() -> None:
    assert status(Evidence(stale=True)) is Status.NOT_APPROVED


def test_retired_and_superseded_win_over_signatures() -> None:
    signed = frozenset(REQUIRED)
    assert status(Evidence(meanings=signed, superseded=True)) is Status.SUPERSEDED
    assert status(Evidence(meanings=signed, retired=True)) is Status.RETIRED


def test_approved_without_effective_date_stays_approved() -> None:
    assert DOC is not None
    undated = replace(DOC, effective=None)
    derived = derive_status(undated, Evidence(meanings=frozenset(REQUIRED)), REQUIRED, date.today())
    assert derived.status is Status.APPROVED


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 15), 12, date(2027, 1, 15)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 5, 31), 24, date(2028, 5, 31)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_next_review_is_effective_plus_interval() -> None:
    assert DOC is not None
    assert next_review(DOC) == date(2027, 1, 15)
    assert next_review(replace(DOC, effective=None)) is None
