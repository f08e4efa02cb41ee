"""Judging approval records against a document: the rules of design.md, pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from qms.model.approval import MEANING_ORDER, SCHEMA_V1, Meaning, Statement
from qms.model.document import Document
from qms.model.findings import Finding, FindingCode
from qms.model.line_endings import ONLY_LINE_ENDINGS, is_line_ending_problem
from qms.model.registry_history import RegistryHistory
from qms.model.signature_rules import (
    Claim,
    RegisteredSigner,
    SignatureFacts,
    judge_signature,
    people,
    unverified,
)
from qms.model.status import Evidence
from qms.model.timeutil import format_utc


@dataclass(frozen=True)
class Record:
    """One approval record on disk: where it is filed, what it says, how its signature fared."""

    path: str
    folder_id: str
    folder_version: str
    statement: Statement | None
    signature: SignatureFacts
    statement_problem: str = ""
    # The commit a signed migration ties a qms-approval/1 statement to ("" if none).
    tied_commit: str = ""

    @property
    def commit(self) -> str:
        """The commit whose tree held the signed content: the statement's own, or its tie."""
        own = self.statement.commit if self.statement is not None else ""
        return own or self.tied_commit


@dataclass(frozen=True)
class MeaningRule:
    """A meaning a document type requires, and the roles allowed to give it."""

    meaning: Meaning
    roles: tuple[str, ...]


@dataclass(frozen=True)
class OwnerRule:
    """ISO/IEC 27001 6.1.3 e: one signature with `meaning` by each of `roles`, the owner
    roles of the risks a document treats (its front matter's risk_owners)."""

    meaning: Meaning
    roles: tuple[str, ...]


def roles_allowed(rule: MeaningRule, owners: OwnerRule | None) -> tuple[str, ...]:
    """The roles that may give `rule`'s meaning: its own, and the risk owner roles a
    document names when they give that meaning too."""
    if owners is None or owners.meaning != rule.meaning:
        return rule.roles
    return tuple(dict.fromkeys([*rule.roles, *owners.roles]))


@dataclass(frozen=True)
class RecordVerdict:
    """The judgement on one record."""

    record: Record
    valid: bool
    current: bool
    problem: str = ""
    note: str = ""


@dataclass(frozen=True)
class DocumentVerdict:
    """Everything verification found for one document."""

    document: Document
    verdicts: tuple[RecordVerdict, ...]
    evidence: Evidence
    # The records of its retirement (qms-retirement/1), judged by the same rules.
    retirement: tuple[RecordVerdict, ...] = ()
    # An earlier version whose retirement carries every meaning its type requires: the id
    # was withdrawn for good and this document reuses it ("" when none).
    retired_earlier: str = ""

    @property
    def signatures(self) -> tuple[RecordVerdict, ...]:
        """Valid signatures over the current content, oldest first (for manifestation)."""
        return tuple(v for v in self.verdicts if v.valid and v.current)

    @property
    def retirement_signatures(self) -> tuple[RecordVerdict, ...]:
        """Valid retirement signatures over the current content, oldest first."""
        return tuple(v for v in self.retirement if v.valid and v.current)

    @property
    def retirement_reason(self) -> str:
        """The reason the retirement was requested with ("" when none verified)."""
        return next(
            (v.record.statement.retirement_reason for v in self.retirement_signatures
             if v.record.statement),
            "",
        )  # fmt: skip

    @property
    def findings(self) -> tuple[Finding, ...]:
        """One located finding per failed record, approvals then retirement; first, when
        it reuses the id of a retired document, that."""
        reused: tuple[Finding, ...] = ()
        if self.retired_earlier:
            message = (
                f"{self.document.id} was retired in version {self.retired_earlier}; an id "
                "names one document for good: give this document the next free id"
            )
            line = self.document.line_of("id")
            reused = (Finding(self.document.path, line, message, FindingCode.ID_REUSED),)
        return reused + tuple(
            Finding(
                v.record.path,
                None,
                f"{self.document.id} {self.document.version}: {what}{v.problem}",
                FindingCode.LINE_ENDINGS
                if is_line_ending_problem(v.problem)
                else FindingCode.VERIFY,
            )
            for what, verdicts in (("", self.verdicts), ("retirement: ", self.retirement))
            for v in verdicts
            if not v.valid
        )


