"""Document ids in prose link to their documents; unknown ones are located warnings."""

from __future__ import annotations

import re

import pytest
from sphinx.testing.util import SphinxTestApp

from .sphinx_helpers import page, warnings

RELEASE = {
    "name": "2026-12",
    "title": "Staff handbook",
    "date": "2026-12-01",
    "exclude": ["policies/pol-acc-001.md"],
}


def links(html: str) -> list[tuple[str, str]]:
    """(href, text) of every id the build turned into a link."""
    return re.findall(
        r'<a class="qms-docref reference internal" href="([^"]*)"[^>]*>([^<]*)</a>', html
    )


@pytest.mark.sphinx("html", testroot="docrefs", freshenv=True)
def test_ids_in_prose_link_relatively_and_unknown_ones_warn_at_their_line(
    app: SphinxTestApp,
) -> None:
    app.build()
    assert warnings(app, "qms") == [
        "procedures/sop-acc-001.md:15: WARNING: SOP-ACC-000 is not the id of any document: "
        "correct it, or write it as code (`SOP-ACC-000`) if it is not meant as a reference "
        "[qms.docref]",
        "procedures/sop-acc-001.md:20: WARNING: SOP-ACC-009 is not the id of any document: "
        "correct it, or write it as code (`SOP-ACC-009`) if it is not meant as a reference "
        "[qms.docref]",
    ]
    html = page(app, "procedures/sop-acc-001")
    # Prose and a table cell link (also inside emphasis); the heading does not.
    assert links(html) == [
        ("../policies/pol-acc-001.html", "POL-ACC-001"),
        ("../policies/pol-acc-001.html", "POL-ACC-001"),
    ]
    assert 'title="Access Control Policy"' in html
    assert "Related to POL-ACC-001" in html
    # Code, code blocks and need ids are left alone; unknown ids stay plain text.
    assert (
        '<code class="docutils literal notranslate"><span class="pre">POL-ACC-001</span></code>'
        in html
    )
    assert "POL-ACC-001 in a code block" in html
    assert "CTL-ACC-001" in html and "ISO27001-A-5-15" in html
    assert "SOP-ACC-000" in html and 'href="SOP-ACC-000' not in html
    # A page's own id is not a link to itself; site pages link too.
    policy = page(app, "policies/pol-acc-001")
    assert links(policy) == [("../procedures/sop-acc-001.html", "SOP-ACC-001")]
    assert links(page(app, "index")) == [("policies/pol-acc-001.html", "POL-ACC-001")]


@pytest.mark.sphinx("html", testroot="docrefs", freshenv=True, srcdir="docrefs-release",
                    confoverrides={"qms_release": RELEASE})  # fmt: skip
def test_a_release_writes_ids_outside_its_set_as_plain_text(app: SphinxTestApp) -> None:
    app.build()
    assert warnings(app, "qms.docref") == []
    html = page(app, "procedures/sop-acc-001")
    assert links(html) == []
    assert "implements POL-ACC-001 and" in html
    assert links(page(app, "index")) == []


@pytest.mark.sphinx("html", testroot="docrefs", freshenv=True, srcdir="docrefs-added")
def test_adding_the_missing_document_links_it_in_the_next_build(app: SphinxTestApp) -> None:
    app.build()
    source = (app.srcdir / "procedures" / "sop-acc-001.md").read_text(encoding="utf-8")
    (app.srcdir / "procedures" / "sop-acc-009.md").write_text(
        source.replace("SOP-ACC-001", "SOP-ACC-009").split("## Related")[0] + "## Text\n\nText.\n",
        encoding="utf-8",
    )
    app.warning.truncate(0)
    app.warning.seek(0)
    app.build()
    # Only SOP-ACC-000 is still unknown, and the page that names SOP-ACC-009 now links it,
    # although its own source did not change.
    assert warnings(app, "qms.docref") == [
        "procedures/sop-acc-001.md:15: WARNING: SOP-ACC-000 is not the id of any document: "
        "correct it, or write it as code (`SOP-ACC-000`) if it is not meant as a reference "
        "[qms.docref]",
    ]
    assert ("sop-acc-009.html", "SOP-ACC-009") in links(page(app, "procedures/sop-acc-001"))
