"""Verified approvals in the build: the same `verify` service as the CLI, once per build."""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from qms.errors import QmsError
from qms.model.document import Document
from qms.services.change_control import change_control, history_rows
from qms.services.handbook import Handbook, StatusRow, status_of, today
from qms.services.verify import verify_handbook
from qms_sphinx.settings import settings
from qms_sphinx.state import PageState, documents, page_states, view_pages

logger = logging.getLogger(__name__)


def state_of(app: Sphinx, docname: str, document: Document) -> PageState:
    """The state of one page; an unverified document is shown as having no signatures."""
    state = page_states(app.env).get(docname)
    if state is not None and state.row.document == document:
        return state
    return PageState(status_of(document, settings(app), today()), ())


def refresh(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Verify every document after reading; return the pages whose state changed.

    Signatures and dates change without any source changing, so Sphinx's own
    change detection cannot see them; pages are rewritten when their state differs.
    """
    config = settings(app)
    docs = documents(env)
    by_id = {document.id: name for name, document in docs.items()}
    states: dict[str, PageState] = {}
    try:
        handbook = Handbook(tuple(docs.values()), ())
        verification = verify_handbook(config, handbook)
        control = change_control(config, handbook)
    except QmsError as exc:
        logger.warning(f"cannot verify approvals: {exc}", type="qms", subtype="verify")
    else:
        for finding in verification.registry.findings:
            logger.warning(finding.render(), type="qms", subtype="registry")
        by_path = {document.path: name for name, document in docs.items()}
        for finding in control.findings:
            logger.warning(
                finding.message,
                location=(by_path[finding.path], finding.line),
                type="qms",
                subtype=finding.code,
            )
        for row, verdict in verification.rows(config, today()):
            docname = by_id[verdict.document.id]
            for finding in verdict.findings:
                logger.warning(
                    finding.render(),
                    location=(docname, verdict.document.line_of("version")),
                    type="qms",
                    subtype="verify",
                )
            history = tuple(history_rows(control, verdict.document))
            states[docname] = PageState(row, verdict.signatures, history)
    previous = page_states(env)
    changed = {
        name for name in states.keys() | previous.keys() if states.get(name) != previous.get(name)
    }
    previous.clear()
    previous.update(states)
    if changed:
        changed |= view_pages(env)
    return sorted(name for name in changed if name in env.found_docs)


def setup(app: Sphinx) -> None:
    """Verify once per build, after every source has been read."""
    app.connect("env-updated", refresh)


def row_for(app: Sphinx, docname: str) -> StatusRow:
    """The derived status row of a document page, from this build's verification."""
    return state_of(app, docname, documents(app.env)[docname]).row


def css_slug(row: StatusRow) -> str:
    """A CSS-safe name of the row's status."""
    return str(row.status.status).replace(" ", "-")
