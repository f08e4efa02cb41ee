"""Trusted time for signatures: a token asked for right after signing, and each token read
back and checked offline against the TSAs the approved signing policy pins."""

from __future__ import annotations

import warnings
from pathlib import Path

from qms.adapters.tsa import TsaUnavailableError, request_token, verify_token
from qms.errors import QmsWarning, RefusedError
from qms.model.registry_history import RegistryHistory
from qms.model.signature_rules import SignatureFacts
from qms.model.timestamp_policy import Need, StampFacts, TimestampPolicy, approved_policy
from qms.services.layout import SignatureLayout


def stamp(policy: TimestampPolicy | None, kind: str, signature: bytes) -> bytes | None:
    """A token over `signature` when the policy asks one for `kind` (None: not asked, or
    optional and no TSA answered, which is warned about).

    A required token that no TSA gives refuses the signing: the caller writes nothing.
    """
    need = policy.need(kind) if policy is not None else Need.OFF
    if policy is None or need is Need.OFF:
        return None
    try:
        return first_token(policy, signature)[0]
    except RefusedError as exc:
        failure = exc.message
    if need is Need.REQUIRED:
        raise RefusedError(
            f"{failure}, and the signing policy requires a trusted time for "
            f"{kind.replace('_', ' ')} signatures: nothing was signed",
            "try again when the TSA answers",
        )
    warnings.warn(
        QmsWarning(f"{failure}: signed with the time as claimed by this machine's clock"),
        stacklevel=2,
    )
    return None


def pinned_policy(history: RegistryHistory | None) -> TimestampPolicy | None:
    """The timestamp policy of the registry revision in force: the only pins that count."""
    latest = history.latest if history is not None else None
    return approved_policy(latest.policy) if latest is not None else None


def required_token(signature: Path, facts: SignatureFacts, history: RegistryHistory) -> str:
    """The statement kind of `signature` when the policy in force at its (claimed) time
    requires a token made at signing for that kind; "" otherwise.

    Statements signed before a TSA was required keep verifying as claimed.
    """
    if facts.signed_at is None:
        return ""
    in_force = history.in_force_at(facts.signed_at)
    policy = approved_policy(in_force.policy) if in_force is not None else None
    kind = SignatureLayout.kind_at(signature)
    if policy is None or not kind or policy.need(kind) is not Need.REQUIRED:
        return ""
    return kind


def stamp_of(
    signature: Path, signature_bytes: bytes, history: RegistryHistory
) -> StampFacts | None:
    """The token beside `signature`, checked offline (one made at signing first, else one
    added later); None when there is none, or the policy pins no TSA, so the time is as
    the signer claimed it."""
    policy = pinned_policy(history)
    if policy is None or not policy.authorities:
        return None
    for later in (False, True):
        try:
            token = SignatureLayout.token_of(signature, later).read_bytes()
        except OSError:
            continue
        return verify_token(token, signature_bytes, policy.authorities, later)
    return None


def first_token(policy: TimestampPolicy, signature: bytes) -> tuple[bytes, str]:
    """A token from the first TSA that answers, and its name; refused when none does."""
    failures = []
    for authority in policy.authorities:
        try:
            return request_token(authority, signature), authority.name
        except TsaUnavailableError as exc:
            failures.append(exc.message)
    raise RefusedError(failures[0] if failures else "no TSA is configured", "try again later")
