"""The CAPA log and the audit programme pages: derived CAPA states, and audit coverage per year."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from qms.model.audits import audit_coverage, programme_cycle
from qms.model.capa import CapaState
from qms.model.change_requests import VersionNaming
from qms.model.traceability import Graph
from qms.services.capa import CapaLog, capa_log
from qms_sphinx.approvals import judged_on
from qms_sphinx.changes import capa_namings, version_links
from qms_sphinx.graph import graph_of
from qms_sphinx.settings import settings
from qms_sphinx.state import view_pages
from qms_sphinx.tables import Html, html_badge, html_link, html_node, html_table

logger = logging.getLogger(__name__)

LOG = ("CAPA", "Title", "Source", "Owner", "GxP", "Actions", "Document versions", "Check due",
       "Closed", "Checked", "State")  # fmt: skip


class capa_placeholder(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """Placeholder for a CAPA log or an audit programme, filled once every need is known."""


class CapaLogDirective(SphinxDirective):
    """``{qms-capa-log}``: every CAPA with its actions, closure, check and derived state."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        view_pages(self.env).add(self.env.docname)
        capa_pages(self.env).add(self.env.docname)
        node = capa_placeholder(view="capa-log")
        self.set_source_info(node)
        return [node]


class AuditProgrammeDirective(SphinxDirective):
    """``{qms-audit-programme}``: which clauses and Annex A themes each year's audits
    covered, over a three-year cycle (from `:cycle-start:`, else the three years ending with
    the latest audit's); what none covered is flagged."""

    has_content = False
    option_spec = {"cycle-start": directives.nonnegative_int}  # noqa: RUF012 - docutils API

    def run(self) -> list[nodes.Node]:
        view_pages(self.env).add(self.env.docname)
        node = capa_placeholder(view="audit-programme", first_year=self.options.get("cycle-start"))
        self.set_source_info(node)
        return [node]


# Badge colours: amber while work goes on, green once effective, red (the default) when late
# or not effective.
_BADGES = {CapaState.OPEN: "open", CapaState.AWAITING_CHECK: "open",
           CapaState.EFFECTIVE: "effective"}  # fmt: skip


def _need_link(app: Sphinx, fromdocname: str, graph: Graph, need_id: str) -> Html:
    need = graph.needs.get(need_id)
    if need is None or not need.docname:
        return html_link("#", need_id)
    return html_link(
        app.builder.get_relative_uri(fromdocname, need.docname) + f"#{need_id}", need_id
    )


# The column of LOG that a log without any named version leaves out.
_VERSIONS = LOG.index("Document versions")


def _log_rows(
    app: Sphinx,
    fromdocname: str,
    graph: Graph,
    log: CapaLog,
    named: Mapping[str, Sequence[VersionNaming]],
) -> list[list[str | Html]]:
    rows: list[list[str | Html]] = []
    for row in log.rows:
        data = row.as_dict()
        actions = "; ".join(
            f"{a['id']} due {a['due']}" + (f", done {a['done']}" if a["done"] else "")
            for a in data["actions"]
        )
        closed = f"{data['closed_on']} ({data['closed_by']})" if data["closed_on"] else ""
        checked = f"{data['checked_on']} ({data['verified_by']})" if data["checked_on"] else ""
        state_class = f"qms-badge-capa-{_BADGES.get(row.state, 'late')}"
        rows.append(
            [_need_link(app, fromdocname, graph, row.item.id), row.item.need.title,
             data["source"], data["owner"], "yes" if row.item.gxp else "no", actions,
             version_links(app, fromdocname, named.get(row.item.id, ())),
             data["check_due"], closed, checked, html_badge(data["state"], state_class)]
        )  # fmt: skip
    for external in log.external:
        flat = external.as_flat()
        state = external.state
        badge = f"qms-badge-capa-{_BADGES.get(state, 'late') if state else 'late'}"
        findings = Html(" ".join(
            _need_link(app, fromdocname, graph, f).markup for f in external.findings
        ))  # fmt: skip
        rows.append(
            [flat["id"], flat["title"], Html(f"finding {findings.markup}"), "", "", "", "",
             flat["next_due"], "", "", html_badge(flat["state"], badge)]
        )  # fmt: skip
    if not any(named.values()):
        # No CAPA names a document version: the column would be empty.
        return [row[:_VERSIONS] + row[_VERSIONS + 1 :] for row in rows]
    return rows


