"""The site: control block on every document, register, grouped navigation, search."""

from __future__ import annotations

import re

import pytest
from sphinx.testing.util import SphinxTestApp

from .sphinx_helpers import page, warnings

pytestmark = pytest.mark.sphinx("html", testroot="handbook", freshenv=True)


def control_block(html: str) -> str:
    match = re.search(r'<div class="qms-control.*?(?=<section id=|</article>)', html, re.S)
    assert match, "no document-control block"
    return match.group(0)


def sidebar(html: str) -> str:
    match = re.search(r'<div class="sidebar-tree">(.*?)</div>', html, re.S)
    assert match, "no sidebar navigation"
    return match.group(1)


def test_builds_without_warnings(app: SphinxTestApp) -> None:
    app.build()
    assert warnings(app) == []


def test_control_block_opens_the_page_right_under_the_title(app: SphinxTestApp) -> None:
    app.build()
    html = page(app, "policies/pol-acc-001")
    assert re.search(r"</h1>\s*<div class=\"qms-control qms-status-draft", html)
    block = control_block(html)
    for label, value in [
        ("Document", "POL-ACC-001"),
        ("Version", "2.0"),
        ("Type", "policy"),
        ("Owner", "ISMS Manager"),
        ("Classification", "internal"),
        ("Effective", "2026-01-15"),
        ("Next review", "2027-01-15 (every 12 months)"),
    ]:
        assert re.search(
            rf"<p>{label}</p></td>\s*<td><p>(<code[^>]*><span[^>]*>)?"
            rf"{re.escape(value)}",
            block,
        ), label


def test_unapproved_documents_carry_a_draft_banner(app: SphinxTestApp) -> None:
    app.build()
    for docname in ("policies/pol-acc-001", "policies/pol-cry-001", "procedures/sop-bck-001"):
        block = control_block(page(app, docname))
        assert '<p class="qms-banner">DRAFT: not approved, not for use</p>' in block
        assert "<strong>DRAFT</strong> (no verified signatures)" in block
        assert "No verified signatures on this version." in block


def test_missing_effective_date_is_shown_as_such(app: SphinxTestApp) -> None:
    app.build()
    block = control_block(page(app, "policies/pol-cry-001"))
    assert "<p>not set</p>" in block
    assert "set when effective (every 24 months)" in block


def test_site_pages_have_no_control_block(app: SphinxTestApp) -> None:
    app.build()
    for docname in ("index", "register", "policies/index"):
        assert "qms-control" not in page(app, docname)


def test_register_lists_every_document_sorted_by_id(app: SphinxTestApp) -> None:
    app.build()
    html = page(app, "register")
    ids = re.findall(r'<span class="pre">([A-Z]+-[A-Z]+-\d+)</span>', html)
    assert ids == ["POL-ACC-001", "POL-CRY-001", "SOP-BCK-001"]
    assert 'href="policies/pol-acc-001.html"' in html
    for header in ("ID", "Title", "Type", "Version", "Status", "Owner", "Next review"):
        assert f"<p>{header}</p>" in html
    assert html.count('class="qms-badge-draft"') == 3


def test_type_index_lists_only_its_type(app: SphinxTestApp) -> None:
    app.build()
    html = page(app, "policies/index")
    assert "POL-ACC-001" in html and "POL-CRY-001" in html
    assert "SOP-BCK-001" not in html


def test_titles_are_escaped_everywhere(app: SphinxTestApp) -> None:
    app.build()
    for docname in ("register", "policies/pol-cry-001"):
        html = page(app, docname)
        assert "Cryptography <Policy>" not in html
        assert "Cryptography &lt;Policy&gt; &amp; Keys" in html


def test_navigation_groups_by_type_and_stays_small(app: SphinxTestApp) -> None:
    app.build()
    nav = sidebar(page(app, "policies/pol-acc-001"))
    assert ">Policies<" in nav and ">Procedures<" in nav
    assert "Document register" in nav
    # Only the current document and its neighbours are listed under its type
    # (tests/test_sphinx_navigation.py): the sidebar does not grow with the handbook.
    assert "POL-ACC-001 Access Control Policy" in nav
    assert "POL-CRY-001" in nav and "SOP-BCK-001" not in nav
    assert 'class="toctree-l1 current' in nav


def test_search_page_and_index_exist(app: SphinxTestApp) -> None:
    app.build()
    assert (app.outdir / "search.html").is_file()
    index = (app.outdir / "searchindex.js").read_text(encoding="utf-8")
    assert "hsm" in index.lower()  # a word from the body of POL-CRY-001


@pytest.mark.sphinx("html", testroot="handbook", srcdir="handbook-edited", freshenv=True)
def test_register_is_rewritten_when_a_document_changes(app: SphinxTestApp) -> None:
    app.build()
    source = app.srcdir / "policies" / "pol-acc-001.md"
    source.write_text(
        source.read_text(encoding="utf-8").replace('version: "2.0"', 'version: "2.1"'),
        encoding="utf-8",
    )
    app.build()
    html = page(app, "register")
    assert re.search(r"POL-ACC-001.*?<p>2\.1</p>", html, re.S)


def test_preview_banner_watermark_and_print_footer(app: SphinxTestApp) -> None:
    app.build()
    for docname in ("index", "register", "policies/pol-acc-001"):
        html = page(app, docname)
        assert "PREVIEW, not a controlled copy." in html
        assert '<div class="qms-print-footer">' in html and "Uncontrolled when printed." in html
    draft = page(app, "policies/pol-acc-001")
    assert '<div class="qms-watermark" aria-hidden="true">DRAFT</div>' in draft
    assert "POL-ACC-001 version 2.0, DRAFT, PREVIEW build. Uncontrolled when printed." in draft
    css = (app.outdir / "_static" / "qms.css").read_text()
    assert "@media print" in css and ".qms-print-footer" in css
