"""Verified approvals in the build: the site-state service, run once per build."""

from __future__ import annotations

from datetime import date, datetime

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from qms.clock import now, today
from qms.model.document import Document
from qms.model.timeutil import parse_utc
from qms.services.handbook import StatusRow, status_of
from qms.services.site_state import PageState, refresh_site
from qms.services.sphinx_run import PROGRESS_EVENT
from qms_sphinx.settings import settings
from qms_sphinx.state import documents, keep_site_state, site_state, view_pages

logger = logging.getLogger(__name__)


def judged_on(app: Sphinx) -> date:
    """The date statuses are judged on: a release's own date, given to its build; else today."""
    release: dict[str, str] | None = app.config.qms_release
    return date.fromisoformat(release["date"]) if release else today()


def judged_at(app: Sphinx) -> datetime:
    """The moment signatures are judged at (key expiry): a release's own time; else now."""
    release: dict[str, str] | None = app.config.qms_release
    return parse_utc(release["time"]) if release and "time" in release else now()


def state_of(app: Sphinx, docname: str, document: Document) -> PageState:
    """The state of one page; an unverified document is shown as having no signatures."""
    state = site_state(app.env).state(docname)
    if state is not None and state.row.document == document:
        return state
    return PageState(status_of(document, settings(app), judged_on(app)), ())


def refresh(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Verify the documents whose inputs changed; return the pages whose state changed.

    The service keeps the state and findings of unchanged documents from the previous
    build; all of them are reported again, so an incremental build warns as a full one does.
    """

    def progress(done: int, total: int) -> None:
        app.emit(PROGRESS_EVENT, "verifying", done, total)

    result = refresh_site(
        settings(app),
        documents(env),
        site_state(env),
        judged_on(app),
        now=judged_at(app),
        progress=progress,
    )
    for notice in result.notices:
        logger.warning(notice.message, type="qms", subtype=notice.code)
    for name, findings in result.findings.items():
        for finding in findings:
            location = (name, finding.line)
            logger.warning(finding.message, location=location, type="qms", subtype=finding.code)
    keep_site_state(env, result.state)
    changed = set(result.changed)
    if changed:
        changed |= view_pages(env)
    return sorted(name for name in changed if name in env.found_docs)


def setup(app: Sphinx) -> None:
    """Verify once per build, after every source has been read."""
    app.add_event(PROGRESS_EVENT)  # (phase, done, total), for a front end's progress bar
    app.connect("env-updated", refresh)


def row_for(app: Sphinx, docname: str) -> StatusRow:
    """The derived status row of a document page, from this build's verification."""
    return state_of(app, docname, documents(app.env)[docname]).row


def css_slug(row: StatusRow) -> str:
    """A CSS-safe name of the row's status."""
    return str(row.status.status).replace(" ", "-")
