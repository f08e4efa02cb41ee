"""The approve service: sign the current version of a document and record it in git."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qms.adapters.git import Repository
from qms.adapters.gpg import Keyring, UserKeys, hermetic_keyring
from qms.config import QmsConfig
from qms.errors import RefusedError
from qms.model.approval import MEANING_ORDER, Meaning, Statement
from qms.model.approval_rules import (
    DocumentVerdict,
    MeaningRule,
    Record,
    judge_document,
    roles_allowed,
)
from qms.model.ceremony import wording_key
from qms.model.document import Document
from qms.model.signature_rules import SignatureFacts
from qms.model.signers import SignerEntry
from qms.services.ceremony import signing_summary
from qms.services.content import document_content, included_files
from qms.services.handbook import canonical_id, load_handbook, select
from qms.services.impact import recorded_upstream
from qms.services.layout import SignatureLayout
from qms.services.registry import load_registry
from qms.services.signed_files import write_signed
from qms.services.signers import signing_key
from qms.services.verify import judge


@dataclass(frozen=True)
class Approval:
    """What `approve` wrote and committed."""

    statement: Statement
    statement_path: Path
    commit: str


def _choose_role(
    entry: SignerEntry, allowed: tuple[str, ...], document: Document, meaning: Meaning
) -> str:
    role = next((r for r in entry.roles if r in allowed), None)
    if role is None:
        raise RefusedError(
            f"{entry.name} may not sign {document.type} {document.id} as {meaning}: "
            f"holds {', '.join(entry.roles)}, needs one of {', '.join(allowed)}",
            "ask a registry administrator for the role, or have a holder of it sign",
        )
    return role


def approve(
    config: QmsConfig,
    document_id: str,
    meaning: Meaning,
    user_keys: UserKeys,
    key: str | None = None,
    comment: str = "",
    *,
    now: datetime,
    retire: str | None = None,
) -> Approval:
    """Sign `document_id` at its current version with `meaning`, or refuse with a reason.

    With `retire` (the reason; "" for the one the retirement was requested with), the
    signature withdraws the approved version from use
    (`qms retire`): the same meanings, roles, order and segregation of duties as its
    approval, filed under signatures/retirements/.
    """
    handbook = load_handbook(config)
    document_id = canonical_id(document_id)
    if document_id in handbook.broken_ids:
        raise RefusedError(
            f"{document_id} fails qms check", "run 'qms check', fix what it reports and commit"
        )
    [document] = select(handbook.documents, [document_id])
    own = [f for f in handbook.findings if f.path == document.path]
    if own:
        raise RefusedError(
            f"{document.id} fails qms check: {own[0].render()}", "fix it and run qms check"
        )
    repo = Repository(config.root)
    for needed in (config.root / document.path, *included_files(config, document)):
        if repo.uncommitted(needed):
            shown = needed.relative_to(config.root).as_posix()
            raise RefusedError(
                f"{shown} has changes that are not committed",
                "commit the document first: a signature binds the content recorded in git",
            )
    layout = SignatureLayout.of(config)
    with hermetic_keyring(layout.keys) as keyring:
        registry = load_registry(config, keyring)
        fingerprint, entry = signing_key(
            keyring,
            registry,
            user_keys,
            key,
            now,
            untrusted="no approval can be trusted until a registry administrator repairs it",
            unregistered="ask a registry administrator to register or renew the key",
        )
        rules = config.rules_for(document.type)
        rule = next((r for r in rules if r.meaning == meaning), None)
        if rule is None:
            raise RefusedError(
                f"a {document.type} takes no '{meaning}' signature",
                f"it takes {', '.join(str(r.meaning) for r in rules)}",
            )
        # Risk owners approve a plan; its retirement follows the approval rules alone.
        owners = None if retire is not None else config.owner_rule(document)
        role = _choose_role(entry, roles_allowed(rule, owners), document, meaning)
        content = document_content(config, document)
        head = _head(repo)
        existing = judge(config, document, keyring, registry, now, repo)
        retirement_reason = "" if retire is None else _may_retire(existing, rules, retire)
        if retire is None and existing.evidence.retired:
            raise RefusedError(
                f"{document.id} {document.version} is retired", "a retired document is not signed"
            )
        if existing.retired_earlier:
            raise RefusedError(
                f"{document.id} was retired in version {existing.retired_earlier}",
                "an id names one document for good: give this document the next free id",
            )
        statement = Statement(
            document_id=document.id,
            version=str(document.version),
            content_sha256=content.sha256,
            includes=content.includes,
            meaning=meaning,
            signer_name=entry.name,
            signer_fingerprint=fingerprint,
            role=role,
            signed_at=now.replace(microsecond=0),
            comment=comment,
            # Never "": a statement that names no commit (qms-approval/1) is a finding.
            commit=head,
            # What its items link to upstream, as that commit holds it: a later edit of
            # one makes the link suspect (services/impact.py).
            upstream=None
            if retirement_reason
            else recorded_upstream(config, document.id, head, handbook),
            retirement_reason=retirement_reason,
            # The words the signer confirms, recorded with what they sign (qms-approval/4).
            wording=config.signing.wording(wording_key(meaning, bool(retirement_reason))),
        )
        # Judge the new signature beside the existing ones before writing anything:
        # order, duplicates and segregation of duties are decided by the same rules
        # that `verify` applies.
        proposed = Record(
            path="(new)",
            folder_id=document.id,
            folder_version=statement.version,
            statement=statement,
            signature=SignatureFacts(
                True, fingerprint, statement.signed_at, _expiry(keyring, fingerprint)
            ),
        )
        trial = judge_document(
            document,
            content.sha256,
            content.includes,
            [
                *(
                    v.record
                    for v in (existing.retirement if retirement_reason else existing.verdicts)
                ),
                proposed,
            ],
            rules,
            registry.history,
            now,
            owners=owners,
        )
        verdict = next(v for v in trial.verdicts if v.record is proposed)
        if not verdict.valid:
            raise RefusedError(
                f"{document.id} {document.version}: {verdict.problem}", _advice(meaning)
            )
    act = "Retire" if retirement_reason else "Approve"
    summary = signing_summary(
        config,
        f"{act} {document.id} {document.version}",
        (("document", f"{document.id} {document.title}"), ("version", statement.version)),
        content.sha256,
        wording_key(meaning, bool(retirement_reason)),
        meaning=str(meaning),
        signer_name=entry.name,
        role=role,
        fingerprint=fingerprint,
        extra=(("reason", retirement_reason),) if retirement_reason else (),
    )
    path = layout.statement_file(statement)
    files = write_signed(
        layout,
        path,
        statement.to_bytes(),
        statement.signed_at,
        user_keys,
        fingerprint,
        summary=summary,
        timestamps=config.timestamps,
    )
    message = (
        f"{act} {document.id} {document.version}: {meaning} by {entry.name} ({role})\n\n"
        f"Signer fingerprint: {fingerprint}\nContent SHA-256: {content.sha256}\n"
        + (f"Reason: {retirement_reason}\n" if retirement_reason else "")
        + (f"Comment: {comment}\n" if comment else "")
    )
    commit = repo.commit(files, message)
    return Approval(statement, path, commit)


def _may_retire(existing: DocumentVerdict, rules: tuple[MeaningRule, ...], reason: str) -> str:
    """The retirement's reason; refuse a retirement of a version that is not approved,
    already retired, or whose retirement was requested for another reason."""
    document = existing.document
    missing = [str(r.meaning) for r in rules if r.meaning not in existing.evidence.meanings]
    if missing:
        raise RefusedError(
            f"{document.id} {document.version} is not approved (awaiting {', '.join(missing)}): "
            "only an approved version is retired",
            "a draft is withdrawn by deleting its file; or finish its approval first",
        )
    if existing.evidence.retired:
        raise RefusedError(f"{document.id} {document.version} is already retired", "nothing to do")
    requested = existing.retirement_reason
    if requested and reason and requested != reason:
        raise RefusedError(
            f"the retirement of {document.id} was requested for another reason: {requested!r}",
            "sign with the same --reason, or leave it out to take the requested one",
        )
    if not (reason or requested):
        raise RefusedError(
            f"the retirement of {document.id} needs a reason", "give --reason 'why it is withdrawn'"
        )
    return reason or requested


def _head(repo: Repository) -> str:
    head = repo.head()
    if head is None:
        raise RefusedError("the repository has no commit yet", "commit the handbook first")
    return head


def _advice(meaning: Meaning) -> str:
    earlier = MEANING_ORDER[: MEANING_ORDER.index(meaning)]
    if earlier:
        return f"{' and '.join(earlier)} must come first, each by someone else"
    return "each signer signs a version once per meaning"


def _expiry(keyring: Keyring, fingerprint: str) -> datetime | None:
    """The key's expiry as the handbook keyring knows it (None: never, or not filed yet)."""
    info = keyring.key(fingerprint)
    return info.expires if info else None
