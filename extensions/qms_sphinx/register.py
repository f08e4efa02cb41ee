"""The document register: the master list of controlled documents, optionally by type."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, replace
from html import escape

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective

from qms.clock import today
from qms.model.document import Document, DocumentType
from qms.model.status import Evidence
from qms.services.handbook import StatusRow, status_of
from qms.services.history import withdrawn
from qms_sphinx.approvals import css_slug, row_for, state_of
from qms_sphinx.external import section as external_section
from qms_sphinx.settings import settings
from qms_sphinx.state import documents, retired, site_state, view_pages
from qms_sphinx.superseded import superseded_page, superseded_versions
from qms_sphinx.tables import Html, html_badge, html_code, html_link, html_node, html_table

COLUMNS = ("ID", "Title", "Type", "Version", "Status", "Owner", "Classification", "Effective",
           "Next review")  # fmt: skip
RETIRED_COLUMNS = ("ID", "Title", "Type", "Version", "Status", "Owner", "Classification",
                   "Out of force since", "Note")  # fmt: skip
FILTERS = (("type", "Type"), ("status", "Status"), ("owner", "Owner"))


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


def _data(document: Document, status: str) -> dict[str, str]:
    """What the register's filter matches a row on (qms.js)."""
    return {"type": str(document.type), "status": status, "owner": document.owner}


Filterable = tuple[str, list[dict[str, str]]]  # a table's markup and its rows' filter data


def _current(app: Sphinx, fromdocname: str, entries: list[tuple[str, Document]]) -> Filterable:
    rows: list[list[str | Html]] = []
    data: list[dict[str, str]] = []
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
                str(document.classification),
                document.effective.isoformat() if document.effective else "not set",
                row.next_review.isoformat() if row.next_review else "not set",
            ]
        )
        data.append(_data(document, str(row.status.status)))
    return html_table(COLUMNS, rows, ["qms-register", "qms-sortable"], data, wide=True), data


@dataclass(frozen=True)
class _OutOfForce:
    """One row of the second table: a superseded version or a withdrawn document."""

    row: StatusRow
    id_cell: Html
    since: str
    note: str | Html


def _out_of_force(
    app: Sphinx, fromdocname: str, entries: list[tuple[str, Document]], doc_type: str
) -> Filterable:
    """Superseded versions (linked to their pages), retired documents (linked to their
    archive copies) and withdrawn documents, by id."""
    config = settings(app)
    found: list[_OutOfForce] = []
    for docname, document in entries:
        current = app.builder.get_relative_uri(fromdocname, docname)
        since = document.effective.isoformat() if document.effective else "not set"
        note = Html(f"replaced by {html_link(current, f'version {document.version}').markup}")
        for history in superseded_versions(app, document, state_of(app, docname, document)):
            older = replace(document, version=history.version)
            row = status_of(older, config, today(), Evidence(superseded=True))
            page = superseded_page(document, history.version)
            link = html_link(app.builder.get_relative_uri(fromdocname, page), document.id)
            found.append(_OutOfForce(row, link, since, note))
    archived = retired(app.env)
    for docname, document in entries:
        if (retirement := archived.get(docname)) is None:
            continue
        kept = f"keep until {retirement.keep_until.isoformat()}" if retirement.keep_until else (
            "no retention period configured")  # fmt: skip
        link = html_link(app.builder.get_relative_uri(fromdocname, docname), document.id)
        found.append(_OutOfForce(row_for(app, docname), link, retirement.at.date().isoformat(),
                                 f"retired: {retirement.reason}; {kept}"))  # fmt: skip
    revisions = site_state(app.env).revisions
    current_ids = {document.id for document in documents(app.env).values()}
    for withdrawal in withdrawn(config, revisions, current_ids, today()):
        document = withdrawal.row.document
        if not doc_type or document.type == doc_type:
            found.append(_OutOfForce(
                withdrawal.row, html_code(document.id), withdrawal.when.date().isoformat(),
                f"withdrawn in commit {withdrawal.commit[:12]}",
            ))  # fmt: skip
    if not found:
        return "", []
    found.sort(key=lambda item: item.row.document.version, reverse=True)
    found.sort(key=lambda item: item.row.document.id)  # by id, newest version first
    rows: list[list[str | Html]] = []
    data: list[dict[str, str]] = []
    for item in found:
        document, status = item.row.document, str(item.row.status.status)
        rows.append(
            [item.id_cell, document.title, str(document.type), str(document.version),
             html_badge(status, f"qms-badge-{css_slug(item.row)}"), document.owner,
             str(document.classification), item.since, item.note]
        )  # fmt: skip
        data.append(_data(document, status))
    markup = (
        '<p class="rubric">Superseded and withdrawn</p>\n'
        "<p>Not for use. Kept so that records made under them can be traced; a retired "
        "document until the date its note gives.</p>\n"
        + html_table(
            RETIRED_COLUMNS, rows, ["qms-register", "qms-register-retired"], data, wide=True
        )
    )
    return markup, data


def _filter(rows: list[dict[str, str]], doc_type: str) -> str:
    """The filter form; hidden until qms.js shows it, as it does nothing without script."""
    values: dict[str, set[str]] = {key: set() for key, _ in FILTERS}
    for row in rows:
        for key, value in row.items():
            values[key].add(value)
    fields = []
    for key, label in FILTERS:
        if key == "type" and doc_type:
            continue
        options = "".join(
            f'<option value="{escape(value)}">{escape(value)}</option>'
            for value in sorted(values[key], key=str.casefold)
        )
        fields.append(
            f'<label>{escape(label)} <select name="{key}"><option value="">all</option>'
            f"{options}</select></label>"
        )
    return (
        '<form class="qms-filter" hidden role="search" aria-label="Filter the register">'
        + "".join(fields)
        + '<output class="qms-filter-count" aria-live="polite"></output></form>\n'
    )


def render(app: Sphinx, fromdocname: str, doc_type: str) -> nodes.Node:
    """The register as it stands at write time (HTML output only): the documents in the
    handbook in use, then the superseded versions, retired and withdrawn documents."""
    entries = sorted(
        (
            (name, doc)
            for name, doc in documents(app.env).items()
            if not doc_type or doc.type == doc_type
        ),
        key=lambda item: item[1].id,
    )
    out_of_force, out_of_force_rows = _out_of_force(app, fromdocname, entries, doc_type)
    # A retired document's page stays as an archive copy; it is listed with the withdrawn.
    archived = retired(app.env)
    entries = [(name, document) for name, document in entries if name not in archived]
    if not entries and not out_of_force:
        return nodes.paragraph("", "No controlled documents of this type yet.")
    current, current_rows = (
        _current(app, fromdocname, entries)
        if entries
        else ("<p>No controlled documents of this type in the handbook.</p>\n", [])
    )
    return html_node(
        '<div class="qms-register-view">\n'
        + _filter(current_rows + out_of_force_rows, doc_type)
        + current
        + out_of_force
        + "</div>\n"
        + ("" if doc_type else external_section(app))
    )


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
