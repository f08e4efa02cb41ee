"""The document register: the master list of controlled documents, optionally by type."""

from __future__ import annotations

from collections.abc import Set

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective

from qms.model.document import DocumentType
from qms_sphinx.approvals import css_slug, row_for
from qms_sphinx.state import documents, view_pages
from qms_sphinx.tables import Html, html_badge, html_link, html_table

COLUMNS = ("ID", "Title", "Type", "Version", "Status", "Owner", "Next review")


class register_placeholder(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """Placeholder, filled in once every document has been read."""


def _type_option(argument: str | None) -> str:
    return directives.choice(argument or "", list(DocumentType))


class RegisterDirective(SphinxDirective):
    """``{qms-register}``: a table of every controlled document, or of one ``:type:``."""

    has_content = False
    option_spec = {"type": _type_option}  # noqa: RUF012 - docutils API

    def run(self) -> list[nodes.Node]:
        view_pages(self.env).add(self.env.docname)
        node = register_placeholder(doc_type=self.options.get("type", ""))
        self.set_source_info(node)
        return [node]


def render(app: Sphinx, fromdocname: str, doc_type: str) -> nodes.Node:
    """Build the register table as it stands at write time (HTML output only)."""
    entries = sorted(
        (
            (name, doc)
            for name, doc in documents(app.env).items()
            if not doc_type or doc.type == doc_type
        ),
        key=lambda item: item[1].id,
    )
    if not entries:
        return nodes.paragraph("", "No controlled documents of this type yet.")
    rows: list[list[str | Html]] = []
    for docname, document in entries:
        row = row_for(app, docname)
        rows.append(
            [
                html_link(app.builder.get_relative_uri(fromdocname, docname), document.id),
                document.title,
                str(document.type),
                str(document.version),
                html_badge(str(row.status.status), f"qms-badge-{css_slug(row)}"),
                document.owner,
                row.next_review.isoformat() if row.next_review else "not set",
            ]
        )
    return html_table(COLUMNS, rows, ["qms-register"])


def fill(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each placeholder with the current register."""
    for node in list(doctree.findall(register_placeholder)):
        node.replace_self(render(app, docname, node["doc_type"]))


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """Forget that a page showed a register; re-reading it records it again."""
    view_pages(env).discard(docname)


def merge(app: Sphinx, env: BuildEnvironment, docnames: Set[str], other: BuildEnvironment) -> None:
    """Take over register pages found by a parallel reader."""
    view_pages(env).update(name for name in view_pages(other) if name in docnames)


def outdated(
    app: Sphinx, env: BuildEnvironment, added: Set[str], changed: Set[str], removed: Set[str]
) -> list[str]:
    """Rewrite register pages whenever any document came, went or changed."""
    if added or changed or removed:
        return sorted(view_pages(env) - set(removed))
    return []


def setup(app: Sphinx) -> None:
    """Register the directive, node and events."""
    app.add_node(register_placeholder)
    app.add_directive("qms-register", RegisterDirective)
    app.connect("doctree-resolved", fill)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-get-outdated", outdated)
