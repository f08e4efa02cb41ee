"""The verified state of each page of a site build, verified again only where its inputs changed.

Signatures and dates change without any source changing, so Sphinx's own change
detection cannot see them. Each page keeps a digest of everything its state depends
on; a build verifies the pages whose digest changed and keeps the state and findings
of the others, so an incremental build reports what a full one does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from qms.adapters.git import Repository, open_repository
from qms.adapters.gpg import hermetic_keyring
from qms.config import PYPROJECT, QmsConfig
from qms.errors import QmsError
from qms.model.approval_rules import RecordVerdict
from qms.model.document import Document
from qms.model.findings import Finding, FindingCode
from qms.model.retirement import Retirement, retirement_of
from qms.model.training import DocumentTraining
from qms.services.change_control import ChangeControl, HistoryRow, change_control, history_rows
from qms.services.content import document_content
from qms.services.handbook import Handbook, StatusRow
from qms.services.history import Revision, document_revisions
from qms.services.layout import SignatureLayout
from qms.services.registry import load_registry
from qms.services.verify import Verification, history_alterations, verify_handbook


@dataclass(frozen=True)
class PageState:
    """What a document's page shows about its control: status and verified signatures."""

    row: StatusRow
    signatures: tuple[RecordVerdict, ...]
    history: tuple[HistoryRow, ...] = ()
    # Who must read it and how many are trained, per role (None: no requirement names it).
    training: DocumentTraining | None = None
    # When and why it was withdrawn, if its retirement verifies (qms retire).
    retirement: Retirement | None = None


@dataclass(frozen=True)
class VerifiedPage:
    """A page's state and findings, as verified from inputs whose digest is `key`."""

    key: str
    state: PageState
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class GitHistory:
    """The git history of the documents, as read at commit `head` ("" outside git)."""

    head: str
    revisions: Mapping[str, list[Revision]]
    # What history_alterations found at `head`: files of signatures/ commits rewrote.
    altered: Mapping[str, str]


@dataclass(frozen=True)
class SiteState:
    """What one build verified, kept for the next: each page's state and the git history."""

    pages: Mapping[str, VerifiedPage] = field(default_factory=dict)
    history: GitHistory | None = None

    def state(self, page: str) -> PageState | None:
        """The verified state of `page`, if it has one."""
        verified = self.pages.get(page)
        return verified.state if verified is not None else None

    @property
    def revisions(self) -> Mapping[str, list[Revision]]:
        """Document id -> its revisions in git, as last read (none before the first read)."""
        return self.history.revisions if self.history is not None else {}


@dataclass(frozen=True)
class Notice:
    """A handbook-wide problem a build reports without a page: its text and its kind."""

    message: str
    code: str


@dataclass(frozen=True)
class SiteRefresh:
    """One build's verification: the state to keep, the pages it changed, what to report."""

    state: SiteState
    # Pages whose state differs from the previous build's, so they are written again.
    changed: frozenset[str]
    # Handbook-wide problems (registry, altered signature files, migrations, line endings).
    notices: tuple[Notice, ...]

    @property
    def findings(self) -> Mapping[str, tuple[Finding, ...]]:
        """Per page, in page order, its findings: those verified now and those kept."""
        return {name: self.state.pages[name].findings for name in sorted(self.state.pages)}


def _digest(paths: Iterable[Path]) -> str:
    """SHA-256 over the names and bytes of files (missing ones count as absent)."""
    digest = hashlib.sha256()
    for path in paths:
        if path.is_file():
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def input_digests(
    config: QmsConfig, docs: Mapping[str, Document], head: str, on: date
) -> dict[str, str]:
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
                # Training counts on every page follow the roster, its keys and records.
                *sorted(p for p in layout.training.rglob("*") if p.is_file()),
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
        records = _digest(
            sorted(layout.document_folder(document.id).rglob("*"))
            + sorted(layout.retirement_folder(document.id).rglob("*"))
        )
        own = content.sha256 + repr(content.includes) + records
        keys[name] = hashlib.sha256((shared + own).encode()).hexdigest()
    return keys


def _git_history(
    config: QmsConfig, repo: Repository | None, head: str, kept: GitHistory | None
) -> GitHistory:
    """The documents' git history at `head`: the one kept when it was read at the same commit."""
    if kept is not None and kept.head == head:
        return kept
    if repo is None:
        return GitHistory(head, {}, {})
    return GitHistory(head, document_revisions(config, repo), history_alterations(config, repo))