def _first_check(
    record: Record,
    rules: Sequence[MeaningRule],
    registry: RegistryHistory,
    now: datetime,
    lost_commits: frozenset[str],
    owners: OwnerRule | None,
) -> tuple[str, str]:
    """Checks of one record on its own: (problem, note); problem is empty when it passes."""
    statement, signature = record.statement, record.signature
    if statement is None:
        return record.statement_problem or "unreadable statement", ""
    if (statement.document_id, statement.version) != (record.folder_id, record.folder_version):
        return (
            f"statement is for {statement.document_id} {statement.version} but is filed under "
            f"{record.folder_id} {record.folder_version}: copied from another document or version",
            "",
        )
    problem = unverified(signature)
    if problem:
        return problem, ""
    if not record.commit:
        return (
            f"names no commit ({SCHEMA_V1}), so a rewritten history would go unnoticed: "
            "sign it again, or have a registry administrator tie it to its commit with "
            "'qms signers migrate'",
            "",
        )
    if record.commit in lost_commits:
        return (
            f"signed the content of commit {record.commit}, which is no longer in this "
            "branch's history: the history was rewritten (force-push or rebase); restore "
            "the commit or sign again",
            "",
        )
    claim = Claim(statement.signer_fingerprint, statement.signed_at)
    judged = judge_signature(signature, claim, RegisteredSigner(), registry)
    entry = judged.entry
    if judged.problem or entry is None:
        return judged.problem, ""
    expires = signature.key_expires
    note = "key since expired" if expires is not None and now >= expires else ""
    rule = next((r for r in rules if r.meaning == statement.meaning), None)
    if rule is None:
        return f"'{statement.meaning}' is not a signature this document type takes", ""
    allowed = roles_allowed(rule, owners)
    if statement.role not in entry.roles or statement.role not in allowed:
        return (
            f"{entry.name} signed as '{statement.role}', which may not give "
            f"'{statement.meaning}' here (allowed: {', '.join(allowed)}; "
            f"{entry.name} holds: {', '.join(entry.roles)})",
            "",
        )
    return "", note


def judge_document(
    document: Document,
    content_sha256: str,
    includes: tuple[tuple[str, str], ...],
    records: Sequence[Record],
    rules: Sequence[MeaningRule],
    registry: RegistryHistory,
    now: datetime,
    lost_commits: frozenset[str] = frozenset(),
    line_endings_only: Callable[[Statement], str] | None = None,
    owners: OwnerRule | None = None,
) -> DocumentVerdict:
    """Judge every record of one document and derive the evidence for its status.

    `lost_commits` are commits named by statements that the branch no longer contains.
    `line_endings_only(statement)` names the file that differs from what the statement
    signed only in CRLF line endings ("" when the difference is more than that); it is
    asked only when the digests differ, and such a record counts no more than any other.
    With `owners`, each of its roles must also give its meaning: a signature in an owner
    role that the meaning's own rule does not allow counts for that owner only.
    """
    version = str(document.version)
    verdicts: list[RecordVerdict] = []
    # Current-version records that passed on their own: (record, statement, note).
    candidates: list[tuple[Record, Statement, str]] = []
    stale = False
    for record in records:
        problem, note = _first_check(record, rules, registry, now, lost_commits, owners)
        is_current = record.folder_version == version
        if problem:
            verdicts.append(RecordVerdict(record, False, is_current, problem))
            continue
        if not is_current:
            verdicts.append(RecordVerdict(record, True, False, note=note))
            continue
        statement = record.statement
        if statement is None:  # _first_check refuses these; kept for the type checker
            continue
        if (statement.content_sha256, statement.includes) != (content_sha256, includes):
            stale = True
            problem = "content changed after it was signed; bump the version and sign again"
            # A CRLF copy of the signed bytes needs a fresh checkout, never a new signature.
            damaged = line_endings_only(statement) if line_endings_only else ""
            if damaged:
                problem = f"{damaged} {ONLY_LINE_ENDINGS}"
            verdicts.append(RecordVerdict(record, False, True, problem))
            continue
        candidates.append((record, statement, note))
    owner_only = _owner_only(rules, owners)
    verdicts.extend(_judge_together(candidates, rules, people(registry), owner_only))
    counted = [
        v.record.statement
        for v in verdicts
        if v.valid and v.current and v.record.statement is not None
    ]
    meanings = frozenset(s.meaning for s in counted if not owner_only(s))
    awaiting: tuple[str, ...] = ()
    if owners is not None:
        given = {s.role for s in counted if s.meaning == owners.meaning}
        awaiting = tuple(role for role in owners.roles if role not in given)
    ordered = tuple(sorted(verdicts, key=_order))
    evidence = Evidence(meanings=meanings, stale=stale, awaiting_owners=awaiting)
    return DocumentVerdict(document, ordered, evidence)


