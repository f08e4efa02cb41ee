"""The training service: the approved roster, verified training records, and the matrix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from qms.adapters.files import files_under, read_beside
from qms.adapters.gpg import Keyring
from qms.config import QmsConfig
from qms.model.approval import Meaning, StatementError
from qms.model.approval_rules import DocumentVerdict
from qms.model.document import Document, Version
from qms.model.findings import Finding, FindingCode
from qms.model.registry_history import RegistryHistory
from qms.model.roster import ROSTER_ROLE, Roster, RosterApproval, RosterError
from qms.model.signature_rules import Claim, RegisteredSigner
from qms.model.timeutil import format_utc
from qms.model.training import (
    Assignment,
    Completion,
    DocumentTraining,
    InForce,
    TrainingPolicy,
    TrainingState,
    assign,
    document_training,
)
from qms.model.training_record import Method, TrainingRecord, record_authority, record_refusal
from qms.services.content import sha256_of
from qms.services.handbook import display_path
from qms.services.layout import SIGNATURE_SUFFIX, STATEMENT_SUFFIX, SignatureLayout
from qms.services.signatures import prefetch, verify_signed


@dataclass(frozen=True)
class ApprovedRoster:
    """The roster in force, if HR's signature covers it, and the approval that does."""

    roster: Roster | None
    approval: RosterApproval | None
    findings: tuple[Finding, ...]
    # The time of the latest valid HR approval, whatever roster it names: a new import is
    # stated later than it, so that "the latest" is never a tie.
    latest_at: datetime | None = None


@dataclass(frozen=True)
class TrainingFacts:
    """Everything verified about training: roster, completions that count, findings."""

    roster: ApprovedRoster
    completions: tuple[Completion, ...]
    findings: tuple[Finding, ...]

    @property
    def all_findings(self) -> tuple[Finding, ...]:
        """The roster's findings, then the records'."""
        return self.roster.findings + self.findings


def approved_contents(verdicts: Iterable[DocumentVerdict]) -> dict[str, dict[Version, str]]:
    """Document id -> version -> the content digest a valid approval of it bound.

    A retired document has none: it is in force no more, so nobody must read it.
    """
    found: dict[str, dict[Version, str]] = {}
    for verdict in verdicts:
        if verdict.evidence.retired:
            continue
        for judged in verdict.verdicts:
            statement = judged.record.statement
            if judged.valid and statement is not None and statement.meaning is Meaning.APPROVED:
                versions = found.setdefault(statement.document_id, {})
                versions[Version.parse(statement.version)] = statement.content_sha256
    return found


def in_force_items(
    documents: Sequence[Document], approved: Mapping[str, Mapping[Version, str]]
) -> dict[str, InForce]:
    """Each document as training sees it: its current version and what was approved."""
    return {
        d.id: InForce(
            d,
            approved.get(d.id, {}),
            {d.version: d.effective} if d.effective is not None else {},
        )
        for d in documents
    }


def load_roster(config: QmsConfig, keyring: Keyring, history: RegistryHistory) -> ApprovedRoster:
    """The roster file, counted only when an HR signature covers its exact bytes."""
    layout = SignatureLayout.of(config)
    path = layout.roster_file
    shown = display_path(config.root, path)
    if not path.is_file():
        return ApprovedRoster(None, None, ())
    data = path.read_bytes()
    try:
        roster = Roster.from_bytes(data, shown)
    except RosterError as exc:
        return ApprovedRoster(None, None, (Finding(shown, None, str(exc), FindingCode.TRAINING),))
    digest = sha256_of(data)
    problems: list[str] = []
    # Every approval is judged, and only the latest valid one may stand: the roster is a
    # live file, so an older approved roster put back (a key HR removed, a leaver's dates
    # undone) must not count, as an older registry revision does not.
    valid: list[RosterApproval] = []
    for statement_path in sorted(layout.roster_approvals.glob(f"*{STATEMENT_SUFFIX}")):
        statement_bytes = statement_path.read_bytes()
        try:
            approval = RosterApproval.from_bytes(statement_bytes)
        except StatementError as exc:
            problems.append(f"{statement_path.name}: {exc}")
            continue
        claim = Claim(approval.signer_fingerprint, approval.signed_at)
        verdict = verify_signed(
            keyring,
            SignatureLayout.signature_of(statement_path),
            statement_bytes,
            claim,
            RegisteredSigner(ROSTER_ROLE),
            history,
        )
        if verdict.valid:
            valid.append(approval)
        elif approval.roster_sha256 == digest:
            problems.append(f"{statement_path.name}: {verdict.problem}")
    latest = max(valid, key=lambda a: a.signed_at, default=None)
    latest_at = latest.signed_at if latest is not None else None
    tied = {a.roster_sha256 for a in valid if a.signed_at == latest_at}
    if latest is not None and len(tied) > 1:
        # Two valid approvals of one second naming different rosters: neither is the
        # latest, and a filename must not decide.
        problems = [
            f"{len(tied)} approvals of {format_utc(latest.signed_at)} name different "
            "rosters; import the roster HR means again"
        ]
    elif latest is not None and latest.roster_sha256 == digest:
        return ApprovedRoster(roster, latest, (), latest_at)
    elif latest is not None and any(a.roster_sha256 == digest for a in valid):
        problems = [
            f"it is an older roster HR approved; the latest approval, of "
            f"{format_utc(latest.signed_at)}, names other content: restore the roster HR "
            "approved last from git"
        ]
    detail = "; ".join(problems) or "no approval names its SHA-256"
    message = (
        f"the roster is not approved by HR ({detail}); change it only with "
        "'qms training roster import CSV --key HR-KEY'"
    )
    return ApprovedRoster(
        None, None, (Finding(shown, None, message, FindingCode.TRAINING),), latest_at
    )


