"""Making a risk acceptance: judged by the verifying rules, signed, committed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from qms.adapters.git import Repository
from qms.adapters.gpg import UserKeys, hermetic_keyring
from qms.config import QmsConfig
from qms.errors import RefusedError
from qms.model.risk_acceptance import Acceptance, RiskNow, signing_refusal
from qms.model.signature_rules import RegisteredSigner
from qms.model.signers import SignerEntry
from qms.services.ceremony import approved_signing, require_protected, signing_summary
from qms.services.layout import SignatureLayout
from qms.services.registry import RegistryState, approved_policy, load_registry
from qms.services.risk_acceptance import handbook_risks, owner_of, policy_of
from qms.services.signed_files import write_signed
from qms.services.signers import choose_key


@dataclass(frozen=True)
class Accepted:
    """What `qms risk accept` wrote and committed."""

    acceptance: Acceptance
    path: Path
    commit: str


def _risk(risks: dict[str, RiskNow], risk_id: str) -> RiskNow:
    """The risk called `risk_id`, or a refusal naming the closest ids."""
    risk = risks.get(risk_id.strip().upper())
    if risk is not None:
        return risk
    close = difflib.get_close_matches(risk_id.upper(), list(risks), n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "'qms risk status' lists the risks"
    raise RefusedError(f"{risk_id} is not a risk of this handbook; nothing was written", hint)


def _role(config: QmsConfig, registry: RegistryState, entry: SignerEntry, risk: RiskNow) -> str:
    """The signer's role that may accept the risk's current score (the lowest level's)."""
    owner = owner_of(config, registry.history, risk)
    allowed = policy_of(config).allowed(risk.score, owner)
    role = next((r for r in allowed if r in entry.roles), "")
    if not role:
        needed = " or ".join(f"'{r}'" for r in allowed) or "a role no signer holds"
        raise RefusedError(
            f"{entry.name} may not accept {risk.id} at score {risk.score}: that needs "
            f"{needed}; nothing was written",
            "the levels are [tool.qms.risk_acceptance]; the risk's owner is its risk_owner field",
        )
    return role


def accept_risk(
    config: QmsConfig,
    risk_id: str,
    until: date,
    user_keys: UserKeys,
    key: str | None,
    now: datetime,
    comment: str = "",
) -> Accepted:
    """Sign, as a role that may accept it, a risk's current residual score until `until`."""
    moment = now.replace(microsecond=0)
    if until <= moment.date():
        raise RefusedError(
            f"--until {until} is not after today; nothing was written",
            "an acceptance holds until a later review date, e.g. one year from now",
        )
    risks = handbook_risks(config)
    risk = _risk(risks, risk_id)
    if not risk.score:
        raise RefusedError(
            f"{risk.id} has no residual likelihood and impact to accept; nothing was written",
            "give it residual_likelihood and residual_impact (or current_*)",
        )
    layout = SignatureLayout.of(config)
    with hermetic_keyring(layout.keys) as keyring:
        registry = load_registry(config, keyring)
        latest = registry.approved("no risk acceptance can be trusted until it is repaired")
        fingerprint = choose_key(
            user_keys, key, {s.fingerprint for s in latest.signers},
            signers=latest.signers, now=moment,
        )  # fmt: skip
        entry, refusal = RegisteredSigner().refusal(registry.history, fingerprint, moment)
        if refusal or entry is None:
            raise RefusedError(
                f"cannot accept with {fingerprint}: {refusal}; nothing was written",
                "a registered signer holding the accepting role signs",
            )
        role = _role(config, registry, entry, risk)
        info = keyring.key(fingerprint)
        if info is not None and info.expires is not None and info.expires <= moment:
            raise RefusedError(f"key {fingerprint} has expired", "renew it or use another key")
        require_protected(user_keys, fingerprint, approved_signing(approved_policy(latest)))
        owner = owner_of(config, registry.history, risk)
    acceptance = Acceptance(
        risk.id, risk.likelihood, risk.impact, risk.register_id, risk.register_version,
        until, entry.name, fingerprint, role, moment, comment,
        wording=config.signing.wording("risk-acceptance"),
    )  # fmt: skip
    refusal = signing_refusal(acceptance, risk, policy_of(config), owner)
    if refusal:
        raise RefusedError(f"{refusal}; nothing was written", "see 'qms risk accept --help'")
    path = layout.risk_acceptance_file(risk.id, moment, fingerprint)
    data = acceptance.to_bytes()
    summary = signing_summary(
        config,
        f"Accept risk {risk.id}",
        (
            ("risk", risk.id),
            ("register", f"{risk.register_id} {risk.register_version}"),
            ("score", f"{acceptance.score} (likelihood {risk.likelihood} x impact {risk.impact})"),
            ("until", str(until)),
        ),
        data,
        "risk-acceptance",
        meaning="accepted",
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
        f"Risk {risk.id} accepted at score {acceptance.score} until {until} "
        f"by {entry.name} ({role})\n"
    )
    commit = Repository(config.root).commit(files, message)
    return Accepted(acceptance, path, commit)
