"""Generated views for auditors: SoA, risk register, traceability matrix, framework pages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from html import escape

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from qms.model.impact import State
from qms.model.traceability import (
    DECISIONS,
    RISK_BANDS,
    Graph,
    Need,
    SoaRow,
    coverage,
    heat_map,
    risk_band,
    risk_rows,
    soa_rows,
)
from qms.model.vocabulary import IMPLEMENTATION, MAPS_TO, RequirementKind
from qms.services.risk_acceptance import RiskStatus
from qms_sphinx.graph import graph_of
from qms_sphinx.impact import impact_of
from qms_sphinx.risk_acceptance import acceptances_of
from qms_sphinx.settings import settings
from qms_sphinx.state import view_pages
from qms_sphinx.tables import Cell, doc_link, html_link, html_node, scrolling, table


class view_placeholder(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """Replaced by the rendered view once every need is resolved."""


def _directive(view: str, takes_key: bool) -> type[SphinxDirective]:
    class ViewDirective(SphinxDirective):
        required_arguments = 1 if takes_key else 0
        has_content = False

        def run(self) -> list[nodes.Node]:
            view_pages(self.env).add(self.env.docname)
            key = self.arguments[0] if takes_key else ""
            node = view_placeholder(view=view, key=key)
            self.set_source_info(node)
            return [node]

    ViewDirective.__name__ = f"{view.title()}Directive"
    return ViewDirective


def _need_link(app: Sphinx, fromdoc: str, need: Need, text: str = "") -> nodes.Node:
    """A link to a need's anchor on its page, showing `text` (default: the need id)."""
    return doc_link(app, fromdoc, need.docname, need.id, text or need.id)


def _links(app: Sphinx, fromdoc: str, needs: Sequence[Need]) -> Cell:
    if not needs:
        return "none"
    return [_need_link(app, fromdoc, n) for n in needs]


def _impact(app: Sphinx, fromdoc: str, graph: Graph, row: SoaRow) -> Cell:
    """The suspect and assessed links within one row's chain, each linked to its item."""
    ids = {need.id for need in (*row.decisions, *row.procedures, *row.evidence)}
    upstream = {need.id for need in (row.requirement, *row.decisions, *row.risks)}
    found: list[nodes.Node] = []
    for state in impact_of(app).links:
        if state.state not in (State.SUSPECT, State.CLEARED):
            continue
        if state.link.item not in ids or state.link.upstream not in upstream:
            continue
        need = graph.needs.get(state.link.item)
        text = f"{state.link.item} → {state.link.upstream}"
        link = _need_link(app, fromdoc, need, text) if need else nodes.literal("", text)
        word = "suspect" if state.state == State.SUSPECT else "assessed"
        found.append(nodes.inline("", "", link, nodes.Text(f" {word}"), classes=[f"qms-{word}"]))
    return found or ""


def _counts(title: str, counter: Counter[str], order: Sequence[str]) -> nodes.Node:
    rows = [[name, str(counter.get(name, 0))] for name in order if counter.get(name, 0)]
    return table([title, "Controls"], rows, classes=["qms-counts"])


def render_soa(app: Sphinx, fromdoc: str, graph: Graph) -> list[nodes.Node]:
    """Counts by decision and status, then one row per Annex A control."""
    rows = soa_rows(graph)
    decisions = Counter(row.decision for row in rows)
    statuses = Counter(row.control.text("implementation") for row in rows if row.control)
    summary = nodes.container(
        "",
        _counts("Decision", decisions, DECISIONS),
        _counts("Implementation", statuses, IMPLEMENTATION),
        classes=["qms-side-by-side"],
    )
    body: list[list[Cell]] = []
    for row in rows:
        control = row.control
        body.append(
            [
                _need_link(app, fromdoc, row.requirement, row.requirement.text("ref")),
                row.requirement.title,
                row.decision,
                control.text("justification") if control else "",
                control.text("implementation") if control else "",
                _links(app, fromdoc, row.decisions),
                _links(app, fromdoc, row.procedures),
                _links(app, fromdoc, row.risks),
                _impact(app, fromdoc, graph, row),
            ]
        )
    headers = ["Annex A", "Control", "Decision", "Justification", "Status", "Implemented by",
               "Procedures", "Risks", "Suspect links"]  # fmt: skip
    return [
        summary,
        scrolling(
            table(
                headers,
                body,
                classes=["qms-soa", "qms-sortable"],
                widths=[1, 3, 1, 5, 1, 1, 2, 2, 2],
            ),
            wide=True,
        ),
    ]


