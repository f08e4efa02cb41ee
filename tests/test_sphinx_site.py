"""The site: control block on every document, register, grouped navigation, search."""

from __future__ import annotations

import json
import re

import pytest
from sphinx.testing.util import SphinxTestApp

from qms_sphinx.search import script_literal

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


def print_footer(html: str) -> str:
    """The text the page prints at the foot of every page, decoded from its CSS string."""
    head = html[: html.index("</head>")]
    match = re.search(
        r'<style class="qms-print-footer" media="print">@page \{ @bottom-left \{ content: '
        r'"((?:[^"\\<]|\\[0-9a-f]{6})*)"; \} @bottom-right \{ content: "Page " counter\(page\) '
        r'" of " counter\(pages\); \} \}</style>',
        head,
    )
    assert match, "no print footer in the page head"
    return re.sub(r"\\([0-9a-f]{6})", lambda m: chr(int(m.group(1), 16)), match.group(1))


def test_preview_banner_watermark_and_print_footer(app: SphinxTestApp) -> None:
    app.build()
    for docname in ("index", "register", "policies/pol-acc-001"):
        html = page(app, docname)
        assert "PREVIEW, not a controlled copy." in html
        assert print_footer(html).endswith("PREVIEW build. Uncontrolled when printed.")
    draft = page(app, "policies/pol-acc-001")
    assert '<div class="qms-watermark no-search" aria-hidden="true">DRAFT</div>' in draft
    assert print_footer(draft) == (
        "POL-ACC-001 version 2.0, DRAFT, PREVIEW build. Uncontrolled when printed."
    )
    assert print_footer(page(app, "register")).startswith("Document register, PREVIEW build.")
    css = (app.outdir / "_static" / "qms.css").read_text()
    assert "@media print" in css and "@bottom-left" in css


def test_print_footer_text_cannot_leave_its_css_string_or_style_element(
    app: SphinxTestApp,
) -> None:
    from qms_sphinx.release_mode import print_footer as footer_style

    hostile = 'x"; } body { display: none } </style><script>alert(1)</script> \\ é'
    style = footer_style(app, hostile)
    inner = style[len('<style class="qms-print-footer" media="print">') : -len("</style>\n")]
    assert "<" not in inner and ">" not in inner and "&" not in inner
    assert print_footer(f"{style}</head>") == hostile


def test_the_search_page_holds_each_documents_id_and_status(app: SphinxTestApp) -> None:
    app.build()
    html = page(app, "search")
    match = re.search(r"<script>var QMS_SEARCH_DOCUMENTS = (\{.*?\});</script>", html)
    assert match, "no document labels on the search page"
    assert json.loads(match.group(1)) == {
        "policies/pol-acc-001": ["POL-ACC-001", "draft", "draft"],
        "policies/pol-cry-001": ["POL-CRY-001", "draft", "draft"],
        "procedures/sop-bck-001": ["SOP-BCK-001", "draft", "draft"],
    }
    assert re.search(r'<script defer="defer" src="_static/qms-search.js\?v=\w+"></script>', html)
    assert "qms-search.js" not in page(app, "index")


def test_labels_cannot_close_their_script_element() -> None:
    literal = script_literal({"x": "</script><script>alert(1)</script>&"})
    assert "<" not in literal and ">" not in literal and "&" not in literal
    assert json.loads(literal) == {"x": "</script><script>alert(1)</script>&"}


def test_register_has_dates_classification_and_a_filter(app: SphinxTestApp) -> None:
    app.build()
    html = page(app, "register")
    for header in ("Classification", "Effective", "Next review"):
        assert f'<th class="head"><p>{header}</p></th>' in html
    row = re.search(r'<tr class="row-even" data-type="policy" data-status="draft" '
                    r'data-owner="ISMS Manager">(.*?)</tr>', html, re.S)  # fmt: skip
    assert row, "no filterable row for POL-ACC-001"
    assert "POL-ACC-001" in row.group(1) and "<p>internal</p>" in row.group(1)
    assert "<p>2026-01-15</p>" in row.group(1) and "<p>2027-01-15</p>" in row.group(1)
    form = re.search(r'<form class="qms-filter" hidden.*?</form>', html, re.S)
    assert form, "no filter form"
    selects = dict(re.findall(r'<select name="(\w+)">(.*?)</select>', form.group(0)))
    assert list(selects) == ["type", "status", "owner"]
    assert re.findall(r'<option value="([^"]*)">', selects["type"]) == ["", "policy", "procedure"]
    assert re.findall(r'<option value="([^"]*)">', selects["status"]) == ["", "draft"]
    script = (app.outdir / "_static" / "qms.js").read_text()
    assert ".qms-register-view" in script and "row.dataset[name]" in script
    # A register of one type filters by status and owner only.
    typed = page(app, "policies/index")
    assert '<select name="status">' in typed and '<select name="type">' not in typed


def test_tables_scroll_in_their_own_container_and_ids_do_not_break(app: SphinxTestApp) -> None:
    app.build()
    html = page(app, "register")
    wrapped = re.search(
        r'<div class="qms-scroll qms-wide docutils container">\s*<table class="qms-register', html
    )
    assert wrapped, "the register is not in a wide scroll container"
    ids = re.findall(r'<code class="docutils literal notranslate"><span class="pre">([A-Z-]+\d+)<',
                     html)  # fmt: skip
    assert ids == ["POL-ACC-001", "POL-CRY-001", "SOP-BCK-001"]
    css = (app.outdir / "_static" / "qms.css").read_text()
    nowrap = re.search(r"article table code\.literal[^{]*\{\s*white-space: nowrap", css)
    assert nowrap, "ids in tables may break"
    assert re.search(r"\.qms-scroll \{ overflow-x: auto;", css)
    assert ".main:has(.qms-wide) > .content" in css  # wide pages widen furo's column
    # Print lays tables out on the page instead of in scroll containers.
    printed = css[css.index("@media print {") :]
    assert "overflow: visible !important" in printed and "break-inside: avoid" in printed
