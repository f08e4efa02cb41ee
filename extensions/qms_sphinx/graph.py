"""The traceability graph of the current build, built once from sphinx-needs' resolved needs."""

from __future__ import annotations

import weakref
from collections.abc import Mapping

from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx_needs.api import get_needs_view
from sphinx_needs.need_item import NeedItem

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


def drop_retired_back_links(app: Sphinx, needs: Mapping[str, NeedItem]) -> None:
    """Leave a retired document's items out of the back links of the items in use, so that
    a control's own box no longer lists a retired procedure among those implementing it.

    The retired items keep their own links: their archive copy shows what they linked to.
    """
    archived = retired(app.env)
    if not archived:
        return
    gone = {key for key, need in needs.items() if need["docname"] in archived}
    if not gone:
        return
    for need in needs.values():
        if need["docname"] in archived:
            continue
        for field in [key for key in need if key.endswith("_back")]:
            kept = [target for target in need[field] if target not in gone]
            if len(kept) != len(need[field]):
                need[field] = kept


def setup(app: Sphinx) -> None:
    """Prune back links once sphinx-needs has resolved them, before it seals the data."""
    app.connect("needs-before-sealing", drop_retired_back_links)
