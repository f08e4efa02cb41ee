"""Unit tests of front-matter parsing and validation (the pure model)."""

from __future__ import annotations

from datetime import date

import pytest

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


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("title: !!bool maybe", "front matter field 'title' cannot be read: 'maybe'"),
        ("title: !!timestamp foo", "front matter field 'title' cannot be read: "),
        ("[a, b]: x", "a front matter field name must be plain text, like 'owner'"),
        ("title: bell\x07here", "front matter holds a character YAML does not allow"),
        (
            'title: "A \\ud800 B"',
            "front matter is not valid YAML: a \\u escape of a lone surrogate",
        ),
        ("title: " + "[" * 5000 + "]" * 5000, "front matter is not valid YAML: nested deeper than"),
        (
            "title: " + "9" * 5000,
            "front matter field 'title' cannot be read: a number of more than 4,300 digits",
        ),
        ("title: nul\x00here", "front matter holds a character YAML does not allow"),
    ],
)
def test_hostile_yaml_is_a_finding_not_a_crash(line: str, expected: str) -> None:
    source = VALID.replace("title: Access Control Policy", line)
    result = parse_document("x.md", source)
    assert result.document is None
    assert [f.line for f in result.findings][:1] == [3]
    assert result.findings[0].message.startswith(expected)


def test_timestamp_errors_get_the_date_hint_and_others_do_not() -> None:
    source = VALID.replace("effective: 2026-01-15", "effective: 2026-13-01")
    assert messages(source)[0][1].endswith("; write a real date")
    source = VALID.replace("title: Access Control Policy", "title: !!bool maybe")
    assert "date" not in messages(source)[0][1]


def test_version_hint_quotes_what_the_author_wrote() -> None:
    source = VALID.replace('version: "2.0"', "version: 1.10")
    assert messages(source) == [
        (
            5,
            "front matter field 'version' must be quoted text like \"1.10\"; YAML reads an "
            "unquoted number, which loses trailing zeros",
        )
    ]


def test_byte_order_mark_and_crlf_are_accepted() -> None:
    source = "\ufeff" + VALID.replace("\n", "\r\n")
    result = parse_document("x.md", source)
    assert result.findings == ()
    assert result.document is not None and result.document.line_of("owner") == 6


def test_unicode_line_separators_do_not_shift_lines() -> None:
    source = VALID.replace("owner: ISMS Manager", "owner: ISMS Manager \u2028 team").replace(
        "classification: internal", "classification: secret"
    )
    assert [line for line, _ in messages(source)] == [7]


def test_risk_owners_is_a_list_of_registry_roles_each_once() -> None:
    named = VALID.replace("tags: [gxp, it]", "tags: [gxp, it]\nrisk_owners: [site-head, cio]")
    doc = parse_document("x.md", named).document
    assert doc is not None
    assert (doc.risk_owners, doc.line_of("risk_owners")) == (("site-head", "cio"), 12)
    shape = (
        "front matter field 'risk_owners' must be a list of registry roles, each once, like "
        "[site-head, cio]"
    )
    for wrong in ("[Site Head Cork]", "[cio, cio]", "cio"):
        source = VALID.replace("tags: [gxp, it]", f"tags: [gxp, it]\nrisk_owners: {wrong}")
        assert messages(source) == [(12, shape)], wrong