def _legend(threshold: int) -> str:
    """What the colours and the outline of the heat maps mean."""
    items = []
    ceiling = 25
    for name, floor in reversed(RISK_BANDS):
        items.append(
            f'<li><span class="qms-swatch qms-heat-{name}" aria-hidden="true"></span>'
            f"{escape(name)}: score {floor}&#8211;{ceiling}</li>"
        )
        ceiling = floor - 1
    items.reverse()
    items.append(
        '<li><span class="qms-swatch qms-above-threshold" aria-hidden="true"></span>'
        f"outlined: above the acceptance threshold ({threshold}), needs treatment or "
        "acceptance</li>"
    )
    return (
        '<p class="qms-heat-help">Score = likelihood &#215; impact (1 to 5 each). Each cell '
        "counts the risks scored there; hover over a count for their ids, or open it for "
        "links.</p>\n"
        f'<ul class="qms-heat-legend" aria-label="Score bands">{"".join(items)}</ul>\n'
    )


def _heat_cell(
    app: Sphinx, fromdoc: str, likelihood: int, impact: int, risks: Sequence[Need], threshold: int
) -> str:
    score = likelihood * impact
    classes = f"qms-heat-{risk_band(score)}" + (" qms-above-threshold" if score > threshold else "")
    where = f"likelihood {likelihood}, impact {impact}, score {score}"
    if not risks:
        return f'<td class="{classes}" title="{escape(where)}: no risks"></td>'
    ids = ", ".join(risk.id for risk in risks)
    links = " ".join(
        html_link(
            app.builder.get_relative_uri(fromdoc, risk.docname) + f"#{risk.id}", risk.id
        ).markup
        for risk in risks
    )
    unit = "risk" if len(risks) == 1 else "risks"
    return (
        f'<td class="{classes}" title="{escape(where)}: {escape(ids)}"><details>'
        f'<summary><span class="qms-heat-count">{len(risks)}</span>'
        f'<span class="qms-heat-unit"> {unit}</span></summary>'
        f'<span class="qms-heat-ids">{links}</span></details></td>'
    )


HEAT_MAP_TITLES = {
    "inherent": "Inherent risk (before treatment)",
    "current": "Current residual risk (controls in place now)",
    "target": "Residual risk (after treatment)",
}


def _heat_map(app: Sphinx, fromdoc: str, graph: Graph, stage: str) -> str:
    """A 5x5 grid, impact up and likelihood across, each cell counting its risks."""
    cells = heat_map(risk_rows(graph), stage)
    threshold = settings(app).risk_acceptance_threshold
    title = HEAT_MAP_TITLES[stage]
    rows = []
    for impact in range(5, 0, -1):
        axis = (
            # Turned to read upwards, so the arrow points up the impact scale.
            '<th rowspan="5" class="qms-axis qms-axis-y" scope="rowgroup"><span>Impact '
            "&#8594;</span></th>"
            if impact == 5
            else ""
        )
        line = "".join(
            _heat_cell(app, fromdoc, likelihood, impact, cells.get((likelihood, impact), []),
                       threshold)
            for likelihood in range(1, 6)
        )  # fmt: skip
        rows.append(f'<tr>{axis}<th scope="row" class="qms-heat-level">{impact}</th>{line}</tr>')
    levels = "".join(f'<th scope="col" class="qms-heat-level">{n}</th>' for n in range(1, 6))
    return (
        f'<div class="qms-heatmap-box"><p class="rubric">{escape(title)}</p>'
        f'<div class="qms-scroll"><table class="qms-heatmap docutils">'
        f"<caption>{escape(title)}: number of risks by likelihood and impact</caption>"
        '<colgroup><col class="qms-col-axis"><col class="qms-col-level"><col span="5">'
        "</colgroup>"
        f"<tbody>{''.join(rows)}</tbody>"
        f'<tfoot><tr><td colspan="2"></td>{levels}</tr>'
        '<tr><td colspan="2"></td><th colspan="5" class="qms-axis qms-axis-x" scope="colgroup">'
        "Likelihood &#8594;</th></tr></tfoot></table></div></div>"
    )


