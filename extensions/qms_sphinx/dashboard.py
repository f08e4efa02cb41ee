"""The ``{qms-dashboard}`` directive: KPI tiles, trend charts, objective progress, risk profile."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from weakref import WeakKeyDictionary

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from qms.model.findings import FindingCode
from qms.model.metrics import AMBER, GREEN, MANUAL, NO_RESULT, RED, check_results, metrics_of
from qms.model.release import DocumentSet
from qms.model.vocabulary import METRIC
from qms.services import metric_history as kpi_history
from qms.services.capa import capa_counts, capa_log
from qms.services.dashboard import Dashboard, dashboard, site_facts
from qms.services.metric_history import History
from qms.services.metric_results import RESULTS_FOLDER, load_results
from qms_sphinx.approvals import judged_on
from qms_sphinx.graph import graph_of
from qms_sphinx.release_mode import release_of
from qms_sphinx.settings import settings
from qms_sphinx.state import documents, page_states, view_pages
from qms_sphinx.tables import html_node
from qms_sphinx.templating import render as render_template

logger = logging.getLogger(__name__)

TEMPLATE = "qms-dashboard.html"
STATES = (RED, AMBER, GREEN, NO_RESULT)

# One dashboard per build and choice of KPIs: charts are drawn once, not once per page.
_BUILT: WeakKeyDictionary[Sphinx, dict[tuple[str, ...], Dashboard]] = WeakKeyDictionary()
# The history of the computed KPIs and the risk profile, once per build.
_HISTORY: WeakKeyDictionary[Sphinx, History | None] = WeakKeyDictionary()


class dashboard_placeholder(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """Placeholder, filled in once every need and page state is known."""


def _ids(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


class DashboardDirective(SphinxDirective):
    """``{qms-dashboard}``: every KPI (or those of ``:metrics:``) with its state and trend.

    ``:summary: DOC-ID`` shows only the count per state and the tiles, each linking to its
    chart on the page of document DOC-ID, which holds the whole dashboard (a home page).
    """

    has_content = False
    option_spec = {  # noqa: RUF012 - docutils' own shape
        "metrics": directives.unchanged,
        "summary": directives.unchanged_required,
    }

    def run(self) -> list[nodes.Node]:
        view_pages(self.env).add(self.env.docname)
        folder = Path(self.env.srcdir) / RESULTS_FOLDER
        # Read again when a results file changes (or one is added: the folder's time).
        for path in [folder, *sorted(folder.glob("*.yaml"))] if folder.is_dir() else []:
            self.env.note_dependency(str(path))
        node = dashboard_placeholder(
            only=tuple(_ids(self.options.get("metrics", ""))),
            summary=self.options.get("summary", "").strip(),
        )
        self.set_source_info(node)
        return [node]


def _document_set(app: Sphinx) -> DocumentSet | None:
    """The release set being built: its history counts only the documents it selects,
    as its pages do (a set that does not admit confidential documents counts none)."""
    release = release_of(app.config)
    name = release.get("set") if release is not None else None
    return next((s for s in settings(app).sets if s.name == name), None) if name else None


def _build(app: Sphinx, only: tuple[str, ...]) -> Dashboard:
    built = _BUILT.setdefault(app, {})
    if only not in built:
        graph = graph_of(app)
        metrics, _ = metrics_of(graph)  # ill-defined ones are reported by qms_sphinx.metrics
        known = {m.id: m for m in metrics}
        files, _ = load_results(Path(app.srcdir) / RESULTS_FOLDER, Path(app.confdir))
        ill = {n.id for n in graph.of_type(METRIC) if n.id not in known}
        results, _ = check_results(files, known, ill)
        on = judged_on(app)
        pages = page_states(app.env)
        facts = site_facts(
            graph, settings(app).risk_acceptance_threshold, pages.values(),
            documents(app.env).values(), on,
        )  # fmt: skip
        # The CAPA log as its own page shows it, so that both count the same CAPAs.
        facts = replace(facts, capas=capa_counts(capa_log(settings(app), graph, on)))
        if app not in _HISTORY:
            computed = {m.frequency for m in metrics if m.source != MANUAL}
            _HISTORY[app] = kpi_history.metric_history(
                Path(app.confdir), computed, _document_set(app)
            )
        built[only] = dashboard(metrics, results, facts, on, only, _HISTORY[app])
    return built[only]


def _warn(node: nodes.Element, message: str) -> None:
    logger.warning(message, location=node, type="qms", subtype=FindingCode.DASHBOARD)


def _summary_page(app: Sphinx, node: nodes.Element, docname: str) -> tuple[str, str] | None:
    """The link from `docname` to the page of the document `:summary:` names, and its title;
    None (and a warning) when this build holds no such document."""
    wanted = node["summary"]
    found = next((name for name, doc in documents(app.env).items() if doc.id == wanted), None)
    if found is None:
        _warn(node, f"':summary:' names {wanted}, which is no document of this build")
        return None
    title = f"{wanted} {documents(app.env)[found].title}"
    return app.builder.get_relative_uri(docname, found), title


def fill(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each placeholder with its dashboard (HTML builders only: the needs export of
    `qms check` and the exports neither show it nor should pay for its charts). An `{only}`
    block has dropped the placeholders of other builds by now."""
    for node in list(doctree.findall(dashboard_placeholder)):
        if app.builder.format != "html":
            node.replace_self([])
            continue
        only = tuple(node["only"])
        board = _build(app, only)
        shown = {tile.metric.id for tile in board.tiles}
        for unknown in [kpi for kpi in only if kpi not in shown]:
            _warn(node, f"':metrics:' names {unknown}, which is no KPI of this build")
        if not board.tiles:
            # A choice none of which this build holds is warned about above, and shows nothing.
            text = "" if only else "No KPI is defined: add metric needs."
            node.replace_self([nodes.paragraph("", text)] if text else [])
            continue
        summary = _summary_page(app, node, docname) if node["summary"] else None
        if node["summary"] and summary is None:
            node.replace_self([])
            continue
        markup = render_template(app, TEMPLATE, board=board, states=STATES, summary=summary)
        node.replace_self(html_node(markup))


def setup(app: Sphinx) -> None:
    """Register the directive and its event."""
    app.add_node(dashboard_placeholder)
    app.add_directive("qms-dashboard", DashboardDirective)
    app.connect("doctree-resolved", fill)
