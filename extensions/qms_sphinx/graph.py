"""The traceability graph of the current build, built once from sphinx-needs' resolved needs."""

from __future__ import annotations

import weakref

from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx_needs.api import get_needs_view

from qms.model.traceability import Graph, Need
from qms_sphinx.state import retired

# Built at write-started, after sphinx-needs resolved every link; parallel writers
# are forked after that and inherit it.
_GRAPHS: weakref.WeakKeyDictionary[Sphinx, Graph] = weakref.WeakKeyDictionary()


def build_graph(app: Sphinx, builder: Builder | None = None) -> Graph:
    """(Re)build the graph from sphinx-needs' data.

    A retired document's items are archive content: they implement, mitigate and
    demonstrate nothing any more, so the SoA, the matrix and the rules leave them out.
    """
    needs = get_needs_view(app)
    archived = retired(app.env)
    graph = Graph.build(
        Need.from_mapping(need) for need in needs.values() if need["docname"] not in archived
    )
    _GRAPHS[app] = graph
    return graph


def graph_of(app: Sphinx) -> Graph:
    """The graph of this build."""
    return _GRAPHS.get(app) or build_graph(app)