def _stages(graph: Graph) -> tuple[str, ...]:
    """Inherent and target; current between them once any risk carries a current residual."""
    if any(row.has_current for row in risk_rows(graph)):
        return ("inherent", "current", "target")
    return ("inherent", "target")


def render_risks(app: Sphinx, fromdoc: str, graph: Graph) -> list[nodes.Node]:
    """Heat maps before and after treatment, then the sortable register."""
    maps = html_node(
        '<div class="qms-heatmaps">'
        + _legend(settings(app).risk_acceptance_threshold)
        + '<div class="qms-side-by-side">'
        + "".join(_heat_map(app, fromdoc, graph, stage) for stage in _stages(graph))
        + "</div></div>\n"
    )
    stages = _stages(graph)
    acceptances = acceptances_of(app)
    body: list[list[Cell]] = []
    classes: list[list[str]] = []
    for row in risk_rows(graph):
        risk = row.risk
        current = [str(row.current)] if "current" in stages else []
        body.append(
            [
                _need_link(app, fromdoc, risk),
                risk.title,
                risk.text("asset"),
                risk.text("risk_owner"),
                str(row.inherent),
                risk.text("treatment"),
                *current,
                str(row.residual),
                _links(app, fromdoc, row.controls)
                if row.controls
                else _no_controls(risk, acceptances.of(risk.id)),
                _acceptance(acceptances.of(risk.id)),
            ]
        )
        classes.append([f"qms-risk-{risk_band(max(row.inherent, 1))}"])
    residual = ["Current", "Target"] if "current" in stages else ["Residual"]
    headers = ["ID", "Risk", "Asset or process", "Owner", "Inherent", "Treatment", *residual,
               "Mitigating controls", "Accepted"]  # fmt: skip
    widths = [1, 4, 3, 2, 1, 1, *([1] * len(residual)), 2, 3]
    return [
        maps,
        scrolling(
            table(
                headers,
                body,
                classes=["qms-risks", "qms-sortable"],
                widths=widths,
                row_classes=classes,
            ),
            wide=True,
        ),
    ]


def _no_controls(risk: Need, status: RiskStatus | None) -> str:
    """What treats a risk without controls: a signed acceptance, or nothing that counts.

    The typed acceptance field is free text: shown as such, never as an acceptance.
    """
    if status is not None and status.valid:
        return "accepted"
    if risk.text("acceptance"):
        return "accepted (unsigned, does not count)"
    return "none"


def _acceptance(status: RiskStatus | None) -> str:
    """Who accepted the risk, when, until when, at which score; or why it does not hold."""
    if status is None or status.acceptance is None:
        return "required, none signed" if status and status.risk.needs_acceptance else ""
    accepted = status.acceptance
    text = (
        f"{accepted.signer_name} ({accepted.signer_role}), {accepted.signed_at.date()}, "
        f"until {accepted.until}, at score {accepted.score}"
    )
    return f"LAPSED ({status.lapse}): {text}" if status.lapse else text