def _owner_only(
    rules: Sequence[MeaningRule], owners: OwnerRule | None
) -> Callable[[Statement], bool]:
    """Whether a statement counts for its risk owner role only: given in an owner role that
    the meaning's own rule does not allow. It then neither gives the meaning nor falls
    under segregation of duties: an owner approves the treatment of their own risks,
    also in a plan they wrote or reviewed, and the independent approval is still needed."""
    allowed = {rule.meaning: rule.roles for rule in rules}

    def owner_only(statement: Statement) -> bool:
        return (
            owners is not None
            and statement.meaning == owners.meaning
            and statement.role in owners.roles
            and statement.role not in allowed.get(statement.meaning, ())
        )

    return owner_only


def with_retirement(
    verdict: DocumentVerdict, retirement: DocumentVerdict, rules: Sequence[MeaningRule]
) -> DocumentVerdict:
    """`verdict` with the judged records of a retirement (`judge_document` over them).

    The document is retired once the retirement carries every meaning its type requires,
    each over the current content: withdrawal follows the approval rules of the type.
    """
    complete = bool(rules) and all(r.meaning in retirement.evidence.meanings for r in rules)
    evidence = replace(verdict.evidence, retired=complete)
    earlier: dict[str, set[str]] = {}
    for judged in retirement.verdicts:
        if judged.valid and not judged.current and judged.record.statement is not None:
            statement = judged.record.statement
            earlier.setdefault(statement.version, set()).add(statement.meaning)
    required = {rule.meaning for rule in rules}
    retired_earlier = next(
        (version for version, given in sorted(earlier.items()) if rules and required <= given),
        "",
    )
    return replace(
        verdict, evidence=evidence, retirement=retirement.verdicts, retired_earlier=retired_earlier
    )


def _order(verdict: RecordVerdict) -> tuple[str, int, str]:
    statement = verdict.record.statement
    if statement is None:
        return ("", 0, verdict.record.path)
    return (
        format_utc(statement.signed_at),
        MEANING_ORDER.index(statement.meaning),
        verdict.record.path,
    )


def _judge_together(
    candidates: list[tuple[Record, Statement, str]],
    rules: Sequence[MeaningRule],
    persons: dict[str, str],
    owner_only: Callable[[Statement], bool],
) -> list[RecordVerdict]:
    """Order, duplicates and segregation of duties among one version's signatures."""
    required = [rule.meaning for rule in rules]
    accepted: list[Statement] = []
    verdicts: list[RecordVerdict] = []

    # Within the same second, the signing order of meanings decides.
    def when(item: tuple[Record, Statement, str]) -> tuple[datetime, int]:
        return item[1].signed_at, MEANING_ORDER.index(item[1].meaning)

    for record, statement, note in sorted(candidates, key=when):
        problem = _conflict(statement, accepted, required, persons, owner_only)
        if problem:
            verdicts.append(RecordVerdict(record, False, True, problem))
        else:
            accepted.append(statement)
            verdicts.append(RecordVerdict(record, True, True, note=note))
    return verdicts


def _conflict(
    statement: Statement,
    accepted: Sequence[Statement],
    required: list[Meaning],
    persons: dict[str, str],
    owner_only: Callable[[Statement], bool],
) -> str:
    """Why `statement` cannot count beside the signatures accepted before it, if it cannot."""

    def person(fingerprint: str) -> str:
        return persons.get(fingerprint, fingerprint)

    signer = person(statement.signer_fingerprint)
    own = owner_only(statement)
    for s in accepted:
        # One signature per person and meaning; an owner's, one per owner role besides.
        if person(s.signer_fingerprint) != signer or s.meaning != statement.meaning:
            continue
        if (own or owner_only(s)) and s.role != statement.role:
            continue
        return f"{statement.signer_name} already signed this version as {statement.meaning}"
    # The meanings given so far: an owner's signature gives none.
    given = [s for s in accepted if not owner_only(s)]
    rank = MEANING_ORDER.index(statement.meaning)
    for earlier in MEANING_ORDER[:rank]:
        if earlier in required and not any(s.meaning == earlier for s in given):
            return (
                f"{statement.meaning} before it was {earlier}: signatures must follow the "
                f"order {', '.join(required)}"
            )
    if own:
        return ""
    # Symmetric: whichever is signed first, one person never holds two of these roles
    # on one version (an approver who later "authors" is caught as well).
    barred = {
        Meaning.AUTHORED: (Meaning.REVIEWED, Meaning.APPROVED),
        Meaning.REVIEWED: (Meaning.AUTHORED, Meaning.APPROVED),
        Meaning.APPROVED: (Meaning.AUTHORED, Meaning.REVIEWED),
    }[statement.meaning]
    for other in given:
        if other.meaning in barred and person(other.signer_fingerprint) == signer:
            return (
                f"segregation of duties: {statement.signer_name} {other.meaning} this version "
                f"and may not also sign it as {statement.meaning}"
            )
    return ""
