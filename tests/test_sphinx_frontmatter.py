"""Front-matter problems surface as Sphinx warnings located at file:line (test-root)."""

from __future__ import annotations

import pytest
from sphinx.testing.util import SphinxTestApp

from .sphinx_helpers import page, warnings

pytestmark = pytest.mark.sphinx("html", testroot="frontmatter", freshenv=True)

RAW = (
    "WARNING: raw HTML is not allowed in the handbook (it would reach readers unescaped); "
    "write it in Markdown, or escape '<' as '\\<' [qms.raw-html]"
)
EXPECTED = [
    "dup-b.md:2: WARNING: duplicate document id 'POL-DUP-001': already used by dup-a.md:2; "
    "ids are never reused, choose the next free one [qms.duplicate-id]",
    "malformed-id.md:2: WARNING: front matter field 'id' has 'pol-acc-1'; an id is upper-case "
    "letters and digits in dash-separated parts, like POL-ACC-001 [qms.frontmatter]",
    "missing-field.md:8: WARNING: front matter is missing required field 'owner' [qms.frontmatter]",
    "no-front-matter.md:1: WARNING: missing front matter: a controlled document starts with a "
    "'---' block holding id, title, type, version, owner, classification, review_months "
    "[qms.frontmatter]",
    "unclosed.md:1: WARNING: front matter opened with '---' on line 1 is never closed "
    "[qms.frontmatter]",
    "unknown-field.md:9: WARNING: front matter field 'status' is not allowed: it is derived "
    "from verified signatures, never typed; remove the line [qms.frontmatter]",
    "unknown-field.md:10: WARNING: unknown front matter field 'reviewer'; allowed: id, title, "
    "type, version, owner, classification, review_months, effective, change_reason, tags, "
    "risk_owners [qms.frontmatter]",
    "wrong-type.md:5: WARNING: front matter field 'version' must be quoted text like \"2.0\"; "
    "YAML reads an unquoted number, which loses trailing zeros [qms.frontmatter]",
    "wrong-type.md:8: WARNING: front matter field 'review_months' has 'twelve'; allowed: a "
    "whole number of months from 1 to 60 [qms.frontmatter]",
    "wrong-type.md:9: WARNING: front matter field 'effective' cannot be read: month must be "
    "in 1..12; write a real date [qms.frontmatter]",
    "wrong-value.md:4: WARNING: front matter field 'type' has 'memo'; allowed: policy, "
    "procedure, standard, work-instruction, form, plan, register, record, validation "
    "[qms.frontmatter]",
    "wrong-value.md:5: WARNING: front matter field 'version' has '1.0.3'; allowed: MAJOR.MINOR "
    'as quoted text, like "1.0" [qms.frontmatter]',
    "wrong-value.md:7: WARNING: front matter field 'classification' has 'secret'; allowed: "
    "public, internal, confidential, restricted [qms.frontmatter]",
    "wrong-value.md:8: WARNING: front matter field 'review_months' has 120; allowed: a whole "
    "number of months from 1 to 60 [qms.frontmatter]",
    "yaml-error.md:5: WARNING: front matter is not valid YAML: expected <block end>, but found "
    "'<scalar>' (while parsing a block mapping on line 2) [qms.frontmatter]",
    # Inline <b>...</b> is two raw tags; the <script> block is one more.
    f"raw-html.md:11: {RAW}",
    f"raw-html.md:11: {RAW}",
    f"raw-html.md:13: {RAW}",
]


def test_each_bad_input_is_one_located_warning(app: SphinxTestApp) -> None:
    app.build()
    assert sorted(warnings(app, "qms.")) == sorted(EXPECTED)


def test_raw_html_never_reaches_the_page(app: SphinxTestApp) -> None:
    app.build()
    html = page(app, "raw-html")
    assert 'alert("approved")' not in html and "<b>bold</b>" not in html
    assert "Inline" in html


def test_valid_document_is_not_reported(app: SphinxTestApp) -> None:
    app.build()
    assert not [line for line in warnings(app) if line.startswith("valid.md")]


def test_invalid_document_page_says_it_is_not_a_controlled_copy(app: SphinxTestApp) -> None:
    app.build()
    assert "INVALID FRONT MATTER" in page(app, "wrong-value")
    assert "INVALID FRONT MATTER" not in page(app, "valid")
