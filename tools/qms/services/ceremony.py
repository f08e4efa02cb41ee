"""The signing ceremony every signing command goes through: the summary, and a protected key."""

from __future__ import annotations

import hashlib
from typing import Any

from qms.adapters.gpg import UserKeys
from qms.config import QmsConfig
from qms.errors import RefusedError
from qms.model.ceremony import (
    LOCAL_CLOCK,
    STATEMENT_KINDS,
    SigningPolicy,
    SigningSummary,
    protection_refusal,
)
from qms.model.timestamp_policy import planned_source


def signing_summary(
    config: QmsConfig,
    action: str,
    subject: tuple[tuple[str, str], ...],
    signed: bytes | str,
    wording_key: str,
    *,
    meaning: str = "",
    signer_name: str,
    role: str,
    fingerprint: str,
    extra: tuple[tuple[str, str], ...] = (),
) -> SigningSummary:
    """What the signer confirms: `signed` is the content's SHA-256, or the bytes signed."""
    digest = signed if isinstance(signed, str) else hashlib.sha256(signed).hexdigest()
    return SigningSummary(
        action=action,
        subject=subject,
        content_sha256=digest,
        meaning=meaning or wording_key,
        wording=config.signing.wording(wording_key),
        signer_name=signer_name,
        role=config.role_title(role),
        fingerprint=fingerprint,
        extra=extra,
        time_source=planned_source(config.timestamps, STATEMENT_KINDS[wording_key], LOCAL_CLOCK),
    )


def approved_signing(policy: dict[str, Any]) -> SigningPolicy:
    """The `[tool.qms.signing]` part of a signing policy a registry revision approves."""
    return SigningPolicy.from_dict(policy.get("signing", {}))


def require_protected(user_keys: UserKeys, fingerprint: str, policy: SigningPolicy) -> None:
    """Refuse a key that has neither a passphrase nor a smartcard when the policy says so."""
    if not policy.protected_key:
        return
    refusal = protection_refusal(True, user_keys.protection(fingerprint))
    if refusal:
        raise RefusedError(
            f"cannot sign with {fingerprint}: {refusal}",
            f"set a passphrase (gpg --change-passphrase {fingerprint}) or move the key to a "
            "smartcard",
        )
