"""The traceability model in sphinx-needs: field values and link types are validated."""

from __future__ import annotations

import pytest
from sphinx.testing.util import SphinxTestApp

from .sphinx_helpers import warnings

FIELD_WARNINGS = {
    "model.md:29: WARNING: need CTL-ACC-002: field 'applicable': \"maybe\" is not one of "
    '"yes" or "no"; allowed: yes, no [qms.need-field]',
    "model.md:29: WARNING: need CTL-ACC-002: field 'implementation': \"done\" is not one of "
    '"implemented", "partial" or 2 other candidates; allowed: implemented, partial, planned, '
    "not-started [qms.need-field]",
    "model.md:51: WARNING: need RSK-002: field 'likelihood': 7 is greater than the maximum of "
    "5; allowed: a whole number from 1 to 5 [qms.need-field]",
    "model.md:51: WARNING: need RSK-002: field 'impact': 0 is less than the minimum of 1; "
    "allowed: a whole number from 1 to 5 [qms.need-field]",
    "model.md:51: WARNING: need RSK-002: field 'treatment': \"ignore\" is not one of "
    '"mitigate", "accept" or 2 other candidates; allowed: mitigate, accept, transfer, avoid '
    "[qms.need-field]",
    *(
        f"model.md:51: WARNING: need RSK-002: a risk is assessed before and after treatment "
        f'and has an owner: "{field}" is a required property [qms.need-field]'
        for field in (
            "asset",
            "threat",
            "vulnerability",
            "residual_likelihood",
            "residual_impact",
            "risk_owner",
        )
    ),
    "model.md:82: WARNING: need CTL-ACC-003: an excluded control needs a justification: "
    '"justification" is a required property [qms.need-field]',
    "model.md:88: WARNING: need GDPR-ART-99: a requirement names its framework: "
    '"framework" is a required property [qms.need-field]',
}


@pytest.mark.sphinx("html", testroot="needs", freshenv=True)
def test_field_values_are_validated_at_the_need(app: SphinxTestApp) -> None:
    app.build()
    assert set(warnings(app, "qms.need-field")) == FIELD_WARNINGS


@pytest.mark.sphinx("html", testroot="needs", freshenv=True)
def test_schema_violations_are_not_also_reported_unlocated(app: SphinxTestApp) -> None:
    app.build()
    assert not [line for line in warnings(app) if "schema violations" in line]


@pytest.mark.sphinx("html", testroot="needs", freshenv=True)
def test_links_of_the_wrong_type_and_dangling_links_are_located(app: SphinxTestApp) -> None:
    app.build()
    links = warnings(app, "needs.link_")
    assert sorted(line.split(": WARNING")[0] for line in links) == [
        "model.md:29",
        "model.md:29",
        "model.md:65",
    ]
    joined = "\n".join(links)
    assert "'CTL-ACC-002' link 'RSK-001' in field 'implements'" in joined
    assert "unknown outgoing link 'ISO27001-A-9-99'" in joined
    assert "'PRC-ACC-002' link 'RSK-001'" in joined


@pytest.mark.sphinx("html", testroot="needs", freshenv=True)
def test_need_ids_follow_the_id_pattern(app: SphinxTestApp) -> None:
    app.build()
    [line] = warnings(app, "needs.create_need")
    assert line.startswith(
        "model.md:77: WARNING: Need could not be created: Given ID 'evd_lower_1'"
    )


@pytest.mark.sphinx("html", testroot="needs", freshenv=True)
def test_valid_needs_raise_nothing(app: SphinxTestApp) -> None:
    app.build()
    quiet = ("CTL-ACC-001", "RSK-001", "PRC-ACC-001", "EVD-ACC-001", "ISO27001-A-5-15")
    for line in warnings(app):
        assert not any(f"Need '{need}'" in line or f"need {need}:" in line for need in quiet), line


@pytest.mark.sphinx("html", testroot="needs", freshenv=True)
def test_incremental_build_validates_reread_pages_and_repeats_the_rest(
    app: SphinxTestApp,
) -> None:
    app.build()
    app.cleanup()
    index = app.srcdir / "index.md"
    index.write_text(
        index.read_text(encoding="utf-8")
        + "\n```{requirement} Added without a framework\n:id: GDPR-ART-98\n```\n",
        encoding="utf-8",
    )
    again = SphinxTestApp("html", srcdir=app.srcdir, builddir=app.outdir.parent)
    try:
        again.build()
        found = set(warnings(again, "qms.need-field"))
        status = again.status.getvalue()
    finally:
        again.cleanup()
    # model.md was not re-read, yet its violations are reported again; the new page's too.
    assert found == FIELD_WARNINGS | {
        "index.md:7: WARNING: need GDPR-ART-98: a requirement names its framework: "
        '"framework" is a required property [qms.need-field]'
    }
    assert "0 added, 1 changed, 0 removed" in status


@pytest.mark.sphinx("html", testroot="needs", freshenv=True)
def test_a_need_moved_to_a_page_read_earlier_is_found_once(app: SphinxTestApp) -> None:
    app.build()
    app.cleanup()
    model, index = app.srcdir / "model.md", app.srcdir / "index.md"
    text = model.read_text(encoding="utf-8")
    start = text.index("```{procedure} Quarterly access review")
    block = text[start : text.index("```\n", start + 3) + 4]
    # index.md is read before model.md; both changed, so both are read again.
    model.write_text(text.replace(block, ""), encoding="utf-8")
    index.write_text(index.read_text(encoding="utf-8") + "\n" + block, encoding="utf-8")
    again = SphinxTestApp("html", srcdir=app.srcdir, builddir=app.outdir.parent)
    try:
        again.build()
        found = warnings(again)
        status = again.status.getvalue()
    finally:
        again.cleanup()
    assert "0 added, 2 changed, 0 removed" in status
    assert not [line for line in found if "already exists" in line], found
    assert 'id="PRC-ACC-001"' in (again.outdir / "index.html").read_text(encoding="utf-8")
