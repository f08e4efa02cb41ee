"""Unit tests of front-matter parsing and validation (the pure model)."""

from __future__ import annotations

from datetime import date

from qms.model.document import Classification, DocumentType, Version
from qms.model.frontmatter import parse_document

VALID = """\
---
id: POL-ACC-001
title: Access Control Policy
type: policy
version: "2.0"
owner: ISMS Manager
classification: internal
review_months: 12
effective: 2026-01-15
change_reason: Annual review; added MFA for remote access
tags: [gxp, it]
---

## Purpose
"""


def messages(source: str) -> list[tuple[int | None, str]]:
    return [(f.line, f.message) for f in parse_document("x.md", source).findings]


def test_valid_front_matter_builds_a_document() -> None:
    result = parse_document("docs/policies/pol-acc-001.md", VALID)
    assert result.findings == ()
    doc = result.document
    assert doc is not None
    assert doc.id == "POL-ACC-001"
    assert doc.type is DocumentType.POLICY
    assert doc.version == Version(2, 0)
    assert doc.classification is Classification.INTERNAL
    assert doc.effective == date(2026, 1, 15)
    assert doc.tags == ("gxp", "it")
    assert doc.line_of("review_months") == 8


def test_quoted_effective_date_is_accepted() -> None:
    source = VALID.replace("effective: 2026-01-15", 'effective: "2026-01-15"')
    doc = parse_document("x.md", source).document
    assert doc is not None and doc.effective == date(2026, 1, 15)


def test_duplicate_key_is_reported_at_the_second_occurrence() -> None:
    source = VALID.replace("owner: ISMS Manager\n", "owner: ISMS Manager\nowner: QA\n")
    assert messages(source) == [
        (7, "front matter field 'owner' is given twice (first on line 6); keep one")
    ]


def test_boolean_is_not_a_review_interval() -> None:
    source = VALID.replace("review_months: 12", "review_months: true")
    assert messages(source) == [
        (
            8,
            "front matter field 'review_months' has True; "
            "allowed: a whole number of months from 1 to 60",
        )
    ]


def test_front_matter_that_is_a_list_is_rejected() -> None:
    assert messages("---\n- a\n- b\n---\n") == [
        (
            2,
            "front matter must be a mapping of fields, found a list; required: id, title, "
            "type, version, owner, classification, review_months",
        )
    ]


def test_python_object_tags_are_refused_by_the_safe_loader() -> None:
    source = VALID.replace("tags: [gxp, it]", "tags: !!python/object/apply:os.system [ls]")
    result = parse_document("x.md", source)
    assert result.document is None
    assert [f.line for f in result.findings] == [11]
    assert "cannot be read" in result.findings[0].message


def test_empty_title_is_rejected() -> None:
    source = VALID.replace("title: Access Control Policy", 'title: "  "')
    assert messages(source) == [(3, "front matter field 'title' must be non-empty text")]


def test_findings_are_sorted_by_line() -> None:
    source = VALID.replace("type: policy", "type: memo").replace(
        "classification: internal", "classification: secret"
    )
    assert [line for line, _ in messages(source)] == [4, 7]
