"""Unit tests of periodic-review dates: overdue, due within the window, and out of it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from qms.model.frontmatter import parse_document
from qms.model.reviews import due_reviews

from .test_frontmatter_model import VALID

DOC = parse_document("x.md", VALID).document  # effective 2026-01-15, every 12 months
assert DOC is not None


def test_overdue_due_and_later_reviews() -> None:
    assert DOC is not None
    later = replace(DOC, id="POL-ACC-002", effective=date(2026, 3, 1))
    undated = replace(DOC, id="POL-ACC-003", effective=None)
    reviews = due_reviews([later, undated, DOC], date(2027, 1, 20), 30)
    assert [(r.id, r.days, r.overdue) for r in reviews.due] == [("POL-ACC-001", -5, True)]
    assert [r.id for r in due_reviews([later, DOC], date(2027, 1, 20), 40).due] == [
        "POL-ACC-001",
        "POL-ACC-002",
    ]
    assert reviews.as_dict()["reviews"] == [
        {"id": "POL-ACC-001", "title": DOC.title, "due": "2027-01-15", "owner": DOC.owner,
         "days": -5, "state": "overdue"}
    ]  # fmt: skip


def test_due_today_is_not_overdue() -> None:
    reviews = due_reviews([DOC] if DOC else [], date(2027, 1, 15), 0)
    assert [(r.days, r.overdue) for r in reviews.due] == [(0, False)]
    assert reviews.overdue == ()
