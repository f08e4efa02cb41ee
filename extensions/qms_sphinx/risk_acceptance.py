"""Signed risk acceptances of the current build, verified once and shared by warnings and views."""

from __future__ import annotations

import weakref

from sphinx.application import Sphinx

from qms.model.traceability import Graph
from qms.services.risk_acceptance import AcceptanceFacts, site_acceptances
from qms_sphinx.approvals import judged_on
from qms_sphinx.graph import graph_of
from qms_sphinx.settings import settings
from qms_sphinx.state import documents

# Per build: the graph they were judged against, and the facts.
_FACTS: weakref.WeakKeyDictionary[Sphinx, tuple[Graph, AcceptanceFacts]] = (
    weakref.WeakKeyDictionary()
)


def acceptances_of(app: Sphinx) -> AcceptanceFacts:
    """The acceptances of this build's risks, verified on first use.

    Judged on the day statuses are (a release's own date); a commit (as 'qms risk accept'
    makes) changes every page's input digest, so the register is rewritten with it.
    """
    graph = graph_of(app)
    cached = _FACTS.get(app)
    if cached is not None and cached[0] is graph:
        return cached[1]
    docs = {need.docname for need in graph.needs.values() if need.docname}
    paths = {docname: str(app.env.doc2path(docname)) for docname in docs}
    registers = {name: (d.id, str(d.version)) for name, d in documents(app.env).items()}
    facts = site_acceptances(settings(app), graph, registers, paths, judged_on(app))
    _FACTS[app] = (graph, facts)
    return facts
