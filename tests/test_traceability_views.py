"""The generated views on the site: SoA, risk heat maps, matrix, framework pages, need pages."""

from __future__ import annotations

import re

import pytest
from sphinx.testing.util import SphinxTestApp

from tests.sphinx_helpers import page

pytestmark = pytest.mark.sphinx("html", testroot="traceability", freshenv=True)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_soa_has_one_row_per_annex_a_control_and_counts(app: SphinxTestApp) -> None:
    app.build()
    html = page(app, "soa")
    table = html[html.index('class="qms-soa') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr") == 1 + 3
    summary = text(html[: html.index('class="qms-soa')])
    assert "Decision Controls applicable 2 excluded 1" in summary
    assert "Implementation Controls implemented 1 partial 1 not-started 1" in summary
    assert 'href="frameworks/annex-a.html#ISO27001-A-5-15"' in table
    assert 'href="procedures.html#PRC-ACC-01"' in table
    assert 'href="risks.html#RSK-001"' in table


def test_heat_maps_place_each_risk_in_its_cell_with_a_link(app: SphinxTestApp) -> None:
    app.build()
    html = page(app, "risks")
    inherent, residual = re.findall(r'<table class="qms-heatmap.*?</table>', html, re.S)
    rows = re.findall(r"<tr.*?</tr>", inherent, re.S)[1:]  # impact 5 first
    # RSK-001 has likelihood 4, impact 5: first row, fifth cell (after the label).
    cells = re.findall(r"<td.*?</td>", rows[0], re.S)
    assert "RSK-001" in cells[4] and 'href="#RSK-001"' in cells[4]
    assert "qms-heat-critical" in cells[4]
    residual_rows = re.findall(r"<tr.*?</tr>", residual, re.S)[1:]
    assert "RSK-001" in re.findall(r"<td.*?</td>", residual_rows[0], re.S)[2]  # L2, I5


def test_risk_table_is_sortable_with_scores(app: SphinxTestApp) -> None:
    app.build()
    html = page(app, "risks")
    table = re.search(r'<table class="qms-risks qms-sortable.*?</table>', html, re.S)
    assert table is not None
    body = text(table.group(0))
    assert "RSK-001 Shared accounts on the EBR system" in body
    assert "20 mitigate 10 CTL-5-15" in body
    assert "2 accept 2 accepted" in body
    assert (app.outdir / "_static" / "qms.js").is_file()


def test_matrix_shows_coverage_and_chain(app: SphinxTestApp) -> None:
    app.build()
    body = text(page(app, "matrix"))
    assert "Annex A (test subset) 3 3 100.0 %" in body
    assert "21 CFR Part 11 2 2 100.0 %" in body
    assert "No gaps: every requirement is covered." in body
    assert "A.5.15 CTL-5-15 applicable PRC-ACC-01 EVD-ACC-01" in body


def test_framework_page_shows_how_each_requirement_is_met(app: SphinxTestApp) -> None:
    app.build()
    html = page(app, "frameworks/part11")
    body = text(html)
    assert "2 of 2 requirements covered (100.0 %)." in body
    assert "11.10(d) Limiting system access A.5.15 CTL-5-15 (implemented) covered" in body
    # The requirement needs themselves have stable anchors on the page.
    assert 'id="P11-11-10-D"' in html


def test_need_pages_show_incoming_and_outgoing_links(app: SphinxTestApp) -> None:
    app.build()
    html = page(app, "soa")
    block = html[html.index('id="CTL-5-15"') :][:6000]
    assert "implements" in block and "ISO27001-A-5-15" in block
    assert "implemented by" in block and "PRC-ACC-01" in block
    assert "demonstrated by" in block and "EVD-ACC-01" in block