def record_files(config: QmsConfig) -> list[Path]:
    """Every training record file, in order."""
    return files_under(SignatureLayout.of(config).training_records, STATEMENT_SUFFIX)


def completion_problem(
    completed_employee: str,
    document_id: str,
    version: Version,
    digest: str,
    roster: Roster,
    items: Mapping[str, InForce],
) -> str:
    """Why one completion cannot count ("" if it can): unknown person, document, version
    or content."""
    if roster.get(completed_employee) is None:
        return f"employee {completed_employee} is not on the roster"
    item = items.get(document_id)
    if item is None:
        return f"{document_id} is not a document of this handbook"
    approved = item.approved.get(version)
    if approved is None:
        return f"{document_id} {version} was never approved"
    if approved != digest:
        return (
            f"{document_id} {version}: the content it names ({digest[:12]}) is not the "
            f"approved content ({approved[:12]})"
        )
    return ""


def load_training(
    config: QmsConfig,
    keyring: Keyring,
    history: RegistryHistory,
    items: Mapping[str, InForce],
    partial: bool = False,
) -> TrainingFacts:
    """Verify the roster and every training record; keep the completions that count.

    `items` are the documents judged. With `partial`, they are some of the handbook's (a
    page, an incremental build): completions of other documents are passed over, neither
    counted nor refused; without it, a completion of a document not among them is refused.
    """
    roster = load_roster(config, keyring, history)
    # Each record and its signature read once: gpg checks them all in one batch, then
    # each is judged.
    files = read_beside(record_files(config), SIGNATURE_SUFFIX)
    prefetch(
        keyring,
        ((signature, data) for _, data, signature, _ in files),
        {signature: read for _, _, signature, read in files if read is not None},
    )
    completions: list[Completion] = []
    staff_keys = SignatureLayout.of(config).staff_keys
    findings = [
        Finding(
            display_path(config.root, path),
            None,
            "not a valid public key; restore it from git history, keys are never edited",
            FindingCode.TRAINING,
        )
        for path in keyring.rejected
        if path.parent == staff_keys
    ]
    if roster.roster is None:
        return TrainingFacts(roster, (), tuple(findings))
    people = roster.roster
    keys = {p.employee: p.keys for p in people.people}
    revoked = frozenset(keyring.revoked())
    for path, data, signature, signature_bytes in files:
        shown = display_path(config.root, path)
        problem, found = _record_completions(
            _Signed(data, signature, signature_bytes), keyring, revoked, history, people,
            keys, items, shown, partial,
        )  # fmt: skip
        if problem:
            findings.append(Finding(shown, None, problem, FindingCode.TRAINING))
        completions.extend(found)
    return TrainingFacts(roster, tuple(completions), tuple(findings))


@dataclass(frozen=True)
class _Signed:
    """A statement's bytes, its signature file and that file's bytes (None if unread)."""

    data: bytes
    signature: Path
    signature_bytes: bytes | None


