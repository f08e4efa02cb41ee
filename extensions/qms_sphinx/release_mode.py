"""Preview and release builds: the banner on every page, print footer, DRAFT watermark.

A preview (any build without `qms_release`) says on every page that it is not a
controlled copy. A release build names the release, its date and set; the names of
its signers are filled in by `_static/qms-release-signers.js`, which `qms release
publish` writes from the verified signatures (they do not exist when pages are built).
"""

from __future__ import annotations

import posixpath
from html import escape
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

from qms.model.css import css_string
from qms.model.release import SIGNERS_SCRIPT_NAME
from qms.model.status import Status
from qms.services.pdf_pages import book_name, pdf_name
from qms_sphinx.approvals import state_of
from qms_sphinx.search import NO_SEARCH
from qms_sphinx.state import documents

# Links to documents outside a set are expected in a set's build; the full
# handbook has already passed `qms check` before a release is created.
RELEASE_SUPPRESSED = (
    "myst.xref_missing", "needs.link_outgoing", "needs.link_target_type", "toc.excluded",
    "toc.not_readable", "toc.empty_glob", "ref.doc", "ref.any",
    # A release may publish an earlier version in force while a later one is in review;
    # the commit itself passed change control before the release was created.
    "qms.version-backwards",
)  # fmt: skip


def release_of(config: Config) -> dict[str, Any] | None:
    """The release being built, or None for a preview."""
    value: dict[str, Any] | None = config.qms_release
    return value


def configure(app: Sphinx, config: Config) -> None:
    """In a release build, narrow the sources to the set and load the signers script."""
    release = release_of(config)
    if release is not None:
        config.exclude_patterns = [*config.exclude_patterns, *release.get("exclude", [])]
        config.suppress_warnings = [*config.suppress_warnings, *RELEASE_SUPPRESSED]
        app.add_js_file(SIGNERS_SCRIPT_NAME)


def _pdf_link(release: dict[str, Any], pagename: str, document_id: str | None) -> str:
    """A link from a release page to its PDF: the document's own, or the set's book."""
    if document_id is None and "set" not in release:
        return ""
    target = f"pdf/{pdf_name(document_id)}" if document_id else f"pdf/{book_name(release['set'])}"
    href = posixpath.relpath(target, posixpath.dirname(pagename) or ".")
    label = "PDF of this document" if document_id else "the whole set as one PDF"
    return f' <a class="qms-pdf-link" href="{escape(href)}">{label}</a>'


def banner(config: Config, pagename: str = "", document_id: str | None = None) -> str:
    """The line at the top of every page: preview, or which release this is."""
    release = release_of(config)
    if release is None:
        return (
            f'<div class="qms-site-banner qms-preview {NO_SEARCH}"><strong>PREVIEW, not a '
            "controlled copy.</strong> Built from a working copy; only a signed release is the "
            "handbook in force.</div>"
        )
    return (
        f'<div class="qms-site-banner qms-release {NO_SEARCH}">'
        f"<strong>Release {escape(release['name'])}</strong>: {escape(release['title'])}, "
        f"{escape(release['date'])}. "
        '<span id="qms-release-signers">Signatures: see manifest.json.</span>'
        f"{_pdf_link(release, pagename, document_id)}</div>"
    )


def print_footer(text: str) -> str:
    """A style element that prints `text` and "Page x of y" at the foot of every page.

    CSS margin boxes (Chromium, WeasyPrint) repeat on each printed page without
    covering content, which a fixed-position element does.
    """
    return (
        '<style class="qms-print-footer" media="print">@page { '
        f"@bottom-left {{ content: {css_string(text)}; }} "
        '@bottom-right { content: "Page " counter(page) " of " counter(pages); } }</style>\n'
    )


def page_extras(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: object
) -> None:
    """Banner on every page; print footer and, when not in force, a watermark on documents."""
    if "body" not in context:
        return
    document = documents(app.env).get(pagename)
    own_pdf = document.id if document is not None else None
    release = release_of(app.config)
    later = release.get("later", {}).get(own_pdf, "") if release and own_pdf else ""
    note = (
        '<div class="qms-release-note"><strong>This is the version in force.</strong> '
        f"{escape(later)} It replaces this one only once it is effective.</div>"
        if later
        else ""
    )
    context["body"] = banner(app.config, pagename, own_pdf) + note + context["body"]
    where = f"Release {release['name']}" if release else "PREVIEW build"
    if document is None:
        title = str(context.get("title") or pagename)
        footer = f"{title}, {where}. Uncontrolled when printed."
        context["metatags"] = context.get("metatags", "") + print_footer(footer)
        return
    status = state_of(app, pagename, document).row.status.status
    footer = (
        f"{document.id} version {document.version}, {str(status).upper()}, {where}. "
        "Uncontrolled when printed."
    )
    context["metatags"] = context.get("metatags", "") + print_footer(footer)
    if status is not Status.EFFECTIVE:
        label = escape(str(status).upper())
        context["body"] += (
            f'<div class="qms-watermark {NO_SEARCH}" aria-hidden="true">{label}</div>'
        )


def setup(app: Sphinx) -> None:
    """Register the release setting and the page hooks."""
    app.add_config_value("qms_release", None, "env", types=(dict, type(None)))
    app.connect("config-inited", configure, priority=6)
    app.connect("html-page-context", page_extras)
