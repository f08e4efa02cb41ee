"""Change control: versions, approvals per version, and the rules a change must follow."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from qms.adapters.git import open_repository
from qms.adapters.gpg import Keyring, hermetic_unless_given
from qms.config import QmsConfig
from qms.model.approval import Statement
from qms.model.approval_rules import Record, judge_document
from qms.model.change_rules import (
    RecordedVersion,
    Step,
    VersionApproval,
    best_approval,
    change_findings,
    is_complete,
)
from qms.model.document import Document, Version
from qms.model.findings import Finding
from qms.model.line_endings import has_crlf, to_lf
from qms.model.timeutil import format_utc, parse_utc
from qms.services.content import document_content, sha256_of
from qms.services.handbook import Handbook, load_handbook
from qms.services.history import Revision, VersionSpan, document_revisions, version_spans
from qms.services.layout import SignatureLayout
from qms.services.registry import RegistryState, load_registry
from qms.services.verify import read_records


def version_approvals(
    config: QmsConfig,
    document: Document,
    keyring: Keyring,
    registry: RegistryState,
    now: datetime,
) -> dict[Version, VersionApproval]:
    """For every version with approval records, the content its signatures agree on."""
    by_version: dict[str, list[Record]] = {}
    for record in read_records(
        config, document.id, keyring, registry.migrations, history=registry.history
    ):
        by_version.setdefault(record.folder_version, []).append(record)
    required = config.required_meanings(document.type)
    rules = config.rules_for(document.type)
    found: dict[Version, VersionApproval] = {}
    for folder, records in by_version.items():
        try:
            version = Version.parse(folder)
        except ValueError:
            continue
        at_version = replace(document, version=version)
        hashes = {
            (r.statement.content_sha256, r.statement.includes) for r in records if r.statement
        }
        candidates = []
        for content, includes in sorted(hashes):
            verdict = judge_document(
                at_version,
                content,
                includes,
                records,
                rules,
                registry.history,
                now,
                owners=config.owner_rule(at_version),
            )
            complete = is_complete(verdict, required, registry.trusted)
            candidates.append(VersionApproval(version, content, verdict, complete))
        best = best_approval(candidates)
        if best is not None:
            found[version] = best
    return found


def document_findings(
    document: Document,
    spans: list[VersionSpan],
    approvals: dict[Version, VersionApproval],
    current_sha256: str,
    revisions: list[Revision],
    lf_sha256: str = "",
) -> list[Finding]:
    """The change-control rules (`model/change_rules.py`) for one document's working copy."""
    return change_findings(
        document,
        [RecordedVersion(span.version, span.first.commit) for span in spans],
        approvals.values(),
        [Step(r.commit, r.deleted, r.document.type if r.document else None) for r in revisions],
        current_sha256,
        lf_sha256,
    )


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
    *,
    now: datetime,
    keyring: Keyring | None = None,
    registry: RegistryState | None = None,
) -> ChangeControl:
    """History, per-version approvals and findings for the documents (default: all).

    `revisions` may pass in the git history already read at the same HEAD; `keyring` and
    `registry` a hermetic keyring and the registry loaded with it, shared with verify.
    `now` is the moment signatures are judged at (key expiry); the clock is the front
    ends' to read.
    """
    handbook = handbook or load_handbook(config)
    selected = handbook.documents if documents is None else tuple(documents)
    unavailable = ""
    if revisions is None:
        repo = open_repository(config.root)
        revisions = document_revisions(config, repo) if repo is not None else {}
        if repo is None:
            unavailable = NO_GIT_HISTORY
    moment = now
    approvals: dict[str, dict[Version, VersionApproval]] = {}
    findings: list[Finding] = []
    with hermetic_unless_given(SignatureLayout.of(config).key_folders, keyring) as keyring:
        if registry is None:
            registry = load_registry(config, keyring)
        for document in selected:
            approvals[document.id] = version_approvals(config, document, keyring, registry, moment)
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

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping, as `qms history --json` prints it."""
        return {
            "version": str(self.version),
            "commit": self.commit,
            "author": self.author,
            "date": format_utc(self.when),
            "path": self.path,
            "change_reason": self.change_reason,
            "approved": self.approved,
            "signatures": [
                {
                    "meaning": str(s.meaning),
                    "name": s.signer_name,
                    "signed_at": format_utc(s.signed_at),
                }
                for s in self.signatures
            ],
        }


def history_json(
    document_id: str, key: str, entries: Sequence[object], unavailable: str = ""
) -> dict[str, object]:
    """A document's history under `key` ("versions", "events"), or why there is none.

    Without git history the entries are left out: signature events alone would read as a
    complete trail.
    """
    return {
        "id": document_id,
        key: [] if unavailable else list(entries),
        "history_unavailable": unavailable or None,
    }


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
    training: Iterable[dict[str, str]] = (),
) -> list[dict[str, str]]:
    """Every event of a document in time order: who, when (UTC), what and why.

    `releases` holds (release name, creation time, version released, commit);
    `role_title` names a signer's role as readers know it (QmsConfig.role_title);
    `training` the document's verified training records as events (training_events).
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
    for trained in training:
        events.append((parse_utc(trained["when"]), Version(0, 0), 3, trained))
    return [item[3] for item in sorted(events, key=lambda item: item[:3])]