def _verify(
    config: QmsConfig,
    handbook: Handbook,
    selected: list[Document],
    history: GitHistory,
    now: datetime,
    progress: Callable[[int, int], None] | None,
) -> tuple[Verification, ChangeControl]:
    """Approvals and change control of `selected`, from one keyring and one registry."""
    with hermetic_keyring(*SignatureLayout.of(config).key_folders) as keyring:
        registry = load_registry(config, keyring)
        verification = verify_handbook(
            config,
            handbook,
            selected,
            now=now,
            progress=progress,
            committed=history.altered,
            keyring=keyring,
            registry=registry,
        )
        control = change_control(
            config,
            handbook,
            selected,
            dict(history.revisions),
            now=now,
            keyring=keyring,
            registry=registry,
        )
    return verification, control


def _notices(verification: Verification) -> tuple[Notice, ...]:
    """The handbook-wide problems of a verification, in the order a build reports them."""
    notices = []
    if verification.line_endings:
        notices.append(Notice(verification.line_endings, FindingCode.LINE_ENDINGS))
    notices += [Notice(f.render(), FindingCode.REGISTRY) for f in verification.registry.findings]
    notices += [Notice(f.render(), FindingCode.ALTERED) for f in verification.altered]
    notices += [
        Notice(f.render(), FindingCode.MIGRATION) for f in verification.registry.migrations.findings
    ]
    return tuple(notices)


def _verified_pages(
    config: QmsConfig,
    docs: Mapping[str, Document],
    keys: Mapping[str, str],
    verification: Verification,
    control: ChangeControl,
    on: date,
) -> dict[str, VerifiedPage]:
    """Each verified page's state and findings: change control's first, then the approvals'."""
    by_id = {document.id: name for name, document in docs.items()}
    by_path = {document.path: name for name, document in docs.items()}
    found: dict[str, list[Finding]] = {}
    for finding in control.findings:
        found.setdefault(by_path[finding.path], []).append(finding)
    pages = {}
    for row, verdict in verification.rows(config, on):
        document = verdict.document
        name = by_id[document.id]
        line = document.line_of("version")
        findings = found.get(name, []) + [
            Finding(document.path, line, f.render(), FindingCode.VERIFY) for f in verdict.findings
        ]
        state = PageState(
            row,
            verdict.signatures,
            tuple(history_rows(control, document)),
            verification.training.get(document.id),
            retirement_of(verdict, config.retention_years(document.type)),
        )
        pages[name] = VerifiedPage(keys[name], state, tuple(findings))
    return pages


def _changed(before: SiteState, after: SiteState) -> frozenset[str]:
    names = before.pages.keys() | after.pages.keys()
    return frozenset(name for name in names if before.state(name) != after.state(name))


def refresh_site(
    config: QmsConfig,
    docs: Mapping[str, Document],
    previous: SiteState,
    on: date,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> SiteRefresh:
    """Verify the pages of `docs` (page name -> document) whose inputs changed since `previous`.

    `on` is the date statuses are judged on, `now` the moment signatures are (key expiry;
    default: now). `progress(done, total)` counts the documents verified. When the
    approvals cannot be verified at all, no page keeps a state and one notice says why.
    """
    repo = open_repository(config.root)
    head = (repo.head() or "") if repo is not None else ""
    keys = input_digests(config, docs, head, on)
    stale = sorted(name for name in docs if _kept_key(previous, name) != keys[name])
    if progress is not None:
        progress(0, len(stale))
    history = previous.history
    try:
        history = _git_history(config, repo, head, previous.history)
        handbook = Handbook(tuple(docs.values()), ())
        selected = [docs[name] for name in stale]
        verification, control = _verify(config, handbook, selected, history, now, progress)
    except QmsError as exc:
        state = SiteState({}, history)
        notice = Notice(f"cannot verify approvals: {exc}", FindingCode.VERIFY)
        return SiteRefresh(state, _changed(previous, state), (notice,))
    pages = {
        name: page
        for name, page in previous.pages.items()
        if name in docs and page.key == keys[name]
    }
    pages.update(_verified_pages(config, docs, keys, verification, control, on))
    state = SiteState(pages, history)
    return SiteRefresh(state, _changed(previous, state), _notices(verification))


def _kept_key(state: SiteState, page: str) -> str:
    kept = state.pages.get(page)
    return kept.key if kept is not None else ""
