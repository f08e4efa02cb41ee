"""The rules every signed statement passes, whatever its kind: one set, pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from qms.model.registry_history import RegistryHistory
from qms.model.signers import SignerEntry
from qms.model.timestamp_policy import (
    DEFAULT_TOLERANCE,
    StampFacts,
    approved_policy,
    time_source,
    tolerance_problem,
)
from qms.model.timeutil import format_utc

# How far a statement's own time may lie from its signature's timestamp.
CLOCK_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class SignatureFacts:
    """What gpg established about one detached signature."""

    good: bool
    fingerprint: str | None = None
    signed_at: datetime | None = None
    # The key's expiry as the keyring knows it now (None: never expires).
    key_expires: datetime | None = None
    problem: str = ""
    # The RFC 3161 token beside the signature, checked offline (None: there is none).
    stamp: StampFacts | None = None
    # The statement kind, when the signing policy in force at the signature's time
    # requires a token made at signing for it ("" when none is required).
    token_required: str = ""

    @property
    def time_source(self) -> str:
        """ "time trusted (TSA NAME)" or "time as claimed by the signer"."""
        return time_source(self.stamp)

    @property
    def trusted_time(self) -> datetime | None:
        """The signature's time as a TSA certified it at signing (None: as claimed)."""
        stamp = self.stamp
        return stamp.time if stamp is not None and stamp.trusted and not stamp.later else None


@dataclass(frozen=True)
class Claim:
    """What a statement says of its own signing; None where the kind does not say.

    A registry revision names neither signer nor time; an approval names both, and both
    must match what gpg found, so a statement cannot be passed off as someone else's.
    """

    fingerprint: str | None = None
    signed_at: datetime | None = None


class Authority(Protocol):
    """Who may sign a statement of some kind, judged at the moment of signing."""

    def refusal(
        self, history: RegistryHistory, fingerprint: str, at: datetime
    ) -> tuple[SignerEntry | None, str]:
        """(the signer's entry if registered, why they may not sign: "" if they may)."""
        ...


@dataclass(frozen=True)
class RegisteredSigner:
    """A signer registered at signing time, holding `role` when one is named."""

    role: str = ""

    def refusal(
        self, history: RegistryHistory, fingerprint: str, at: datetime
    ) -> tuple[SignerEntry | None, str]:
        """The signer's entry in force at `at`, or why there is none or it lacks the role."""
        entry, refusal = history.signer_at(fingerprint, at)
        if entry is None:
            return None, refusal
        if self.role and self.role not in entry.roles:
            return entry, f"{entry.name} does not hold the role '{self.role}'"
        return entry, ""


@dataclass(frozen=True)
class RegistryAdministrator:
    """A registry administrator of the revision in force, or a trust root it approves."""

    where: str = "the registry in force"

    def refusal(
        self, history: RegistryHistory, fingerprint: str, at: datetime
    ) -> tuple[SignerEntry | None, str]:
        """As RegistryHistory.administrator_refusal, with the entry when there is one."""
        entry, _ = history.signer_at(fingerprint, at)
        return entry, history.administrator_refusal(fingerprint, at, self.where)


@dataclass(frozen=True)
class PinnedTrustRoot:
    """One of the trust roots pinned in [tool.qms]: the only anchor of revision 1."""

    trust_roots: tuple[str, ...]

    def refusal(
        self, history: RegistryHistory, fingerprint: str, at: datetime
    ) -> tuple[SignerEntry | None, str]:
        """ "" for a pinned root, else why revision 1 needs one."""
        if fingerprint in self.trust_roots:
            return None, ""
        return None, (
            f"revision 1 must be signed by a trust root pinned in [tool.qms], not {fingerprint}"
        )


@dataclass(frozen=True)
class ListedKey:
    """One of the keys a controlled list (the HR-approved roster) names for one person.

    Staff who sign only their own training acknowledgements are not registry signers: the
    roster binds their key to them, so their names stay out of the published registry. A
    key its owner revoked in OpenPGP no longer counts, for anything it signed.
    """

    keys: tuple[str, ...]
    whose: str
    revoked: frozenset[str] = frozenset()

    def refusal(
        self, history: RegistryHistory, fingerprint: str, at: datetime
    ) -> tuple[SignerEntry | None, str]:
        """ "" for a listed, unrevoked key, else why it does not count."""
        if fingerprint not in self.keys:
            return None, (
                f"signed with key {fingerprint}, which the roster does not list for "
                f"{self.whose}: a person acknowledges only for themselves"
            )
        if fingerprint in self.revoked:
            return None, (
                f"key {fingerprint} of {self.whose} carries an OpenPGP revocation: what it "
                "signed no longer counts; acknowledge again with the new key"
            )
        return None, ""


