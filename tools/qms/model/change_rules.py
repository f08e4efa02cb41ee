"""Change-control rules: ids are never reused, versions never go back, changes are bumped."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from qms.model.approval_rules import DocumentVerdict
from qms.model.document import Document, DocumentType, Version
from qms.model.findings import Finding, FindingCode


@dataclass(frozen=True)
class VersionApproval:
    """The best-signed content of one version: its hash and the signatures on it."""

    version: Version
    content_sha256: str
    verdict: DocumentVerdict
    complete: bool


def is_complete(verdict: DocumentVerdict, required: Collection[str], trusted: bool) -> bool:
    """Whether a verdict approves its version: a trusted registry, every required meaning
    and every risk owner's signature."""
    evidence = verdict.evidence
    return trusted and set(required) <= set(evidence.meanings) and not evidence.awaiting_owners


def best_approval(candidates: Iterable[VersionApproval]) -> VersionApproval | None:
    """The candidate that stands for its version: complete first, then the most signatures.

    Ties go to the first candidate, so callers pass them in a stable order.
    """
    best: VersionApproval | None = None
    for candidate in candidates:
        if best is None or (candidate.complete, len(candidate.verdict.signatures)) > (
            best.complete,
            len(best.verdict.signatures),
        ):
            best = candidate
    return best


@dataclass(frozen=True)
class Step:
    """One commit in a document's lineage, as the id rules need it."""

    commit: str
    deleted: bool
    type: DocumentType | None  # None when deleted or unreadable


@dataclass(frozen=True)
class RecordedVersion:
    """A version git recorded for the document, and the commit that introduced it."""

    version: Version
    commit: str


def reuse_findings(current: Document, lineage: Sequence[Step]) -> list[Finding]:
    """An id names one document for good: not reused after a withdrawal, nor across types."""
    findings: list[Finding] = []
    deleted_in = ""
    types = {step.type for step in lineage if step.type is not None}
    for step in lineage:
        if step.deleted:
            deleted_in = step.commit
        elif deleted_in and step.commit != deleted_in:
            findings.append(
                Finding(
                    current.path,
                    current.line_of("id"),
                    f"id {current.id} was withdrawn in commit {deleted_in[:12]} and may not be "
                    "reused; give this document the next free id",
                    FindingCode.ID_REUSED,
                )
            )
            break
    if len(types) > 1:
        findings.append(
            Finding(
                current.path,
                current.line_of("id"),
                f"id {current.id} has belonged to documents of types {', '.join(sorted(types))}; "
                "an id names one document for good: give this one the next free id",
                FindingCode.ID_REUSED,
            )
        )
    return findings


def _against_approved(
    document: Document, last: VersionApproval, recorded: bool, digests: tuple[str, str]
) -> Finding | None:
    """The working copy against the last approved version."""
    line = document.line_of("version")
    if document.version == last.version and last.content_sha256 not in digests:
        return Finding(
            document.path,
            line,
            f"{document.id} changed since version {last.version} was approved; raise the "
            "version and record a change_reason",
            FindingCode.NOT_BUMPED,
        )
    if document.version < last.version and not recorded:
        return Finding(
            document.path,
            line,
            f"version {document.version} is lower than the approved version "
            f"{last.version}; versions never go backwards",
            FindingCode.VERSION_BACKWARDS,
        )
    if document.version > last.version and not document.change_reason:
        return Finding(
            document.path,
            document.line_of("change_reason"),
            f"version {document.version} changes approved version {last.version}: "
            "change_reason must say why",
            FindingCode.NO_CHANGE_REASON,
        )
    return None


def change_findings(
    document: Document,
    recorded: Sequence[RecordedVersion],
    approvals: Iterable[VersionApproval],
    lineage: Sequence[Step],
    current_sha256: str,
    lf_sha256: str = "",
) -> list[Finding]:
    """The change-control rules for one document's working copy.

    `lf_sha256`: the digest with CRLF turned into LF, when the file has CRLF; a copy that
    differs from the approved one only in line endings is check's CRLF finding, not a
    change to raise the version for.
    """
    findings = reuse_findings(document, lineage)
    higher = [r for r in recorded if r.version > document.version]
    if higher:
        highest = max(higher, key=lambda r: r.version)
        findings.append(
            Finding(
                document.path,
                document.line_of("version"),
                f"version {document.version} is lower than {highest.version}, recorded in commit "
                f"{highest.commit[:12]}; versions never go backwards",
                FindingCode.VERSION_BACKWARDS,
            )
        )
    approved = [a for a in approvals if a.complete]
    if approved:
        last = max(approved, key=lambda a: a.version)
        finding = _against_approved(document, last, bool(higher), (current_sha256, lf_sha256))
        if finding is not None:
            findings.append(finding)
    return findings
