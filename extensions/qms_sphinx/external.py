"""External documents: their registrations checked on every build, and the register's section."""

from __future__ import annotations

import hashlib
from html import escape
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from qms.model.external import FOLDER
from qms.model.findings import Finding, FindingCode
from qms.services.external import ExternalRegister, load_external
from qms_sphinx.approvals import judged_on
from qms_sphinx.state import documents, view_pages
from qms_sphinx.tables import Html, html_badge, html_code, html_table

logger = logging.getLogger(__name__)

COLUMNS = ("ID", "Title", "Issuer", "Edition", "Owner", "Local copy", "Reviewed", "Next review",
           "State")  # fmt: skip


def external_register(app: Sphinx) -> ExternalRegister:
    """The register as it stands, judged on the build's date."""
    ids = [doc.id for doc in documents(app.env).values()]
    return load_external(Path(app.srcdir) / FOLDER, Path(app.confdir), judged_on(app), ids)


def _log(finding: Finding) -> None:
    where = f"{finding.path}:{finding.line}" if finding.line else finding.path
    logger.warning(finding.message, location=where, type="qms", subtype=finding.code)


def check(app: Sphinx, builder: Builder) -> None:
    """Each bad registration, changed copy and overdue review, at its line."""
    if app.config.qms_release is not None:
        return  # checked on the whole handbook before the release was made
    for finding in external_register(app).findings:
        _log(finding)


def refresh(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """The view pages (the register among them), when a registration, a copy or the
    day changed since the last build: no source records them."""
    digest = hashlib.sha256(judged_on(app).isoformat().encode())
    for path in external_register(app).files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    seen = getattr(env, "qms_external_digest", None)
    env.qms_external_digest = digest.hexdigest()  # type: ignore[attr-defined]
    if seen is None or seen == digest.hexdigest():
        return []
    return sorted(name for name in view_pages(env) if name in env.found_docs)


def _state(register: ExternalRegister, path: str) -> str | Html:
    codes = {f.code for f in register.findings if f.path == path}  # one registration a file
    if FindingCode.EXTERNAL_COPY in codes:
        return html_badge("copy changed", "qms-badge-external-drift")
    if FindingCode.EXTERNAL_REVIEW in codes:
        return html_badge("review overdue", "qms-badge-external-overdue")
    return html_badge("current", "qms-badge-external-current")


def section(app: Sphinx) -> str:
    """The register's own section of external documents (markup, every value escaped)."""
    register = external_register(app)
    if not register.documents:
        return ""
    rows: list[list[str | Html]] = []
    for doc in register.documents:
        title = Html(
            f'<a class="reference external" href="{escape(doc.url)}">{escape(doc.title)}</a>'
        )
        copy: str | Html = (
            Html(f"{escape(doc.copy.file)}<br>SHA-256 {html_code(doc.copy.sha256[:16]).markup}…")
            if doc.copy
            else "none kept"
        )
        rows.append([
            html_code(doc.id), title, doc.issuer, doc.edition, doc.owner, copy,
            doc.reviewed.isoformat(), doc.next_review.isoformat(), _state(register, doc.path),
        ])  # fmt: skip
    return (
        '<section id="external-documents">\n<h2>External documents</h2>\n'
        "<p>Standards, regulations and supplier documents this handbook relies on (ISO/IEC "
        "27001 7.5.3): the edition in use, who watches it for new editions, and the SHA-256 "
        "of the controlled local copy where one is kept.</p>\n"
        + html_table(COLUMNS, rows, ["qms-external"], wide=True)
        + "</section>\n"
    )


def setup(app: Sphinx) -> None:
    """Check with the other data folders (write-started); refresh after verification."""
    app.connect("write-started", check, priority=660)
    app.connect("env-updated", refresh)
