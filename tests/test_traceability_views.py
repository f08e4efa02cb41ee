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


def heat_maps(html: str) -> list[list[list[str]]]:
    """Per heat map, its rows from impact 5 down, each the five cells L1 to L5."""
    maps = []
    for grid in re.findall(r'<table class="qms-heatmap.*?</table>', html, re.S):
        body = grid[grid.index("<tbody>") : grid.index("</tbody>")]
        maps.append(
            [
                re.findall(r"<td.*?</td>", row, re.S)
                for row in re.findall(r"<tr.*?</tr>", body, re.S)
            ]
        )
    return maps


def test_heat_maps_place_each_risk_in_its_cell_with_a_link(app: SphinxTestApp) -> None:
    app.build()
    inherent, residual = heat_maps(page(app, "risks"))
    assert [len(row) for row in inherent] == [5] * 5
    # RSK-001 has likelihood 4, impact 5: first row, fourth cell.
    cell = inherent[0][3]
    assert "RSK-001" in cell and 'href="#RSK-001"' in cell
    assert "qms-heat-critical" in cell and "qms-above-threshold" in cell
    assert '<span class="qms-heat-count">1</span>' in cell
    assert 'title="likelihood 4, impact 5, score 20: RSK-001"' in cell
    assert "RSK-001" in residual[0][1]  # L2, I5
    assert "qms-heat-count" not in inherent[4][4] and "no risks" in inherent[4][4]


def test_heat_maps_have_axes_and_a_legend(app: SphinxTestApp) -> None:
    app.build()
    html = page(app, "risks")
    grid = re.search(r'<table class="qms-heatmap.*?</table>', html, re.S)
    assert grid is not None
    assert re.search(r'<th rowspan="5" class="qms-axis qms-axis-y"[^>]*><span>Impact', grid[0])
    assert re.search(r'<th colspan="5" class="qms-axis qms-axis-x"[^>]*>Likelihood', grid[0])
    levels = re.findall(r'<th scope="(?:row|col)" class="qms-heat-level">(\d)</th>', grid[0])
    assert levels == ["5", "4", "3", "2", "1", "1", "2", "3", "4", "5"]
    legend = re.search(r'<ul class="qms-heat-legend".*?</ul>', html, re.S)
    assert legend is not None
    bands = re.findall(
        r'qms-swatch qms-heat-(\w+)".*?</span>(\w+): score (\d+)&#8211;(\d+)', legend[0]
    )
    assert bands == [
        ("low", "low", "1", "4"),
        ("medium", "medium", "5", "9"),
        ("high", "high", "10", "15"),
        ("critical", "critical", "16", "25"),
    ]
    assert "above the acceptance threshold (8)" in legend[0]


@pytest.mark.sphinx("html", testroot="traceability", srcdir="traceability-crowded", freshenv=True)
def test_a_crowded_cell_shows_a_count_and_its_ids_on_demand(app: SphinxTestApp) -> None:
    risks = app.srcdir / "risks.md"
    extra = "".join(
        f"\n```{{risk}} Another shared login {n}\n:id: RSK-10{n}\n:asset: EBR\n:threat: T\n"
        ":vulnerability: V\n:likelihood: 4\n:impact: 5\n:residual_likelihood: 2\n"
        ":residual_impact: 5\n:treatment: accept\n:risk_owner: Site Head Cork\n"
        ":acceptance: Accepted for the test\n```\n"
        for n in range(3)
    )
    risks.write_text(risks.read_text(encoding="utf-8") + extra, encoding="utf-8")
    app.build()
    inherent, _ = heat_maps(page(app, "risks"))
    cell = inherent[0][3]
    assert '<span class="qms-heat-count">4</span><span class="qms-heat-unit"> risks</span>' in cell
    assert 'title="likelihood 4, impact 5, score 20: RSK-001, RSK-100, RSK-101, RSK-102"' in cell
    details = re.search(r"<details>.*?</details>", cell, re.S)
    assert details is not None
    assert re.findall(r'href="#(RSK-\d+)"', details[0]) == [
        "RSK-001",
        "RSK-100",
        "RSK-101",
        "RSK-102",
    ]


def test_view_tables_are_wide_and_scroll_in_their_own_container(app: SphinxTestApp) -> None:
    app.build()
    for docname, table_class in (
        ("soa", "qms-soa"), ("risks", "qms-risks"), ("matrix", "qms-matrix"),
        ("frameworks/part11", "qms-framework"),
    ):  # fmt: skip
        html = page(app, docname)
        assert re.search(
            rf'<div class="qms-scroll qms-wide docutils container">\s*<table class="{table_class}',
            html,
        ), docname
    soa = page(app, "soa")
    table = soa[soa.index('class="qms-soa') :]
    table = table[: table.index("</table>")]
    # Every id is a code element, which qms.css keeps on one line.
    assert (
        '<code class="docutils literal notranslate"><span class="pre">RSK-001</span></code>'
        in table
    )


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
