"""Read-only pages for previous approved versions, marked SUPERSEDED.

They are extra HTML pages, not documents: never in the navigation or the search
index, reachable only from the current version's revision history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html import escape
from typing import Any

from sphinx.application import Sphinx

from qms.model.document import Document, Version
from qms.model.status import Status
from qms.model.timeutil import display_utc
from qms.services.change_control import HistoryRow
from qms.services.history import committed_sources
from qms_sphinx.settings import settings
from qms_sphinx.state import PageState, documents, page_states
from qms_sphinx.superseded_html import render_superseded

FOLDER = "superseded"


def superseded_page(document: Document, version: Version) -> str:
    """The page name of a previous version of `document`."""
    return f"{FOLDER}/{document.id.lower()}-v{version}"


def superseded_versions(app: Sphinx, document: Document, state: PageState) -> list[HistoryRow]:
    """The previous approved versions of `document` this build shows, newest first.

    An earlier version is superseded only once the current one is in force; until
    then the last approved version is still the one in force. A release shows only the
    versions its set admits as they were (their classification then), as the release
    service lists them.
    """
    if state.row.status.status is not Status.EFFECTIVE:
        return []
    release: dict[str, Any] | None = app.config.qms_release
    admitted = set(release.get("superseded", {}).get(document.id, [])) if release else None
    return [
        row
        for row in reversed(state.history)
        # Only earlier versions: a later one may be approved, waiting for its date.
        if row.approved_source is not None
        and row.version < document.version
        and (admitted is None or str(row.version) in admitted)
    ]


def _body(
    document: Document,
    docname: str,
    row: HistoryRow,
    rendered: str,
    role_title: Callable[[str], str],
) -> str:
    signatures = "".join(
        f"<tr><td>{escape(str(s.meaning))}</td><td>{escape(s.signer_name)}</td>"
        f"<td>{escape(role_title(s.role))}</td><td>{escape(display_utc(s.signed_at))}</td>"
        f"<td><code>{escape(s.signer_fingerprint)}</code></td></tr>"
        for s in row.signatures
    )
    return (
        '<div class="qms-control qms-status-superseded">'
        f'<p class="qms-banner">SUPERSEDED: version {escape(str(row.version))} was replaced by '
        f'<a href="../{escape(docname)}.html">version {escape(str(document.version))}, the '
        "version in force</a>; not for use</p>"
        f"<p><strong>{escape(document.id)}</strong> {escape(document.title)}, version "
        f"{escape(str(row.version))}, committed {escape(display_utc(row.when))} by "
        f"{escape(row.author)}. Change reason: {escape(row.change_reason or '-')}</p>"
        '<div class="qms-scroll"><table><thead><tr><th>Meaning</th><th>Signed by</th>'
        "<th>Role</th><th>UTC</th><th>Key</th></tr></thead>"
        f"<tbody>{signatures}</tbody></table></div></div>"
        "<p>The text of this version as approved (read only; links lead to the pages in "
        "force):</p>"
        f'<div class="qms-superseded-text">{rendered}</div>'
    )


def collect(app: Sphinx) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Yield one read-only page per previous approved version of each document."""
    if app.builder.format != "html":
        return
    config = settings(app)
    sources = committed_sources(config)
    if sources is None:
        return
    docs = documents(app.env)
    for docname, state in sorted(page_states(app.env).items()):
        document = docs.get(docname)
        if document is None:
            continue
        for row in superseded_versions(app, document, state):
            if (approved := row.approved_source) is None:
                continue  # not reached: only approved versions are superseded
            commit, path = approved
            source = sources.read(commit, path)
            title = f"{document.id} {document.title}, version {row.version} (superseded)"
            text = source.decode("utf-8-sig", errors="replace")
            rendered = render_superseded(text, docname, lambda name: name in app.env.found_docs)
            body = _body(document, docname, row, rendered, config.role_title)
            yield (
                superseded_page(document, row.version),
                {"title": title, "body": body},
                "page.html",
            )


def setup(app: Sphinx) -> None:
    """Add the pages when the HTML builder collects extra pages."""
    app.connect("html-collect-pages", collect)