def _record_completions(
    signed: _Signed,
    keyring: Keyring,
    revoked: frozenset[str],
    history: RegistryHistory,
    roster: Roster,
    keys: Mapping[str, tuple[str, ...]],
    items: Mapping[str, InForce],
    shown: str,
    partial: bool,
) -> tuple[str, list[Completion]]:
    """(why the `signed` record does not count, []) or ("", its completions among `items`)."""
    try:
        record = TrainingRecord.from_bytes(signed.data)
    except StatementError as exc:
        return str(exc), []
    problem = record_refusal(record)
    if problem:
        return problem, []
    authority = record_authority(record, keys, revoked)
    claim = Claim(record.signer_fingerprint, record.signed_at)
    verdict = verify_signed(
        keyring, signed.signature, signed.data, claim, authority, history,
        signed.signature_bytes,
    )  # fmt: skip
    if verdict.problem:
        return verdict.problem, []
    judged = [c for c in record.completions if not partial or c.document_id in items]
    for c in judged:
        problem = completion_problem(
            c.employee, c.document_id, c.version, c.content_sha256, roster, items
        )
        if problem:
            return problem, []
    # A self record is shown under the roster's name for its one person (the key was
    # admitted as theirs), never under the name the record gives itself.
    own = roster.index.get(record.employees[0]) if record.method is Method.SELF else None
    signer = f"{own.name if own else record.signer_name} (key {record.signer_fingerprint})"
    context = record.title or record.source_system
    return "", [
        Completion(
            c.employee,
            c.document_id,
            c.version,
            c.content_sha256,
            c.completed_on,
            str(record.method),
            shown,
            signer,
            record.signed_at,
            context,
        )
        for c in judged
    ]


def matrix(
    facts: TrainingFacts,
    items: Mapping[str, InForce],
    policy: TrainingPolicy,
    on: date,
) -> tuple[Assignment, ...]:
    """Every person x every document their roles must read on `on`, with its state."""
    roster = facts.roster.roster
    if roster is None:
        return ()
    # Each person's completions of each document, so an assignment looks at its own only.
    by_pair: dict[tuple[str, str], list[Completion]] = {}
    for completion in facts.completions:
        by_pair.setdefault((completion.employee, completion.document_id), []).append(completion)
    required = [(item, set(policy.roles_for(item.document))) for item in items.values()]
    found = []
    for person in roster.people:
        roles = set(person.roles_on(on))
        for item, roles_needed in required:
            if roles & roles_needed:
                done = by_pair.get((person.employee, item.document.id), [])
                state = assign(person, item, policy, done, on)
                if state.state is not TrainingState.NOT_REQUIRED:
                    found.append(state)
    return tuple(sorted(found, key=lambda a: (a.employee, a.document_id)))


@dataclass(frozen=True)
class DocumentsTraining:
    """Training as verify judges it: the facts, the matrix on a day, and per document."""

    facts: TrainingFacts | None = None
    # Every assignment on the day judged (none without requirements).
    assignments: tuple[Assignment, ...] = ()
    # Per verified document with requirements: its completion per role.
    by_document: Mapping[str, DocumentTraining] = field(default_factory=dict)


def training_of_documents(
    config: QmsConfig,
    keyring: Keyring,
    history: RegistryHistory,
    verdicts: Sequence[DocumentVerdict],
    on: date,
    partial: bool,
) -> DocumentsTraining:
    """The verified training facts, the matrix on `on`, and per verified document its
    completion per role (none without requirements). `partial`: the verdicts are some of
    the handbook's.

    What a page shows and what an effectiveness gate counts; records that do not count
    are findings of `qms training status`, not of the document.
    """
    policy = config.training
    if policy is None:
        return DocumentsTraining()
    items = in_force_items([v.document for v in verdicts], approved_contents(verdicts))
    facts = load_training(config, keyring, history, items, partial=partial)
    if not policy.requirements:
        return DocumentsTraining(facts)
    roster = facts.roster.roster
    people = roster.index if roster else {}
    assignments = matrix(facts, items, policy, on)
    by_document: dict[str, list[Assignment]] = {}
    for assignment in assignments:
        by_document.setdefault(assignment.document_id, []).append(assignment)
    return DocumentsTraining(
        facts,
        assignments,
        {
            v.document.id: document_training(
                v.document, by_document.get(v.document.id, []), people, policy, on
            )
            for v in verdicts
            if policy.roles_for(v.document)
        },
    )


def training_events(facts: TrainingFacts, document_id: str) -> list[dict[str, str]]:
    """The audit trail's events of one document's training: one per record, oldest first.

    Each names how it was made, how many people it covers, who signed it and what it says
    it was; people are counted, not named (`qms training record` names them).
    """
    by_record: dict[str, list[Completion]] = {}
    for completion in facts.completions:
        if completion.document_id == document_id:
            by_record.setdefault(completion.source, []).append(completion)
    events = []
    for source, found in by_record.items():
        first = found[0]
        people = len({c.employee for c in found})
        events.append(
            {
                "when": format_utc(first.signed_at) if first.signed_at else "",
                "event": f"trained ({first.method}): {people} "
                f"{'person' if people == 1 else 'people'}",
                "version": ", ".join(sorted({str(c.version) for c in found})),
                "who": first.signed_by,
                "commit": "",
                "why": first.context or source,
            }
        )
    return sorted(events, key=lambda e: (e["when"], e["why"]))
