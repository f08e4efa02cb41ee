"""The URS traced to the OQ suite: its gaps as located warnings, and the URS risk table."""

from __future__ import annotations

import weakref
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from qms.model.traceability import Graph
from qms.model.validation_trace import ValidationTrace, urs_items, urs_risk
from qms.model.vocabulary import SERVES, URS
from qms.services.validation_trace import trace_of
from qms_sphinx.graph import graph_of
from qms_sphinx.state import view_pages
from qms_sphinx.tables import Cell, doc_link, scrolling, table

logger = logging.getLogger(__name__)

# conf.py may name another folder of test modules (relative to it) for the trace; by
# default it is the installed qms.oq package.
SUITE_CONFIG = "qms_oq_suite"
_TRACES: weakref.WeakKeyDictionary[Sphinx, ValidationTrace] = weakref.WeakKeyDictionary()


def _suite(app: Sphinx) -> Path | None:
    configured = getattr(app.config, SUITE_CONFIG, None)
    return Path(app.confdir) / configured if configured else None


def _trace(app: Sphinx, graph: Graph) -> ValidationTrace:
    docs = {need.docname for need in graph.of_type(URS)}
    paths = {docname: str(app.env.doc2path(docname)) for docname in docs if docname}
    locate = {n.id: (paths.get(n.docname, n.docname), n.lineno) for n in graph.of_type(URS)}
    return trace_of(urs_items(graph, locate), _suite(app))


def validation_trace_of(app: Sphinx) -> ValidationTrace:
    """This build's trace of the user requirements to the OQ suite (read once per build)."""
    found = _TRACES.get(app)
    if found is None:
        found = _TRACES[app] = _trace(app, graph_of(app))
    return found


def check(app: Sphinx, builder: Builder) -> None:
    """Log every gap of the trace at its place, when the handbook holds user requirements.

    As with the completeness rules, a release build (checked before its release was
    created) logs nothing.
    """
    _TRACES.pop(app, None)
    graph = graph_of(app)
    if app.config.qms_release is not None or not graph.of_type(URS):
        return
    for finding in validation_trace_of(app).findings:
        where = f"{finding.path}:{finding.line}" if finding.line else finding.path
        logger.warning(finding.message, location=where, type="qms", subtype=finding.code)


class urs_placeholder(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """Replaced by the URS risk table once every need is resolved."""


class UrsRisksDirective(SphinxDirective):
    """`{qms-urs-risks}`: every user requirement with its GAMP risk class and priority."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        view_pages(self.env).add(self.env.docname)
        node = urs_placeholder()
        self.set_source_info(node)
        return [node]


def render_risks(app: Sphinx, fromdoc: str, graph: Graph) -> list[nodes.Node]:
    """The table: requirement, area, the three judgements, class, priority, what it serves."""
    rows: list[list[Cell]] = []
    # In the order the specification lists them, not by id.
    for need in sorted(graph.of_type(URS), key=lambda n: (n.docname, n.lineno or 0)):
        risk = urs_risk(need)
        served = [graph.needs[i] for i in need.outgoing(SERVES) if i in graph.needs]
        rows.append(
            [
                doc_link(app, fromdoc, need.docname, need.id, need.id),
                need.text("area"),
                need.text("severity"),
                need.text("probability"),
                need.text("detectability"),
                str(risk.risk_class) if risk else "not assessed",
                str(risk.priority) if risk else "not assessed",
                [doc_link(app, fromdoc, n.docname, n.id, n.id) for n in served] or "none",
            ]
        )
    headers = [
        "Requirement",
        "Area",
        "Severity",
        "Probability",
        "Detectability",
        "Risk class",
        "Priority",
        "Serves",
    ]
    return [scrolling(table(headers, rows, classes=["qms-urs-risks"]), wide=True)]


def fill(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Render the page's URS risk tables."""
    placeholders = list(doctree.findall(urs_placeholder))
    if placeholders:
        graph = graph_of(app)
        for node in placeholders:
            node.replace_self(render_risks(app, docname, graph))


def setup(app: Sphinx) -> None:
    """Trace after the completeness rules (write-started); render the table when resolved."""
    app.add_config_value(SUITE_CONFIG, None, "env", types=(str, type(None)))
    app.add_node(urs_placeholder)
    app.add_directive("qms-urs-risks", UrsRisksDirective)
    app.connect("write-started", check, priority=660)
    app.connect("doctree-resolved", fill)
