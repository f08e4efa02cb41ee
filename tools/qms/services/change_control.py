"""Change control: versions, approvals per version, and the rules a change must follow."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from qms.adapters.git import open_repository
from qms.adapters.gpg import Keyring, hermetic_unless_given
from qms.config import QmsConfig
from qms.model.approval import Statement
from qms.model.approval_rules import DocumentVerdict, Record, judge_document
from qms.model.document import Document, Version
from qms.model.findings import Finding
from qms.model.line_endings import has_crlf, to_lf
from qms.model.timeutil import format_utc
from qms.services.content import document_content, sha256_of
from qms.services.handbook import Handbook, load_handbook
from qms.services.history import Revision, VersionSpan, document_revisions, version_spans
from qms.services.layout import SignatureLayout
from qms.services.registry import RegistryState, load_registry
from qms.services.verify import read_records


@dataclass(frozen=True)
class VersionApproval:
    """The best-signed content of one version: its hash and the signatures on it."""

    version: Version
    content_sha256: str
    verdict: DocumentVerdict
    complete: bool


def version_approvals(
    config: QmsConfig,
    document: Document,
    keyring: Keyring,
    registry: RegistryState,
    now: datetime,
) -> dict[Version, VersionApproval]:
    """For every version with approval records, the content its signatures agree on."""
    by_version: dict[str, list[Record]] = {}
    for record in read_records(config, document.id, keyring, registry.migrations):
        by_version.setdefault(record.folder_version, []).append(record)
    required = set(config.required_meanings(document.type))
    found: dict[Version, VersionApproval] = {}
    for folder, records in by_version.items():
        try:
            version = Version.parse(folder)
        except ValueError:
            continue
        at_version = replace(document, version=version)
        best: VersionApproval | None = None
        hashes = {
            (r.statement.content_sha256, r.statement.includes) for r in records if r.statement
        }
        for content, includes in sorted(hashes):
            verdict = judge_document(
                at_version,
                content,
                includes,
                records,
                config.rules_for(document.type),
                registry.history,
                now,
            )
            complete = registry.trusted and required <= set(verdict.evidence.meanings)
            candidate = VersionApproval(version, content, verdict, complete)
            if best is None or (complete, len(verdict.signatures)) > (
                best.complete,
                len(best.verdict.signatures),
            ):
                best = candidate
        if best is not None:
            found[version] = best
    return found


def _reuse_findings(doc_id: str, revisions: list[Revision], current: Document) -> list[Finding]:
    findings: list[Finding] = []
    deleted_in = ""
    types = {r.document.type for r in revisions if r.document}
    for revision in revisions:
        if revision.deleted:
            deleted_in = revision.commit
        elif deleted_in and revision.commit != deleted_in:
            findings.append(
                Finding(
                    current.path,
                    current.line_of("id"),
                    f"id {doc_id} was withdrawn in commit {deleted_in[:12]} and may not be reused; "
                    "give this document the next free id",
                    "id-reused",
                )
            )
            break
    if len(types) > 1:
        findings.append(
            Finding(
                current.path,
                current.line_of("id"),
                f"id {doc_id} has belonged to documents of types {', '.join(sorted(types))}; an id "
                "names one document for good: give this one the next free id",
                "id-reused",
            )
        )
    return findings


def document_findings(
    document: Document,
    spans: list[VersionSpan],
    approvals: dict[Version, VersionApproval],
    current_sha256: str,
    revisions: list[Revision],
    lf_sha256: str = "",
) -> list[Finding]:
    """The change-control rules for one document's working copy.

    `lf_sha256`: the digest with CRLF turned into LF, when the file has CRLF; a copy that
    differs from the approved one only in line endings is check's CRLF finding, not a
    change to raise the version for.
    """
    findings = _reuse_findings(document.id, revisions, document)
    line = document.line_of("version")
    recorded = [span for span in spans if span.version > document.version]
    if recorded:
        highest = max(recorded, key=lambda s: s.version)
        findings.append(
            Finding(
                document.path,
                line,
                f"version {document.version} is lower than {highest.version}, recorded in commit "
                f"{highest.first.commit[:12]}; versions never go backwards",
                "version-backwards",
            )
        )
    approved = [a for a in approvals.values() if a.complete]
    if approved:
        last = max(approved, key=lambda a: a.version)
        if document.version == last.version and last.content_sha256 not in (
            current_sha256,
            lf_sha256,
        ):
            findings.append(
                Finding(
                    document.path,
                    line,
                    f"{document.id} changed since version {last.version} was approved; raise the "
                    "version and record a change_reason",
                    "not-bumped",
                )
            )
        elif document.version < last.version and not recorded:
            findings.append(
                Finding(
                    document.path,
                    line,
                    f"version {document.version} is lower than the approved version "
                    f"{last.version}; versions never go backwards",
                    "version-backwards",
                )
            )
        elif document.version > last.version and not document.change_reason:
            findings.append(
                Finding(
                    document.path,
                    document.line_of("change_reason"),
                    f"version {document.version} changes approved version {last.version}: "
                    "change_reason must say why",
                    "no-change-reason",
                )
            )
    return findings


NO_GIT_HISTORY = "the handbook is not in a git repository (an export without .git has no history)"


@dataclass(frozen=True)
class ChangeControl:
    """What git and the approval records say about each document."""

    revisions: dict[str, list[Revision]]
    approvals: dict[str, dict[Version, VersionApproval]]
    findings: tuple[Finding, ...]
    # Why there is no git history to read (an export without .git); "" when there is.
    history_unavailable: str = ""


def change_control(
    config: QmsConfig,
    handbook: Handbook | None = None,
    documents: Iterable[Document] | None = None,
    revisions: dict[str, list[Revision]] | None = None,
    keyring: Keyring | None = None,
    registry: RegistryState | None = None,
) -> ChangeControl:
    """History, per-version approvals and findings for the documents (default: all).

    `revisions` may pass in the git history already read at the same HEAD; `keyring` and
    `registry` a hermetic keyring and the registry loaded with it, shared with verify.
    """
    handbook = handbook or load_handbook(config)
    selected = handbook.documents if documents is None else tuple(documents)
    unavailable = ""
    if revisions is None:
        repo = open_repository(config.root)
        revisions = document_revisions(config, repo) if repo is not None else {}
        if repo is None:
            unavailable = NO_GIT_HISTORY
    now = datetime.now(tz=UTC)
    approvals: dict[str, dict[Version, VersionApproval]] = {}
    findings: list[Finding] = []
    with hermetic_unless_given(SignatureLayout.of(config).keys, keyring) as keyring:
        if registry is None:
            registry = load_registry(config, keyring)
        for document in selected:
            approvals[document.id] = version_approvals(config, document, keyring, registry, now)
            history = revisions.get(document.id, [])
            data = (config.root / document.path).read_bytes()
            findings.extend(
                document_findings(
                    document,
                    version_spans(history),
                    approvals[document.id],
                    document_content(config, document).sha256,
                    history,
                    sha256_of(to_lf(data)) if has_crlf(data) else "",
                )
            )
    return ChangeControl(revisions, approvals, tuple(findings), unavailable)


@dataclass(frozen=True)
class HistoryRow:
    """One version of a document as the history table shows it."""

    version: Version
    commit: str
    author: str
    when: datetime
    path: str
    change_reason: str
    approved: bool
    signatures: tuple[Statement, ...]  # the statements of the verified signatures
    # The exact approved content of this version, when it was approved: (commit, path).
    approved_source: tuple[str, str] | None = None


def history_rows(control: ChangeControl, document: Document) -> list[HistoryRow]:
    """Every committed version of `document`, oldest first, with its approvals."""
    approvals = control.approvals.get(document.id, {})
    rows: list[HistoryRow] = []
    for span in version_spans(control.revisions.get(document.id, [])):
        approval = approvals.get(span.version)
        signatures = tuple(
            v.record.statement
            for v in (approval.verdict.signatures if approval else ())
            if v.record.statement is not None
        )
        source = None
        if approval is not None and approval.complete:
            signed = [r for r in span.revisions if r.content_sha256 == approval.content_sha256]
            if signed:
                source = (signed[-1].commit, signed[-1].path)
        last = span.last.document
        rows.append(
            HistoryRow(
                version=span.version,
                commit=span.first.commit,
                author=span.first.author,
                when=span.first.when,
                path=span.last.path,
                change_reason=last.change_reason if last else "",
                approved=bool(approval and approval.complete),
                signatures=signatures,
                approved_source=source,
            )
        )
    return rows


def audit_trail(
    control: ChangeControl,
    document: Document,
    releases: Iterable[tuple[str, datetime, Version, str]] = (),
    role_title: Callable[[str], str] = str,
) -> list[dict[str, str]]:
    """Every event of a document in time order: who, when (UTC), what and why.

    `releases` holds (release name, creation time, version released, commit);
    `role_title` names a signer's role as readers know it (QmsConfig.role_title).
    """
    # Sorted by time, then version, then git events before signatures: within one
    # second, a version's signatures come before the bump to the next version.
    events: list[tuple[datetime, Version, int, dict[str, str]]] = []
    previous: Revision | None = None
    for revision in control.revisions.get(document.id, []):
        if revision.deleted:
            what, version, why = "retired", str(previous.version if previous else ""), ""
        elif previous is None or previous.deleted:
            what, version = "created", str(revision.version or "")
            why = revision.document.change_reason if revision.document else ""
        elif revision.version != previous.version:
            what = f"version bumped from {previous.version}"
            version = str(revision.version or "")
            why = revision.document.change_reason if revision.document else ""
        else:
            what, version, why = "changed", str(revision.version or ""), ""
        at = revision.version or (previous.version if previous and previous.version else None)
        events.append((revision.when, at or Version(0, 0), 0, {
            "when": format_utc(revision.when), "event": what, "version": version,
            # Git records whoever the committer said they were: shown, marked as unproven.
            "who": f"{revision.author} <{revision.email}> (git author, not verified)",
            "commit": revision.commit,
            "why": why,
        }))  # fmt: skip
        previous = revision
    for approved_version, approval in control.approvals.get(document.id, {}).items():
        for verdict in approval.verdict.signatures:
            statement = verdict.record.statement
            if statement is None:
                continue
            event = str(statement.meaning)
            if not verdict.valid:
                event += f" (signature does not count: {verdict.problem})"
            events.append((statement.signed_at, approved_version, 1, {
                "when": format_utc(statement.signed_at), "event": event,
                "version": str(approved_version),
                "who": f"{statement.signer_name} ({role_title(statement.role)}, key "
                       f"{statement.signer_fingerprint})",
                "commit": verdict.record.commit, "why": statement.comment,
            }))  # fmt: skip
    for name, created, released, commit in releases:
        events.append((created, released, 2, {
            "when": format_utc(created), "event": f"released in {name}", "version": str(released),
            "who": "release signers (see the release manifest)", "commit": commit, "why": "",
        }))  # fmt: skip
    return [event for *_, event in sorted(events, key=lambda item: item[:3])]
