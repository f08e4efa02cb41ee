"""Completeness rules over the traceability graph, as located build warnings and notices."""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.util import logging

from qms.model.audits import audit_findings
from qms.model.change_requests import reason_findings
from qms.model.findings import NOTICE_CODES, Finding
from qms.model.risk_acceptance import owner_role
from qms.model.risk_owners import Treated, owner_findings
from qms.model.traceability import Graph, completeness_findings, risk_rows
from qms_sphinx.catalogue import catalogues_of
from qms_sphinx.docrefs import exact_line
from qms_sphinx.graph import build_graph
from qms_sphinx.risk_acceptance import acceptances_of
from qms_sphinx.settings import settings
from qms_sphinx.state import documents, mentions

logger = logging.getLogger(__name__)


def check(app: Sphinx, builder: Builder) -> None:
    """Build the graph once every need is resolved, then apply the rules to it.

    A release build holds one set only, so the rules (which judge the whole
    handbook, checked before the release was created) do not apply there.
    """
    graph = build_graph(app)
    if app.config.qms_release is not None:
        return
    locate: dict[str, tuple[str, int | None]] = {}
    for catalogue in catalogues_of(app).catalogues:
        for requirement in catalogue.requirements:
            # Requirements from data files are fixed in the data file, not on the page.
            locate[requirement.id] = (str(Path(app.confdir) / catalogue.path), requirement.line)
    docs = {need.docname for need in graph.needs.values()}
    paths = {docname: str(app.env.doc2path(docname)) for docname in docs if docname}
    for need in graph.needs.values():
        locate.setdefault(need.id, (paths.get(need.docname, need.docname), need.lineno))
    threshold = settings(app).risk_acceptance_threshold
    acceptances = acceptances_of(app)
    found = [*completeness_findings(graph, threshold, locate, acceptances.accepted)]
    # Internal audits and CAPA: a CAPA's changes name versions of the documents read.
    versions = {document.id: document.version for document in documents(app.env).values()}
    found += audit_findings(graph, versions, locate)
    # Change control: the ids a working copy's change reason names exist.
    found += reason_findings(
        [(d, str(app.env.doc2path(name))) for name, d in sorted(documents(app.env).items())],
        graph,
    )
    found += _risk_owner_findings(app, graph)
    for finding in [*found, *acceptances.findings]:
        where = f"{finding.path}:{finding.line}" if finding.line else finding.path
        # A notice (a lapsed acceptance) is logged as info, so that -W passes; the qms
        # command still collects, prints and counts it (services/sphinx_run.py).
        log = logger.info if finding.code in NOTICE_CODES else logger.warning
        log(finding.message, location=where, type="qms", subtype=finding.code)


def _risk_owner_findings(app: Sphinx, graph: Graph) -> list[Finding]:
    """Each plan's risk_owners against the owners of the risks it names (6.1.3 e)."""
    config = settings(app)
    titles = dict(config.role_titles)
    owners = {row.risk.id: row.risk.text("risk_owner") for row in risk_rows(graph)}
    found: list[Finding] = []
    for docname, document in sorted(documents(app.env).items()):
        if not document.risk_owners:
            continue
        treated: dict[str, Treated] = {}
        for token, line in mentions(app.env).get(docname, ()):
            if token in owners and token not in treated:
                owner = owners[token]
                where = exact_line(app, docname, token, line)
                treated[token] = Treated(token, where, owner, owner_role(owner, titles))
        configured = config.owner_rule(document) is not None
        path = str(app.env.doc2path(docname))
        found += owner_findings(document, path, list(treated.values()), configured)
    return found


def setup(app: Sphinx) -> None:
    """Run after sphinx-needs' own validation (write-started, default priority)."""
    app.connect("write-started", check, priority=650)
