"""KPI definitions and manual results checked on every build, as located warnings."""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.util import logging

from qms.model.findings import Finding
from qms.model.metrics import check_results, metrics_of
from qms.model.vocabulary import METRIC
from qms.services.metric_results import RESULTS_FOLDER, load_results
from qms_sphinx.graph import graph_of

logger = logging.getLogger(__name__)


def _log(finding: Finding) -> None:
    where = f"{finding.path}:{finding.line}" if finding.line else finding.path
    logger.warning(finding.message, location=where, type="qms", subtype=finding.code)


def check(app: Sphinx, builder: Builder) -> None:
    """Each ill-defined metric at its need, each bad result at its line in docs/_metrics/."""
    if app.config.qms_release is not None:
        return  # checked on the whole handbook before the release was made, as completeness
    graph = graph_of(app)
    docs = {need.docname for need in graph.needs.values() if need.docname}
    locate = {
        need.id: (str(app.env.doc2path(need.docname)), need.lineno)
        for need in graph.needs.values()
        if need.docname in docs
    }
    metrics, findings = metrics_of(graph, locate)
    files, problems = load_results(Path(app.srcdir) / RESULTS_FOLDER, Path(app.confdir))
    known = {m.id: m for m in metrics}
    ill_defined = {n.id for n in graph.of_type(METRIC) if n.id not in known}
    _, mismatches = check_results(files, known, ill_defined)
    for finding in (*findings, *problems, *mismatches):
        _log(finding)


def setup(app: Sphinx) -> None:
    """After the completeness rules, which build the graph (write-started)."""
    app.connect("write-started", check, priority=660)