def render_traceability(app: Sphinx, fromdoc: str, graph: Graph) -> list[nodes.Node]:
    """Coverage per framework, gaps, and the Annex A chain down to evidence."""
    frameworks: list[list[Cell]] = []
    gaps: list[list[Cell]] = []
    for key, name, kind in graph.catalogues():
        if kind not in (RequirementKind.ANNEX_A, RequirementKind.REGULATORY):
            continue
        result = coverage(graph, key)
        frameworks.append(
            [name, str(result.total), str(len(result.covered)), f"{result.percent:.1f} %"]
        )
        gaps.extend(
            [
                name,
                _need_link(app, fromdoc, need, need.text("ref") or need.id),
                reason,
            ]
            for need, reason in result.gaps
        )
    parts: list[nodes.Node] = [
        nodes.rubric("", "Coverage by framework"),
        scrolling(
            table(
                ["Framework", "Requirements", "Covered", "Coverage"],
                frameworks,
                classes=["qms-coverage"],
            )
        ),
        nodes.rubric("", "Gaps"),
        scrolling(
            table(["Framework", "Requirement", "Why it is a gap"], gaps, classes=["qms-gaps"])
        )
        if gaps
        else nodes.paragraph("", "No gaps: every requirement is covered."),
        nodes.rubric("", "Annex A: requirement → control → procedure → evidence"),
    ]
    chain: list[list[Cell]] = [
        [
            _need_link(app, fromdoc, row.requirement, row.requirement.text("ref")),
            _links(app, fromdoc, row.decisions),
            row.decision,
            _links(app, fromdoc, row.procedures),
            _links(app, fromdoc, row.evidence),
            _impact(app, fromdoc, graph, row),
        ]
        for row in soa_rows(graph)
    ]
    parts.append(
        scrolling(
            table(
                ["Annex A", "Control", "Decision", "Procedures", "Evidence", "Suspect links"],
                chain,
                classes=["qms-matrix", "qms-sortable"],
            ),
            wide=True,
        )
    )
    return parts


def render_framework(app: Sphinx, fromdoc: str, graph: Graph, key: str) -> list[nodes.Node]:
    """Each requirement of a framework, the Annex A controls it maps to, how it is met."""
    result = coverage(graph, key)
    soa = {row.requirement.id: row for row in soa_rows(graph)}
    gaps = dict((need.id, reason) for need, reason in result.gaps)
    body: list[list[Cell]] = []
    for requirement in graph.requirements(key):
        mapped = [soa[t] for t in requirement.outgoing(MAPS_TO) if t in soa]
        controls = [row.control for row in mapped if row.control is not None]
        met: Cell = [
            doc_link(app, fromdoc, c.docname, c.id, f"{c.id} ({c.text('implementation')})")
            for c in controls
        ] or "no control"
        body.append(
            [
                _need_link(app, fromdoc, requirement, requirement.text("ref") or requirement.id),
                requirement.title,
                [
                    _need_link(app, fromdoc, row.requirement, row.requirement.text("ref"))
                    for row in mapped
                ]
                or "none",
                met,
                gaps.get(requirement.id, "covered"),
            ]
        )
    summary = nodes.paragraph(
        "",
        f"{len(result.covered)} of {result.total} requirements covered ({result.percent:.1f} %).",
    )
    return [
        summary,
        scrolling(
            table(
                ["Ref", "Requirement", "Annex A", "How it is met", "Coverage"],
                body,
                classes=["qms-framework"],
                widths=[1, 3, 2, 3, 2],
            ),
            wide=True,
        ),
    ]


def fill(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Render every view placeholder of the page."""
    placeholders = list(doctree.findall(view_placeholder))
    if not placeholders:
        return
    graph = graph_of(app)
    for node in placeholders:
        view, key = node["view"], node["key"]
        if view == "soa":
            rendered = render_soa(app, docname, graph)
        elif view == "risks":
            rendered = render_risks(app, docname, graph)
        elif view == "traceability":
            rendered = render_traceability(app, docname, graph)
        else:
            rendered = render_framework(app, docname, graph, key)
        node.replace_self(rendered)


def setup(app: Sphinx) -> None:
    """Register the directives and their rendering."""
    app.add_node(view_placeholder)
    for view, takes_key in (
        ("soa", False),
        ("risks", False),
        ("traceability", False),
        ("framework", True),
    ):
        app.add_directive(f"qms-{view}", _directive(view, takes_key))
    app.connect("doctree-resolved", fill)
