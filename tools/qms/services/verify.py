"""The verify service: every approval record and the registry, checked hermetically."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from qms.adapters.git import Repository, open_repository
from qms.adapters.gpg import GpgError, KeyInfo, Keyring, keys_in
from qms.config import QmsConfig
from qms.model.approval import Statement, StatementError
from qms.model.approval_rules import (
    DocumentVerdict,
    Record,
    RecordVerdict,
    judge_document,
    with_retirement,
)
from qms.model.document import Document
from qms.model.findings import Finding, FindingCode
from qms.model.line_endings import line_ending_summary
from qms.model.registry_history import RegistryHistory
from qms.model.status import NO_EVIDENCE, Evidence
from qms.model.training import Assignment, DocumentTraining
from qms.services.content import crlf_only_difference, document_content
from qms.services.handbook import (
    Handbook,
    StatusRow,
    display_path,
    load_handbook,
    select,
    status_of,
)
from qms.services.layout import STATEMENT_SUFFIX, SignatureLayout
from qms.services.migration import NO_MIGRATIONS, Migrations
from qms.services.registry import RegistryState, load_registry
from qms.services.signatures import (
    kept_keyring,
    kept_verifications,
    prefetch,
    signature_facts,
)
from qms.services.training import DocumentsTraining, TrainingFacts, training_of_documents


@dataclass(frozen=True)
class Verification:
    """The registry's state and a verdict for every document verified."""

    registry: RegistryState
    verdicts: tuple[DocumentVerdict, ...]
    # Files of signatures/ that git once held and that are gone or rewritten.
    altered: tuple[Finding, ...] = ()
    # Why git history was not checked (lost commits, altered files); "" when it was.
    history_unchecked: str = ""
    # Per document with training requirements: its completion per role.
    training: Mapping[str, DocumentTraining] = field(default_factory=dict)
    # The verified roster and training records (None without training requirements).
    training_facts: TrainingFacts | None = None
    # The training matrix on the day verified (none without requirements).
    training_matrix: tuple[Assignment, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every failure: the registry's first, then altered files, then each document's."""
        return (
            self.registry.findings
            + self.registry.migrations.findings
            + self.altered
            + tuple(f for v in self.verdicts for f in v.findings)
        )

    @property
    def line_endings(self) -> str:
        """One line on the failures that are CRLF copies of signed files, with the fix."""
        return line_ending_summary(self.findings)

    def verdict(self, document_id: str) -> DocumentVerdict | None:
        """The verdict of one document, if it was verified."""
        return next((v for v in self.verdicts if v.document.id == document_id), None)

    def rows(self, config: QmsConfig, on: date) -> list[tuple[StatusRow, DocumentVerdict]]:
        """Each verified document's status row on `on`, beside its verdict.

        A document type with an effectiveness gate counts as in force only once enough
        of the affected people are trained: the evidence carries both figures.
        """
        return [
            (status_of(v.document, config, on, self.evidence_of(config, v)), v)
            for v in self.verdicts
        ]

    def evidence_of(self, config: QmsConfig, verdict: DocumentVerdict) -> Evidence:
        """A verdict's evidence with the training an effectiveness gate asks for."""
        gate = config.training.gate_for(verdict.document) if config.training else 0.0
        trained = self.training.get(verdict.document.id)
        if not gate or trained is None:
            return verdict.evidence
        return replace(verdict.evidence, gate=gate, trained=(trained.done, trained.affected))


def verify_selected(
    config: QmsConfig,
    ids: Sequence[str],
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    cache: bool = False,
) -> tuple[Handbook, Verification]:
    """Load the handbook and verify the documents with `ids` (all when empty) at `now`;
    `cache` as for `verify_handbook`."""
    handbook = load_handbook(config)
    selected = select(handbook.documents, ids)
    verification = verify_handbook(
        config, handbook, selected, now=now, progress=progress, cache=cache
    )
    return handbook, verification


def read_records(
    config: QmsConfig,
    document_id: str,
    keyring: Keyring,
    migrations: Migrations = NO_MIGRATIONS,
    retirement: bool = False,
    history: RegistryHistory | None = None,
) -> list[Record]:
    """Every approval record filed under a document (or, with `retirement`, every record
    of its retirement), with its signature checked.

    A qms-approval/1 record that a signed migration lists carries the commit it is tied to.
    """
    layout = SignatureLayout.of(config)
    folder = (
        layout.retirement_folder(document_id) if retirement else layout.document_folder(document_id)
    )
    parse = Statement.retirement_from_bytes if retirement else Statement.from_bytes
    records: list[Record] = []
    if not folder.is_dir():
        return records
    for path in sorted(folder.glob(f"*/*{STATEMENT_SUFFIX}")):
        data = path.read_bytes()
        statement: Statement | None = None
        problem = ""
        try:
            statement = parse(data)
        except StatementError as exc:
            problem = str(exc)
        facts = signature_facts(keyring, SignatureLayout.signature_of(path), data, history=history)
        shown = display_path(config.root, path)
        records.append(
            Record(
                path=shown,
                folder_id=document_id,
                folder_version=path.parent.name,
                statement=statement,
                signature=facts,
                statement_problem=problem,
                tied_commit=migrations.commit_for(shown, data),
            )
        )
    return records


def judge(
    config: QmsConfig,
    document: Document,
    keyring: Keyring,
    registry: RegistryState,
    now: datetime,
    repo: Repository | None = None,
) -> DocumentVerdict:
    """The verdict on one document; with an untrusted registry no signature counts.

    With a repository, statements naming a commit the branch no longer reaches fail.
    """
    history = registry.history
    records = read_records(config, document.id, keyring, registry.migrations, history=history)
    retiring = read_records(config, document.id, keyring, retirement=True, history=history)
    content = document_content(config, document)
    commits = {r.commit for r in records + retiring if r.commit}
    # A shallow clone cannot tell a rewritten history from a cut-off one: no verdict.
    checkable = repo is not None and not repo.is_shallow
    lost = frozenset(c for c in commits if checkable and repo and not repo.is_ancestor(c))
    rules = config.rules_for(document.type)

    def judged(found: list[Record], owners: bool) -> DocumentVerdict:
        return judge_document(
            document,
            content.sha256,
            content.includes,
            found,
            rules,
            registry.history,
            now,
            lost,
            lambda s: crlf_only_difference(config, document, s.content_sha256, s.includes),
            # Risk owners approve a plan; its retirement follows the approval rules alone.
            config.owner_rule(document) if owners else None,
        )

    verdict = judged(records, owners=True)
    if retiring:
        verdict = with_retirement(verdict, judged(retiring, owners=False), rules)
    if registry.trusted:
        return verdict

    # Without a trusted registry no signature counts, so none may be shown as one.
    def untrusted(verdicts: tuple[RecordVerdict, ...]) -> tuple[RecordVerdict, ...]:
        return tuple(
            replace(v, valid=False, problem=v.problem or "the signer registry is not trusted")
            for v in verdicts
        )

    return DocumentVerdict(
        document, untrusted(verdict.verdicts), NO_EVIDENCE, untrusted(verdict.retirement)
    )


def history_alterations(config: QmsConfig, repo: Repository) -> dict[str, str]:
    """Files of signatures/ that commits deleted or modified (none read in a shallow clone)."""
    return {} if repo.is_shallow else repo.committed_alterations(config.signatures_path)


def altered_signature_files(
    config: QmsConfig, repo: Repository | None, committed: Mapping[str, str] | None = None
) -> tuple[Finding, ...]:
    """A finding for each committed file of signatures/ that is gone or was rewritten.

    Records, registry revisions and release manifests are only ever added: a deleted
    approval would quietly demote a document, a deleted registry revision could lift a
    revocation, a rewritten one could re-anchor the chain. Keys may gain revocations and
    the live registry file changes with each revision; neither may go. `committed` is
    what history_alterations returned, when the caller keeps it.
    """
    if repo is None:
        return ()
    layout = SignatureLayout.of(config)
    if committed is None:
        committed = history_alterations(config, repo)
    altered = repo.altered_files(
        config.signatures_path, committed, editable=(*layout.key_folders, *layout.live_files)
    )
    findings = []
    for path, (how, commit) in altered.items():
        shown = display_path(config.root, repo.root / path)
        if commit:
            where = f"{how} in commit {commit[:12]}"
            fix = f"'git show {commit[:12]}^:{path}' has it as it was"
        else:
            where, fix = f"{how} in the working tree", f"'git checkout -- {path}' restores it"
        message = f"{where}; signature files are only ever added: {fix}; commit it as it was"
        findings.append(Finding(shown, None, message, FindingCode.ALTERED))
    return tuple(findings)


def weakened_keys(
    config: QmsConfig, repo: Repository | None, committed: Mapping[str, str]
) -> tuple[Finding, ...]:
    """A finding for each key file that lost a key or an OpenPGP revocation that an
    earlier commit of it held.

    Key files may change, since a revocation is appended to a key; they may not lose one.
    For staff keys nothing else records a revocation, so undoing it would bring back what
    the key signed after it; replacing a key would quietly disown what it signed.
    """
    if repo is None:
        return ()
    layout = SignatureLayout.of(config)
    folders = {repo.relative_path(folder) for folder in layout.key_folders}
    changed = {p for p in committed if p.rsplit("/", 1)[0] in folders}
    for folder in layout.key_folders:
        changed.update(repo.modified_in_tree(folder))
    findings = []
    for path in sorted(changed):
        current = repo.root / path
        if not current.is_file():
            continue  # a deleted key file is altered_signature_files' finding
        held = _readable_keys(current.read_bytes())
        if not held:
            continue  # not a key at all: the registry or training says so, at the file
        now = {info.fingerprint: info for info in held}
        lost = sorted(
            f"the key {info.fingerprint}" if info.fingerprint not in now else
            f"the revocation of {info.fingerprint}"
            for data in repo.committed_versions(path)
            for info in _readable_keys(data)
            if info.fingerprint not in now or (info.revoked and not now[info.fingerprint].revoked)
        )  # fmt: skip
        if lost:
            shown = display_path(config.root, current)
            message = (
                f"no longer holds {lost[0]}, which an earlier commit of it held; keys only "
                f"gain revocations: restore it with 'git log -p -- {path}'"
            )
            findings.append(Finding(shown, None, message, FindingCode.ALTERED))
    return tuple(findings)


def _readable_keys(armored: bytes) -> tuple[KeyInfo, ...]:
    """The keys in a key file's bytes; none when gpg cannot read them."""
    try:
        return keys_in(armored)
    except GpgError:
        return ()


def verify_handbook(
    config: QmsConfig,
    handbook: Handbook | None = None,
    documents: Sequence[Document] | None = None,
    *,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    committed: Mapping[str, str] | None = None,
    keyring: Keyring | None = None,
    registry: RegistryState | None = None,
    cache: bool = False,
) -> Verification:
    """Verify the registry and the approvals of `documents` (default: all).

    `progress(done, total)` is called after each document, for long runs. `committed`:
    history_alterations as kept by a caller that saw the same HEAD. `keyring` and
    `registry`: a hermetic keyring and the registry loaded with it, by a caller that
    shares them with change control; by default both are opened here. `cache`: ask gpg
    only about signatures this clone has not found good before (`kept_verifications`);
    a release never does.
    """
    handbook = handbook or load_handbook(config)
    selected = handbook.documents if documents is None else tuple(documents)
    moment = now
    verdicts: list[DocumentVerdict] = []
    repo = open_repository(config.root)
    layout = SignatureLayout.of(config)
    with (
        kept_keyring(layout.key_folders, keyring, repo, cache) as keyring,
        kept_verifications(keyring, repo, cache),
    ):
        if registry is None:
            registry = load_registry(config, keyring)
        prefetch(
            keyring,
            (
                (SignatureLayout.signature_of(path), path.read_bytes())
                for document in selected
                for folder in (
                    layout.document_folder(document.id),
                    layout.retirement_folder(document.id),
                )
                for path in sorted(folder.glob(f"*/*{STATEMENT_SUFFIX}"))
            ),
        )
        for document in selected:
            verdicts.append(judge(config, document, keyring, registry, moment, repo))
            if progress is not None:
                progress(len(verdicts), len(selected))
        training = (
            training_of_documents(
                config, keyring, registry.history, verdicts, moment.date(), documents is not None
            )
            if registry.trusted
            else DocumentsTraining()
        )
    unchecked = (
        "the handbook is not in a git repository"
        if repo is None
        else "this is a shallow clone (git fetch --unshallow gives the full history)"
        if repo.is_shallow
        else ""
    )
    if repo is not None and committed is None:
        committed = history_alterations(config, repo)
    return Verification(
        registry,
        tuple(verdicts),
        (
            *altered_signature_files(config, repo, committed),
            *weakened_keys(config, repo, committed or {}),
        ),
        unchecked,
        training.by_document,
        training.facts,
        training.assignments,
    )