@dataclass(frozen=True)
class SignatureVerdict:
    """One signature judged: gpg's facts, the signer's entry, and why it does not count."""

    facts: SignatureFacts
    entry: SignerEntry | None
    problem: str

    @property
    def valid(self) -> bool:
        """It counts: gpg verified it and every rule passed."""
        return not self.problem


def unverified(facts: SignatureFacts) -> str:
    """Why gpg did not verify the signature ("" when it did)."""
    if facts.good and facts.fingerprint is not None and facts.signed_at is not None:
        return ""
    return f"signature does not verify: {facts.problem or 'bad signature'}"


def judge_signature(
    facts: SignatureFacts, claim: Claim, authority: Authority, history: RegistryHistory
) -> SignatureVerdict:
    """Judge one signature: verified, made by the key and at the time the statement
    claims, before its key expired, by someone `authority` admits at that moment.

    The signer is judged against the registry revision in force when the signature was
    made, never against today's: at the time a pinned TSA certified, when a token made at
    signing is beside it, else at the time gpg says. A token that does not verify, or
    lies outside the policy's tolerance of the signature's own time, is a problem.
    """
    problem = unverified(facts)
    if problem or facts.fingerprint is None or facts.signed_at is None:
        return SignatureVerdict(facts, None, problem)
    if claim.fingerprint is not None and facts.fingerprint != claim.fingerprint:
        problem = (
            f"signed with key {facts.fingerprint}, but the statement names {claim.fingerprint}"
        )
        return SignatureVerdict(facts, None, problem)
    if claim.signed_at is not None and abs(facts.signed_at - claim.signed_at) > CLOCK_TOLERANCE:
        problem = (
            f"statement time {format_utc(claim.signed_at)} does not match the signature "
            f"time {format_utc(facts.signed_at)}"
        )
        return SignatureVerdict(facts, None, problem)
    stamp = facts.stamp
    if stamp is not None and not stamp.trusted and not stamp.later:
        return SignatureVerdict(facts, None, stamp.problem)
    if stamp is not None and stamp.trusted and not stamp.later:
        policy = approved_policy(history.latest.policy) if history.latest else None
        tolerance = policy.tolerance_seconds if policy else DEFAULT_TOLERANCE
        problem = tolerance_problem(stamp, facts.signed_at, tolerance)
        if problem:
            return SignatureVerdict(facts, None, problem)
    if facts.token_required and facts.trusted_time is None:
        # Without it the time is the signer's own claim, which a revoked or expired key
        # would set back: a required token is part of the signature.
        problem = (
            f"the signing policy in force at {format_utc(facts.signed_at)} requires a "
            f"trusted time-stamp on {facts.token_required.replace('_', ' ')} signatures, "
            "and none was filed when it was signed"
        )
        return SignatureVerdict(facts, None, problem)
    moment = facts.trusted_time or facts.signed_at
    entry, refusal = authority.refusal(history, facts.fingerprint, moment)
    if refusal:
        return SignatureVerdict(facts, entry, refusal)
    if facts.key_expires is not None and moment >= facts.key_expires:
        problem = f"signed after the key expired at {format_utc(facts.key_expires)}"
        return SignatureVerdict(facts, entry, problem)
    return SignatureVerdict(facts, entry, "")


def people(history: RegistryHistory) -> dict[str, str]:
    """Fingerprint -> person: one person may hold several keys, known by one email."""
    found: dict[str, str] = {}
    for revision, _ in history.revisions:
        for entry in revision.signers:
            found[entry.fingerprint] = entry.email.casefold()
    return found


def person(history: RegistryHistory, fingerprint: str) -> str:
    """The person holding a key (the fingerprint itself when unregistered)."""
    return people(history).get(fingerprint, fingerprint)


def shared_person(signed: Mapping[str, str], history: RegistryHistory) -> tuple[str, ...]:
    """The parts (roles, meanings) of `signed` (part -> fingerprint) that one person
    holds with another part: empty when every part is signed by a different person."""
    known = people(history)
    holders: dict[str, list[str]] = {}
    for part, fingerprint in signed.items():
        holders.setdefault(known.get(fingerprint, fingerprint), []).append(part)
    return tuple(sorted(p for parts in holders.values() if len(parts) > 1 for p in parts))