def render_log(app: Sphinx, fromdocname: str, graph: Graph) -> list[nodes.Node]:
    """The CAPA log, its signatures verified, its states on the day the build judges."""
    log = capa_log(settings(app), graph, judged_on(app))
    for finding in log.findings:
        logger.warning(finding.message, location=finding.path, type="qms", subtype=finding.code)
    if not log.rows and not log.external:
        return [nodes.paragraph("", "No CAPA is recorded in this handbook.")]
    parts: list[nodes.Node] = []
    if log.registry_findings:
        parts.append(
            nodes.paragraph(
                "", "No closure or effectiveness check counts: the signer registry does not verify."
            )
        )
    overdue = len(log.overdue)
    total = len(log.rows) + len(log.external)
    on = judged_on(app).isoformat()
    external = f" ({len(log.external)} kept in an external eQMS)" if log.external else ""
    parts.append(nodes.paragraph("", f"{total} CAPAs{external} on {on}; {overdue} overdue."))
    named = capa_namings(app, graph)
    rows = _log_rows(app, fromdocname, graph, log, named)
    headers = LOG if any(named.values()) else LOG[:_VERSIONS] + LOG[_VERSIONS + 1 :]
    parts.append(html_node(html_table(headers, rows, ["qms-capa", "qms-sortable"], wide=True)))
    return parts


def render_programme(
    app: Sphinx, fromdocname: str, graph: Graph, first_year: int | None
) -> list[nodes.Node]:
    """Clauses and Annex A themes by year of the cycle, the audits that covered each."""
    years = programme_cycle(graph, first_year)
    if not years:
        return [nodes.paragraph("", "No audit is recorded in this handbook.")]
    rows: list[list[str | Html]] = []
    for row in audit_coverage(graph, years):
        cells: list[str | Html] = [row.key, row.title]
        for _, audits in row.by_year:
            links = [_need_link(app, fromdocname, graph, a).markup for a in audits]
            cells.append(Html(" ".join(links)) if links else "")
        cells.append("" if row.covered else html_badge("not covered", "qms-badge-audit-gap"))
        rows.append(cells)
    missing = sum(1 for r in rows if r[-1] != "")
    headers = ("Clause or theme", "Title", *(str(y) for y in years), "Cycle")
    summary = f"Cycle {years[0]} to {years[-1]}: " + (
        f"{missing} not covered by any audit." if missing else "every clause and theme audited."
    )
    return [
        nodes.paragraph("", summary),
        html_node(html_table(headers, rows, ["qms-audit-programme"])),
    ]


def capa_pages(env: BuildEnvironment) -> set[str]:
    """Docnames of pages showing a CAPA log.

    What they show depends on signed statements and the day, which no source records, so
    they are rewritten on every build.
    """
    found: set[str] | None = getattr(env, "qms_capa_pages", None)
    if found is None:
        found = set()
        env.qms_capa_pages = found  # type: ignore[attr-defined]
    return found


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """Forget a page; re-reading it records it again."""
    capa_pages(env).discard(docname)


def merge(app: Sphinx, env: BuildEnvironment, docnames: Set[str], other: BuildEnvironment) -> None:
    """Take over the pages a parallel reader found."""
    capa_pages(env).update(name for name in capa_pages(other) if name in docnames)


def rewrite(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Every CAPA log page, to be written again."""
    return sorted(name for name in capa_pages(env) if name in env.found_docs)


def fill(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each placeholder with its view."""
    graph = graph_of(app)
    for node in list(doctree.findall(capa_placeholder)):
        if node["view"] == "capa-log":
            node.replace_self(render_log(app, docname, graph))
        else:
            node.replace_self(render_programme(app, docname, graph, node.get("first_year")))


def setup(app: Sphinx) -> None:
    """Register the directives and their event."""
    app.add_node(capa_placeholder)
    app.add_directive("qms-capa-log", CapaLogDirective)
    app.add_directive("qms-audit-programme", AuditProgrammeDirective)
    app.connect("doctree-resolved", fill)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-updated", rewrite)
