"""Current and target residual risk: the scores, their rules, and the three heat maps."""

from __future__ import annotations

import re

import pytest
from sphinx.testing.util import SphinxTestApp

from qms.model.traceability import Graph, Need, completeness_findings, heat_map, risk_rows
from tests.sphinx_helpers import page, warnings
from tests.test_traceability_views import heat_maps


def risk(risk_id: str, **scores: int) -> Need:
    fields = {"likelihood": 4, "impact": 5, "residual_likelihood": 2, "residual_impact": 2}
    fields.update(scores)
    return Need(risk_id, "risk", risk_id, "risks", 10, tuple(fields.items()))


def test_the_current_residual_falls_back_to_the_target_and_rises_nowhere() -> None:
    graph = Graph.build(
        [
            risk("RSK-001"),
            risk("RSK-002", current_likelihood=3, current_impact=4),
            risk("RSK-003", current_likelihood=2, current_impact=1),
            risk("RSK-004", current_likelihood=5, current_impact=5),
            risk("RSK-005", current_likelihood=3),
        ]
    )
    rows = {row.risk.id: row for row in risk_rows(graph)}
    assert (rows["RSK-001"].current, rows["RSK-001"].has_current) == (4, False)
    assert (rows["RSK-002"].current, rows["RSK-002"].residual) == (12, 4)
    assert heat_map(rows.values(), "current")[(3, 4)][0].id == "RSK-002"
    assert [n.id for n in heat_map(rows.values(), "target")[(2, 2)]] == [
        "RSK-001", "RSK-002", "RSK-003", "RSK-004", "RSK-005",
    ]  # fmt: skip
    found = [f.message for f in completeness_findings(graph, 25, {}) if f.code == "risk-residual"]
    assert found == [
        "RSK-003: target residual score 4 is higher than the current score 2",
        "RSK-004: current score 25 is higher than the inherent score 20",
        "RSK-005: current_likelihood and current_impact are given together, or neither",
    ]


@pytest.mark.sphinx("html", testroot="traceability", srcdir="traceability-current", freshenv=True)
def test_a_current_residual_adds_its_heat_map_and_column(app: SphinxTestApp) -> None:
    risks = app.srcdir / "risks.md"
    text = risks.read_text(encoding="utf-8")
    risks.write_text(
        text.replace(":residual_likelihood: 2\n", ":current_likelihood: 3\n:current_impact: 5\n"
                     ":residual_likelihood: 2\n", 1),
        encoding="utf-8",
    )  # fmt: skip
    app.build()
    html = page(app, "risks")
    inherent, current, target = heat_maps(html)
    assert "RSK-001" in inherent[0][3] and "RSK-001" in current[0][2] and "RSK-001" in target[0][1]
    titles = re.findall(r'<p class="rubric">([^<]+)</p>', html)
    assert [t for t in titles if "risk (" in t] == [
        "Inherent risk (before treatment)",
        "Current residual risk (controls in place now)",
        "Residual risk (after treatment)",
    ]
    table = html[html.index('class="qms-risks') :]
    assert "<p>Current</p>" in table[: table.index("</thead>")]
    assert not warnings(app, "qms.risk")
