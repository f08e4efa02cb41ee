"""The change control log page and the document versions each CAPA or change request is named by."""

from __future__ import annotations

from collections.abc import Sequence, Set
from html import escape

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective

from qms.model.audits import capa_items, changed_versions
from qms.model.change_requests import (
    ChangeRow,
    ChangeState,
    DocumentVersion,
    VersionNaming,
    change_rows,
    namings,
)
from qms.model.traceability import Graph
from qms.services.change_requests import versions_of
from qms_sphinx.approvals import state_of
from qms_sphinx.graph import graph_of
from qms_sphinx.state import documents, view_pages
from qms_sphinx.superseded import superseded_page, superseded_versions
from qms_sphinx.tables import Html, html_badge, html_code, html_link, html_node, html_table

LOG = ("Change", "Title", "Requester", "Owner", "Affects", "Document versions", "State")
_BADGES = {ChangeState.REQUESTED: "open", ChangeState.IN_PROGRESS: "open",
           ChangeState.IMPLEMENTED: "done"}  # fmt: skip


class change_placeholder(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """Placeholder for the change control log, filled once every need and page is known."""


class ChangeLogDirective(SphinxDirective):
    """``{qms-change-log}``: every change request, the documents it affects, the versions
    naming it in their change reason (each linked) and its state, derived from their
    verified approvals."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        view_pages(self.env).add(self.env.docname)
        change_pages(self.env).add(self.env.docname)
        node = change_placeholder()
        self.set_source_info(node)
        return [node]


def site_versions(app: Sphinx) -> list[DocumentVersion]:
    """Every version of every document of the site with its reason and verified approval."""
    return [
        version
        for docname, document in sorted(documents(app.env).items())
        for version in versions_of(document, state_of(app, docname, document).history)
    ]


def site_namings(app: Sphinx) -> dict[str, tuple[VersionNaming, ...]]:
    """For each CAPA or change-request id, the document versions whose reason names it."""
    return namings(site_versions(app))


def capa_namings(app: Sphinx, graph: Graph) -> dict[str, tuple[VersionNaming, ...]]:
    """For each CAPA, the document versions naming it in their reason and those its own
    `changes` field names ('SOP-X-001 2.1'), once each."""
    named = namings(
        site_versions(app),
        {item.id: changed_versions(item.need.text("changes")) for item in capa_items(graph)},
    )
    return {item.id: named.get(item.id, ()) for item in capa_items(graph)}


def version_links(app: Sphinx, fromdocname: str, named_by: Sequence[VersionNaming]) -> Html:
    """Each version as a link to that version's page: the document's own page for the
    version it holds, the SUPERSEDED page of an earlier approved version; then whether it
    is approved."""
    pages = {document.id: (docname, document) for docname, document in documents(app.env).items()}
    parts = []
    for naming in named_by:
        docname, document = pages[naming.document_id]
        target = docname
        if not naming.current:
            state = state_of(app, docname, document)
            shown = {row.version for row in superseded_versions(app, document, state)}
            if naming.version in shown:
                target = superseded_page(document, naming.version)
        uri = app.builder.get_relative_uri(fromdocname, target)
        parts.append(f"{html_link(uri, naming.label).markup} ({escape(naming.status)})")
    return Html("; ".join(parts))


def _document_links(app: Sphinx, fromdocname: str, ids: Sequence[str]) -> Html:
    pages = {document.id: docname for docname, document in documents(app.env).items()}
    links = [
        html_link(app.builder.get_relative_uri(fromdocname, pages[i]), i).markup
        if i in pages
        else html_code(i).markup
        for i in ids
    ]
    return Html(", ".join(links))


def _rows(app: Sphinx, fromdocname: str, rows: Sequence[ChangeRow]) -> list[list[str | Html]]:
    found: list[list[str | Html]] = []
    for row in rows:
        need = row.need
        link = html_link(app.builder.get_relative_uri(fromdocname, need.docname) + f"#{need.id}",
                         need.id)  # fmt: skip
        found.append(
            [link, need.title, need.text("requester"), need.text("owner"),
             _document_links(app, fromdocname, row.affects),
             version_links(app, fromdocname, row.named_by) if row.named_by else "none yet",
             html_badge(str(row.state), f"qms-badge-change-{_BADGES[row.state]}")]
        )  # fmt: skip
    return found


def render_log(app: Sphinx, fromdocname: str, graph: Graph) -> list[nodes.Node]:
    """The change control log, its states from the verified approvals this build holds."""
    rows = change_rows(graph, site_namings(app))
    if not rows:
        return [nodes.paragraph("", "No change request is recorded in this handbook.")]
    done = sum(row.state is ChangeState.IMPLEMENTED for row in rows)
    return [
        nodes.paragraph("", f"{len(rows)} change requests; {done} implemented."),
        html_node(html_table(LOG, _rows(app, fromdocname, rows), ["qms-changes"], wide=True)),
    ]


def change_pages(env: BuildEnvironment) -> set[str]:
    """Docnames of pages showing the change control log: what they show depends on the
    approvals of other pages, so they are rewritten on every build."""
    found: set[str] | None = getattr(env, "qms_change_pages", None)
    if found is None:
        found = set()
        env.qms_change_pages = found  # type: ignore[attr-defined]
    return found


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """Forget a page; re-reading it records it again."""
    change_pages(env).discard(docname)


def merge(app: Sphinx, env: BuildEnvironment, docnames: Set[str], other: BuildEnvironment) -> None:
    """Take over the pages a parallel reader found."""
    change_pages(env).update(name for name in change_pages(other) if name in docnames)


def rewrite(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Every change control log page, to be written again."""
    return sorted(name for name in change_pages(env) if name in env.found_docs)


def fill(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each placeholder with the log."""
    for node in list(doctree.findall(change_placeholder)):
        node.replace_self(render_log(app, docname, graph_of(app)))


def setup(app: Sphinx) -> None:
    """Register the directive and its events."""
    app.add_node(change_placeholder)
    app.add_directive("qms-change-log", ChangeLogDirective)
    app.connect("doctree-resolved", fill)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-updated", rewrite)
