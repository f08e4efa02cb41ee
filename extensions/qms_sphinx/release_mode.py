"""Preview and release builds: the banner on every page, print footer, DRAFT watermark.

A preview (any build without `qms_release`) says on every page that it is not a
controlled copy. A release build names the release, its date and set; the names of
its signers are filled in by `_static/qms-release-signers.js`, which `qms release
publish` writes from the verified signatures (they do not exist when pages are built).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

from qms.model.release import SIGNERS_SCRIPT_NAME
from qms.model.site_pages import PREVIEW_TAG, set_tag
from qms.model.status import Status
from qms.services.pdf_pages import book_name, pdf_name
from qms_sphinx.approvals import state_of
from qms_sphinx.search import NO_SEARCH
from qms_sphinx.state import documents
from qms_sphinx.templating import render

# Links to documents outside a set are expected in a set's build; the full
# handbook has already passed `qms check` before a release is created.
RELEASE_SUPPRESSED = (
    "myst.xref_missing", "needs.link_outgoing", "needs.link_target_type", "toc.excluded",
    "toc.not_readable", "toc.empty_glob", "ref.doc", "ref.any",
    # A release may publish an earlier version in force while a later one is in review;
    # the commit itself passed change control before the release was created.
    "qms.version-backwards",
    # So a dashboard may name a KPI or document of a version not yet in force.
    "qms.dashboard",
)  # fmt: skip


def release_of(config: Config) -> dict[str, Any] | None:
    """The release being built, or None for a preview."""
    value: dict[str, Any] | None = config.qms_release
    return value


def configure(app: Sphinx, config: Config) -> None:
    """Tag the build (a preview, or a release's set); in a release build, narrow the
    sources to the set and load the signers script."""
    release = release_of(config)
    if release is None:
        app.tags.add(PREVIEW_TAG)
    elif "set" in release:
        app.tags.add(set_tag(str(release["set"])))
    if release is not None:
        config.exclude_patterns = [*config.exclude_patterns, *release.get("exclude", [])]
        config.suppress_warnings = [*config.suppress_warnings, *RELEASE_SUPPRESSED]
        app.add_js_file(SIGNERS_SCRIPT_NAME)


@dataclass(frozen=True)
class PdfLink:
    """A link from a release page to its PDF."""

    href: str
    label: str


def _pdf_link(release: dict[str, Any], pagename: str, document_id: str | None) -> PdfLink | None:
    """A link from a release page to its PDF: the document's own, or the set's book."""
    if document_id is None and "set" not in release:
        return None
    target = f"pdf/{pdf_name(document_id)}" if document_id else f"pdf/{book_name(release['set'])}"
    href = posixpath.relpath(target, posixpath.dirname(pagename) or ".")
    label = "PDF of this document" if document_id else "the whole set as one PDF"
    return PdfLink(href, label)


def banner(app: Sphinx, pagename: str = "", document_id: str | None = None) -> str:
    """The line at the top of every page (preview, or which release this is), and in a
    release, on a document with a later version waiting for its date, a note saying so."""
    release = release_of(app.config)
    later = release.get("later", {}).get(document_id, "") if release and document_id else ""
    return render(
        app,
        "qms-banner.html",
        release=release,
        no_search=NO_SEARCH,
        pdf=_pdf_link(release, pagename, document_id) if release is not None else None,
        later=later,
    )


def print_footer(app: Sphinx, text: str) -> str:
    """A style element that prints `text` and "Page x of y" at the foot of every page."""
    return render(app, "qms-print-footer.html", text=text)


def page_extras(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: object
) -> None:
    """Banner on every page; print footer and, when not in force, a watermark on documents."""
    if "body" not in context:
        return
    document = documents(app.env).get(pagename)
    own_pdf = document.id if document is not None else None
    release = release_of(app.config)
    context["body"] = banner(app, pagename, own_pdf) + context["body"]
    where = f"Release {release['name']}" if release else "PREVIEW build"
    if document is None:
        title = str(context.get("title") or pagename)
        footer = f"{title}, {where}. Uncontrolled when printed."
        context["metatags"] = context.get("metatags", "") + print_footer(app, footer)
        return
    status = state_of(app, pagename, document).row.status.status
    footer = (
        f"{document.id} version {document.version}, {str(status).upper()}, {where}. "
        "Uncontrolled when printed."
    )
    context["metatags"] = context.get("metatags", "") + print_footer(app, footer)
    if status is not Status.EFFECTIVE:
        label = str(status).upper()
        context["body"] += render(app, "qms-watermark.html", label=label, no_search=NO_SEARCH)


def setup(app: Sphinx) -> None:
    """Register the release setting and the page hooks."""
    app.add_config_value("qms_release", None, "env", types=(dict, type(None)))
    app.connect("config-inited", configure, priority=6)
    app.connect("html-page-context", page_extras)
