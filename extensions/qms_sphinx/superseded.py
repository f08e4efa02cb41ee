"""Read-only pages for previous approved versions, marked SUPERSEDED.

They are extra HTML pages, not documents: never in the navigation or the search
index, reachable only from the current version's revision history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sphinx.application import Sphinx

from qms.model.document import Document, Version
from qms.model.status import Status
from qms.model.timeutil import display_utc
from qms.services.change_control import HistoryRow
from qms.services.history import committed_sources
from qms_sphinx.settings import settings
from qms_sphinx.state import PageState, documents, page_states
from qms_sphinx.superseded_html import render_superseded
from qms_sphinx.templating import render

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


@dataclass(frozen=True)
class SignatureRow:
    """One signature of a superseded version, as its page shows it."""

    meaning: str
    name: str
    role: str
    signed_at: str
    fingerprint: str


def _body(
    app: Sphinx,
    document: Document,
    docname: str,
    row: HistoryRow,
    rendered: str,
    role_title: Callable[[str], str],
) -> str:
    signatures = [
        SignatureRow(str(s.meaning), s.signer_name, role_title(s.role),
                     display_utc(s.signed_at), s.signer_fingerprint)
        for s in row.signatures
    ]  # fmt: skip
    return render(
        app,
        "qms-superseded.html",
        document=document,
        docname=docname,
        row=row,
        committed=display_utc(row.when),
        signatures=signatures,
        # Markdown rendered with raw HTML off and every text escaped (superseded_html.py).
        text=Markup(rendered),  # noqa: S704
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
            body = _body(app, document, docname, row, rendered, config.role_title)
            yield (
                superseded_page(document, row.version),
                {"title": title, "body": body},
                "page.html",
            )


def setup(app: Sphinx) -> None:
    """Add the pages when the HTML builder collects extra pages."""
    app.connect("html-collect-pages", collect)
