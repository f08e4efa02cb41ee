"""The document-control block that opens every controlled document's page."""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx

from qms.model.approval_rules import RecordVerdict
from qms.model.document import Document
from qms.model.status import Status
from qms.model.timeutil import display_utc
from qms_sphinx.approvals import css_slug, state_of
from qms_sphinx.search import NO_SEARCH
from qms_sphinx.settings import settings
from qms_sphinx.state import PageState, controlled, documents
from qms_sphinx.superseded import superseded_page, superseded_versions
from qms_sphinx.tables import Cell, scrolling, table


class control_block(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """Placeholder, filled in when the page is written so that status is current."""


def insert_placeholder(app: Sphinx, doctree: nodes.document) -> None:
    """Put a placeholder right under the page title of a controlled document."""
    docname = app.env.docname
    if docname not in controlled(app.env):
        return
    block = control_block(docname=docname)
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None and section.children and isinstance(section[0], nodes.title):
        section.insert(1, block)
    else:
        doctree.insert(0, block)


def _row(label: str, value: nodes.Node | str) -> nodes.row:
    row = nodes.row()
    head = nodes.entry("", nodes.paragraph("", label))
    head["classes"].append("qms-label")
    body = nodes.entry("", value if isinstance(value, nodes.Node) else nodes.paragraph("", value))
    row += [head, body]
    return row


def _table(rows: list[nodes.row]) -> nodes.table:
    table = nodes.table(classes=["qms-control-table"])
    group = nodes.tgroup(cols=2)
    group += [nodes.colspec(colwidth=1), nodes.colspec(colwidth=3)]
    group += nodes.tbody("", *rows)
    table += group
    return table


# The block shows a current document's status only: a superseded version has its own page
# and banner (superseded.py), and a deleted document has no page, just a register row; a
# retired one (qms retire) keeps its page as an archive copy, under this banner.
_BANNERS = {
    Status.DRAFT: "DRAFT: not approved, not for use",
    Status.NOT_APPROVED: "NOT APPROVED: changed since it was signed, not for use",
    Status.IN_REVIEW: "IN REVIEW: not yet approved, not for use",
    Status.APPROVED: "APPROVED: not yet in force",
    Status.RETIRED: "RETIRED: withdrawn from use, kept as an archive copy; not for use",
}


def _training_row(app: Sphinx, state: PageState) -> list[nodes.row]:
    """Which roles must read the document and how many of them are trained: counts only,
    never names, so every set may show it. One line per role, under the total."""
    training = state.training
    if training is None:
        return []
    if not training.roles:
        return [_row("Training", "required of no role")]
    total = nodes.paragraph("", f"{training.done} of {training.affected} people trained")
    roles = nodes.bullet_list(classes=["qms-training-roles"])
    for r in training.roles:
        text = f"{settings(app).role_title(r.role)}: {r.done} of {r.affected}"
        roles += nodes.list_item("", nodes.paragraph("", text))
    return [_row("Training", nodes.container("", total, roles))]


def _retirement_rows(state: PageState) -> list[nodes.row]:
    """When and why a retired document was withdrawn, and how long it is kept."""
    retired = state.retirement
    if retired is None:
        return []
    kept = retired.keep_until.isoformat() if retired.keep_until else "no retention period set"
    return [
        _row("Retired", f"{display_utc(retired.at)}: {retired.reason}"),
        _row("Keep until", kept),
    ]


def _manifestation(app: Sphinx, signatures: tuple[RecordVerdict, ...]) -> nodes.Node:
    """21 CFR 11.50: printed name, role, meaning, UTC time and key of each signature, and
    whether a TSA certified the time (11.10(e))."""
    if not signatures:
        return nodes.paragraph("", "No verified signatures on this version.")
    head = nodes.thead(
        "",
        nodes.row(
            "", *(_entry(t) for t in ("Meaning", "Signed by", "Role", "UTC", "Time source", "Key"))
        ),
    )
    body = nodes.tbody()
    for verdict in signatures:
        statement = verdict.record.statement
        if statement is None:
            continue
        when = display_utc(statement.signed_at)
        key = nodes.literal("", statement.signer_fingerprint)
        cells: list[nodes.Node | str] = [
            _meaning(str(statement.meaning), statement.wording),
            statement.signer_name,
            settings(app).role_title(statement.role),
            when + (f" ({verdict.note})" if verdict.note else ""),
            verdict.record.signature.time_source,
            key,
        ]
        body += nodes.row("", *(_entry(cell) for cell in cells))
    group = nodes.tgroup(cols=6)
    group += [nodes.colspec(colwidth=w) for w in (2, 3, 2, 3, 3, 5)]
    group += [head, body]
    return scrolling(nodes.table("", group, classes=["qms-signatures"]))


def _history(app: Sphinx, docname: str, document: Document, state: PageState) -> nodes.Node:
    """Version, date, change reason, author and approvals of every committed version."""
    rows: list[list[Cell]] = []
    superseded = {row.version for row in superseded_versions(app, document, state)}
    for row in reversed(state.history):
        version: Cell = str(row.version)
        if row.version in superseded:
            target = superseded_page(document, row.version)
            uri = app.builder.get_relative_uri(docname, target)
            version = nodes.reference("", str(row.version), internal=True, refuri=uri)
        approvals = "; ".join(
            f"{s.meaning} by {s.signer_name}, {s.signed_at.strftime('%Y-%m-%d')}"
            for s in row.signatures
        )
        rows.append([version, row.when.strftime("%Y-%m-%d"), row.change_reason or "-",
                     row.author, approvals or "none"])  # fmt: skip
    return scrolling(
        table(
            ["Version", "Date", "Change reason", "Committed by", "Approvals"],
            rows,
            classes=["qms-history"],
            widths=[1, 2, 5, 2, 5],
        )
    )


def _meaning(meaning: str, wording: str) -> nodes.Node | str:
    """The meaning, and the words the signer confirmed when the statement records them."""
    if not wording:
        return meaning
    words = nodes.inline("", f"\u201c{wording}\u201d", classes=["qms-wording"])
    return nodes.inline("", "", nodes.Text(meaning), words)


def _entry(content: nodes.Node | str) -> nodes.entry:
    if isinstance(content, str):
        return nodes.entry("", nodes.paragraph("", content))
    return nodes.entry("", nodes.paragraph("", "", content))


def render(app: Sphinx, docname: str) -> nodes.Node:
    """Build the block from the document's front matter and its verified state."""
    document = documents(app.env).get(docname)
    if document is None:
        warning = nodes.paragraph(
            "",
            "",
            nodes.strong("", "INVALID FRONT MATTER"),
            nodes.Text(": this page is not a controlled copy; see the build warnings"),
        )
        return nodes.container(
            "", warning, classes=["qms-control", "qms-status-invalid", NO_SEARCH]
        )
    state = state_of(app, docname, document)
    row = state.row
    status = row.status.status
    parts: list[nodes.Node] = []
    banner = _BANNERS.get(status)
    if banner is not None:
        parts.append(nodes.paragraph("", banner, classes=["qms-banner"]))
    status_text = nodes.paragraph(
        "", "", nodes.strong("", str(status).upper()), nodes.Text(f" ({row.status.reason})")
    )
    effective = document.effective.isoformat() if document.effective else "not set"
    review = row.next_review.isoformat() if row.next_review else "set when effective"
    review = f"{review} (every {document.review_months} months)"
    if state.retirement is not None:
        review = "none, retired"
    parts.append(
        _table(
            [
                _row("Document", nodes.paragraph("", "", nodes.literal("", document.id))),
                _row("Version", str(document.version)),
                _row("Type", str(document.type)),
                _row("Owner", document.owner),
                _row("Classification", str(document.classification)),
                _row("Effective", effective),
                _row("Next review", review),
                _row("Status", status_text),
                _row("Change", document.change_reason or "none recorded"),
                *_retirement_rows(state),
                *_training_row(app, state),
            ]
        )
    )
    parts.append(nodes.rubric("", "Signatures"))
    parts.append(_manifestation(app, state.signatures))
    if state.retirement is not None:
        parts.append(nodes.rubric("", "Retirement signatures"))
        parts.append(_manifestation(app, state.retirement.signatures))
    if state.history:
        parts.append(nodes.rubric("", "Revision history"))
        parts.append(_history(app, docname, document, state))
    # The same on every page: kept out of the search index and its snippets.
    classes = ["qms-control", f"qms-status-{css_slug(row)}", NO_SEARCH]
    return nodes.container("", *parts, classes=classes)


def fill(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each placeholder with the rendered block."""
    for block in list(doctree.findall(control_block)):
        block.replace_self(render(app, block["docname"]))


def setup(app: Sphinx) -> None:
    """Register the node and its events."""
    app.add_node(control_block)
    app.connect("doctree-read", insert_placeholder)
    app.connect("doctree-resolved", fill)
