"""Signing an impact assessment of one suspect link: judged, signed, committed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qms.adapters.git import Repository
from qms.adapters.gpg import UserKeys, hermetic_keyring
from qms.config import QmsConfig
from qms.errors import RefusedError
from qms.model.fingerprints import short
from qms.model.impact import Assessment, Decision, State, decision_refusal
from qms.services.ceremony import signing_summary
from qms.services.handbook import canonical_id, load_handbook
from qms.services.impact import assessor_roles, handbook_items, judge_impact
from qms.services.layout import SignatureLayout
from qms.services.registry import load_registry
from qms.services.signed_files import write_signed
from qms.services.signers import signing_key
from qms.services.verify import verify_handbook


@dataclass(frozen=True)
class Assessed:
    """What `qms impact assess` wrote and committed."""

    assessment: Assessment
    path: Path
    commit: str


def assess_link(
    config: QmsConfig,
    item_id: str,
    upstream_id: str,
    decision: Decision,
    ref: str,
    reason: str,
    user_keys: UserKeys,
    key: str | None,
    now: datetime,
) -> Assessed:
    """Sign that the suspect link from `item_id` to `upstream_id` was assessed, or refuse."""
    item_id, upstream_id = canonical_id(item_id), canonical_id(upstream_id)
    refusal = decision_refusal(decision, ref, reason)
    if refusal:
        raise RefusedError(refusal, "give --reason, and --ref for a change")
    handbook = load_handbook(config)
    items = handbook_items(config, handbook)
    document_id = items.document_of(item_id)
    document = next((d for d in handbook.documents if d.id == document_id), None)
    if document is None:
        raise RefusedError(f"no controlled document holds {item_id}", "name a downstream item")
    if not any(link.upstream == upstream_id for link in items.links(document_id) if
               link.item == item_id):  # fmt: skip
        raise RefusedError(
            f"{item_id} does not link to {upstream_id}", "run 'qms impact' to list suspect links"
        )
    repo = Repository(config.root)
    upstream = items.all.get(upstream_id)
    for shown in {document.path, *([upstream.path] if upstream else [])}:
        if repo.uncommitted(config.root / shown):
            raise RefusedError(
                f"{shown} has changes that are not committed",
                "commit it first: an assessment binds the content recorded in git",
            )
    layout = SignatureLayout.of(config)
    with hermetic_keyring(*layout.key_folders) as keyring:
        registry = load_registry(config, keyring)
        verification = verify_handbook(
            config, handbook, [document], now=now, keyring=keyring, registry=registry
        )
        impact = judge_impact(config, verification, keyring, items)
        state = next(
            s for s in impact.links if s.link.item == item_id and s.link.upstream == upstream_id
        )
        if state.state != State.SUSPECT:
            raise RefusedError(
                f"{item_id} → {upstream_id} is {state.state}, not suspect",
                "only a suspect link is assessed",
            )
        fingerprint, entry = signing_key(
            keyring,
            registry,
            user_keys,
            key,
            now,
            untrusted="no assessment can be trusted until a registry administrator repairs it",
            unregistered="ask a registry administrator to register or renew the key",
        )
        allowed = assessor_roles(config, document)
        role = next((r for r in entry.roles if r in allowed), None)
        if role is None:
            raise RefusedError(
                f"{entry.name} may not assess a link of {document.type} {document.id}: "
                f"holds {', '.join(entry.roles)}, needs one of {', '.join(allowed)}",
                "have a reviewer of the document assess it",
            )
    moment = now.replace(microsecond=0)
    assessment = Assessment(
        document_id=document.id,
        item=item_id,
        upstream=upstream_id,
        recorded_fingerprint=state.recorded,
        assessed_fingerprint=state.current,
        decision=decision,
        ref=ref.strip(),
        reason=reason.strip(),
        signer_name=entry.name,
        signer_fingerprint=fingerprint,
        signer_role=role,
        signed_at=moment,
        wording=config.signing.wording("impact"),
    )
    path = layout.impact_file(document.id, moment, fingerprint)
    data = assessment.to_bytes()
    summary = signing_summary(
        config,
        f"Assess {item_id} \u2192 {upstream_id}",
        (("document", f"{document.id} {document.title}"), ("decision", str(decision))),
        data,
        "impact",
        meaning=str(decision),
        signer_name=entry.name,
        role=role,
        fingerprint=fingerprint,
    )
    files = write_signed(
        layout,
        path,
        data,
        moment,
        user_keys,
        fingerprint,
        summary=summary,
        timestamps=config.timestamps,
    )
    message = (
        f"Assess {item_id} → {upstream_id} ({document.id}): {decision}"
        + (f" {assessment.ref}" if assessment.ref else "")
        + f" by {entry.name} ({role})\n\n{assessment.reason}\n\n"
        f"Upstream fingerprint: {short(state.recorded)} → {short(state.current)}\n"
    )
    return Assessed(assessment, path, repo.commit(files, message))
