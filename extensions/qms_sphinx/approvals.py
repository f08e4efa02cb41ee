"""Verified approvals in the build: the same `verify` service as the CLI, once per build."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from qms.adapters.git import open_repository
from qms.clock import today
from qms.config import PYPROJECT, QmsConfig
from qms.errors import QmsError
from qms.model.document import Document
from qms.model.findings import FindingCode
from qms.model.timeutil import parse_utc
from qms.services.change_control import change_control, history_rows
from qms.services.content import document_content
from qms.services.handbook import Handbook, StatusRow, status_of
from qms.services.history import document_revisions
from qms.services.layout import SignatureLayout
from qms.services.sphinx_run import PROGRESS_EVENT
from qms.services.verify import history_alterations, verify_handbook
from qms_sphinx.settings import settings
from qms_sphinx.state import (
    PageState,
    documents,
    history_cache,
    page_states,
    verification_cache,
    view_pages,
)

logger = logging.getLogger(__name__)


def judged_on(app: Sphinx) -> date:
    """The date statuses are judged on: a release's own date, given to its build; else today."""
    release: dict[str, str] | None = app.config.qms_release
    return date.fromisoformat(release["date"]) if release else today()


def judged_at(app: Sphinx) -> datetime | None:
    """The moment signatures are judged at (key expiry): a release's own time; else now."""
    release: dict[str, str] | None = app.config.qms_release
    return parse_utc(release["time"]) if release and "time" in release else None


def state_of(app: Sphinx, docname: str, document: Document) -> PageState:
    """The state of one page; an unverified document is shown as having no signatures."""
    state = page_states(app.env).get(docname)
    if state is not None and state.row.document == document:
        return state
    return PageState(status_of(document, settings(app), judged_on(app)), ())


def _digest(paths: Iterable[Path]) -> str:
    """SHA-256 over the names and bytes of files (missing ones count as absent)."""
    digest = hashlib.sha256()
    for path in paths:
        if path.is_file():
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _keys(config: QmsConfig, docs: dict[str, Document], head: str, on: date) -> dict[str, str]:
    """Per page, a digest of everything its verified state depends on.

    The document's bytes and the files it includes, its approval records, the keys
    and the registry, [tool.qms] (rules, trust roots), the commit (history,
    reachability) and the date (effective, review): when none of them changed, the
    state of the last build still holds.
    """
    layout = SignatureLayout.of(config)
    shared = (
        _digest(
            [
                *sorted(layout.keys.glob("*")),
                *sorted(layout.registry_history.glob("*")),
                *sorted(layout.migrations.glob("*")),
                layout.registry_file,
                config.root / PYPROJECT,
            ]
        )
        + head
        + on.isoformat()
    )
    keys = {}
    for name, document in docs.items():
        # The document and its includes are read once, by the same digest a signature binds.
        content = document_content(config, document)
        records = _digest(sorted(layout.document_folder(document.id).rglob("*")))
        own = content.sha256 + repr(content.includes) + records
        keys[name] = hashlib.sha256((shared + own).encode()).hexdigest()
    return keys


def refresh(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Verify the documents whose inputs changed; return the pages whose state changed.

    Signatures and dates change without any source changing, so Sphinx's own
    change detection cannot see them; pages are rewritten when their state differs.
    Unchanged documents keep the state and findings of the previous build, which
    are reported again, so an incremental build warns as a full one does.
    """
    config = settings(app)
    docs = documents(env)
    repo = open_repository(config.root)
    head = (repo.head() or "") if repo is not None else ""
    on = judged_on(app)
    keys = _keys(config, docs, head, on)
    cache = verification_cache(env)
    stale = {name for name in docs if cache.get(name, ("",))[0] != keys[name]}

    def progress(done: int, total: int) -> None:
        app.emit(PROGRESS_EVENT, "verifying", done, total)

    progress(0, len(stale))
    previous = dict(page_states(env))
    states = {name: previous[name] for name in docs if name not in stale and name in previous}
    try:
        handbook = Handbook(tuple(docs.values()), ())
        selected = [docs[name] for name in sorted(stale)]
        history = history_cache(env)
        if history.get("head") != head:
            history.clear()
            history["head"] = head
            history["revisions"] = document_revisions(config, repo) if repo is not None else {}
            history["altered"] = history_alterations(config, repo) if repo is not None else {}
        verification = verify_handbook(
            config,
            handbook,
            selected,
            now=judged_at(app),
            progress=progress,
            committed=history.get("altered"),
        )
        control = change_control(config, handbook, selected, history["revisions"])
    except QmsError as exc:
        logger.warning(f"cannot verify approvals: {exc}", type="qms", subtype=FindingCode.VERIFY)
        cache.clear()
        states = {}
    else:
        if verification.line_endings:
            logger.warning(verification.line_endings, type="qms", subtype=FindingCode.LINE_ENDINGS)
        for finding in verification.registry.findings:
            logger.warning(finding.render(), type="qms", subtype=FindingCode.REGISTRY)
        for finding in verification.altered:
            logger.warning(finding.render(), type="qms", subtype=FindingCode.ALTERED)
        for finding in verification.registry.migrations.findings:
            logger.warning(finding.render(), type="qms", subtype=FindingCode.MIGRATION)
        by_id = {document.id: name for name, document in docs.items()}
        found: dict[str, list[tuple[str, int | None, str]]] = {name: [] for name in stale}
        for finding in control.findings:
            name = next(n for n, d in docs.items() if d.path == finding.path)
            found[name].append((finding.message, finding.line, finding.code))
        for row, verdict in verification.rows(config, on):
            name = by_id[verdict.document.id]
            line = verdict.document.line_of("version")
            found[name] += [(f.render(), line, FindingCode.VERIFY) for f in verdict.findings]
            history_table = tuple(history_rows(control, verdict.document))
            states[name] = PageState(row, verdict.signatures, history_table)
            cache[name] = (keys[name], tuple(found[name]))
        for name in set(cache) - set(docs):
            del cache[name]
        for name in sorted(docs):
            for message, line, code in cache.get(name, ("", ()))[1]:
                logger.warning(message, location=(name, line), type="qms", subtype=code)
    changed = {
        name for name in states.keys() | previous.keys() if states.get(name) != previous.get(name)
    }
    page_states(env).clear()
    page_states(env).update(states)
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
