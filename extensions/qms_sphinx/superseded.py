"""Read-only pages for previous approved versions, marked SUPERSEDED.

They are extra HTML pages, not documents: never in the navigation or the search
index, reachable only from the current version's revision history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html import escape
from typing import Any

from sphinx.application import Sphinx

from qms.adapters.git import open_repository
from qms.model.document import Document, Version
from qms.model.status import Status
from qms.model.timeutil import format_utc
from qms.services.change_control import HistoryRow
from qms_sphinx.settings import settings
from qms_sphinx.state import documents, page_states

FOLDER = "superseded"


def superseded_page(document: Document, version: Version) -> str:
    """The page name of a previous version of `document`."""
    return f"{FOLDER}/{document.id.lower()}-v{version}"


def _body(
    document: Document, row: HistoryRow, source: str, role_title: Callable[[str], str]
) -> str:
    signatures = "".join(
        f"<tr><td>{escape(str(s.meaning))}</td><td>{escape(s.signer_name)}</td>"
        f"<td>{escape(role_title(s.role))}</td><td>{escape(format_utc(s.signed_at))}</td>"
        f"<td><code>{escape(s.signer_fingerprint)}</code></td></tr>"
        for s in row.signatures
    )
    return (
        '<div class="qms-control qms-status-superseded">'
        f'<p class="qms-banner">SUPERSEDED: version {escape(str(row.version))} was replaced by '
        f"version {escape(str(document.version))}; not for use</p>"
        f"<p><strong>{escape(document.id)}</strong> {escape(document.title)}, version "
        f"{escape(str(row.version))}, committed {escape(format_utc(row.when))} by "
        f"{escape(row.author)}. Change reason: {escape(row.change_reason or '-')}</p>"
        "<table><thead><tr><th>Meaning</th><th>Signed by</th><th>Role</th><th>UTC</th>"
        "<th>Key</th></tr></thead>"
        f"<tbody>{signatures}</tbody></table></div>"
        "<p>The approved source of this version, exactly as signed:</p>"
        f'<pre class="qms-superseded-source">{escape(source)}</pre>'
    )


def collect(app: Sphinx) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Yield one read-only page per previous approved version of each document."""
    if app.builder.format != "html" or app.config.qms_release is not None:
        return  # a release holds what is in force, and nothing else
    config = settings(app)
    repo = open_repository(config.root)
    if repo is None:
        return
    prefix = config.root.resolve().relative_to(repo.root.resolve()).as_posix()
    docs = documents(app.env)
    for docname, state in sorted(page_states(app.env).items()):
        document = docs.get(docname)
        if document is None:
            continue
        if state.row.status.status is not Status.EFFECTIVE:
            continue  # the last approved version is still the one in force
        for row in state.history:
            if row.approved_source is None or row.version == document.version:
                continue
            commit, path = row.approved_source
            source = repo.file_at(commit, path if prefix == "." else f"{prefix}/{path}")
            title = f"{document.id} {document.title}, version {row.version} (superseded)"
            body = _body(
                document, row, source.decode("utf-8-sig", errors="replace"), config.role_title
            )
            yield (
                superseded_page(document, row.version),
                {"title": title, "body": body},
                "page.html",
            )


def setup(app: Sphinx) -> None:
    """Add the pages when the HTML builder collects extra pages."""
    app.connect("html-collect-pages", collect)
