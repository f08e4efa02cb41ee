"""Registering, revoking and listing signers: each change is a new, signed registry revision."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from qms.adapters.gpg import Keyring, UserKeys, keys_in
from qms.config import QmsConfig
from qms.errors import QmsError, RefusedError
from qms.model.findings import FindingCode
from qms.model.signature_rules import RegisteredSigner
from qms.model.signers import ROLE, Registry, SignerEntry, canonical_policy
from qms.model.timeutil import format_utc
from qms.services.ceremony import approved_signing, require_protected
from qms.services.layout import SignatureLayout
from qms.services.registry import (
    RegistryChange,
    RegistryState,
    approved_policy,
    change_registry,
    policy_changes,
    verified_registry,
)


@dataclass(frozen=True)
class SignerListing:
    """The verified registry as `qms signers list` shows it."""

    state: RegistryState

    @property
    def signers(self) -> tuple[SignerEntry, ...]:
        """The signers of the latest revision (none before the first)."""
        latest = self.state.history.latest
        return tuple(latest.signers) if latest else ()

    @property
    def ok(self) -> bool:
        """Trusted, or not started yet with nothing wrong: no registry is no broken registry."""
        state = self.state
        return state.trusted or (state.history.latest is None and not state.findings)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        latest = self.state.history.latest
        return {
            "revision": latest.revision if latest else None,
            "trusted": self.state.trusted,
            "findings": [f.as_dict() for f in self.state.findings],
            "policy": approved_policy(latest) or None if latest else None,
            "signers": [s.as_dict() for s in self.signers],
        }


def signer_listing(config: QmsConfig) -> SignerListing:
    """Verify the registry hermetically, for listing its signers."""
    return SignerListing(verified_registry(config))


def choose_key(
    user_keys: UserKeys,
    key: str | None,
    registered: Collection[str],
    *,
    signers: Sequence[SignerEntry] = (),
    now: datetime | None = None,
    unlisted: tuple[str, str] = (
        "none of your secret keys is in the signer registry",
        "ask a registry administrator to run 'qms signers add', or pass --key",
    ),
) -> str:
    """The key to sign with: --key, or the signer's only registered secret key.

    `registered` may be another list of keys (the roster's), with `unlisted` saying what
    to do when none of yours is on it.

    With the registry's `signers` and `now`, keys whose registration no longer counts
    (revoked, ended) are passed over, so a signer who replaced a key need not name the
    new one; when several remain, the refusal lists them.
    """
    if key:
        return "".join(key.split()).upper()
    mine = [fpr for fpr in user_keys.secret_fingerprints() if fpr in registered]
    entries = {entry.fingerprint: entry for entry in signers}
    if now is not None:
        usable = [f for f in mine if f in entries and entries[f].refusal_at(now) is None]
        mine = usable or mine  # none usable: the caller refuses, saying why
    if len(mine) == 1:
        return mine[0]
    if not mine:
        raise RefusedError(*unlisted)
    raise QmsError(
        f"you hold {len(mine)} registered keys",
        "choose one with --key FINGERPRINT:",
        [_describe(fpr, entries.get(fpr)) for fpr in mine],
    )


def signing_key(
    keyring: Keyring,
    registry: RegistryState,
    user_keys: UserKeys,
    key: str | None,
    now: datetime,
    *,
    role: str = "",
    untrusted: str,
    unregistered: str,
) -> tuple[str, SignerEntry]:
    """The registered key to sign with now, and its entry: one rule for every command that
    signs as a registered signer (holding `role` when one is named).

    Refused, with `untrusted` or `unregistered` as what to do, while the registry is not
    approved, when the key's registration does not count now, when the key expired, and
    when the approved policy requires a protected key and this one has no protection.
    """
    latest = registry.approved(untrusted)
    fingerprint = choose_key(
        user_keys, key, {s.fingerprint for s in latest.signers}, signers=latest.signers, now=now
    )
    entry, refusal = RegisteredSigner(role).refusal(registry.history, fingerprint, now)
    if refusal or entry is None:
        raise RefusedError(f"cannot sign with {fingerprint}: {refusal}", unregistered)
    info = keyring.key(fingerprint)
    if info is not None and info.expires is not None and info.expires <= now:
        raise RefusedError(f"key {fingerprint} has expired", "renew it or use another key")
    require_protected(user_keys, fingerprint, approved_signing(approved_policy(latest)))
    return fingerprint, entry


def _describe(fingerprint: str, entry: SignerEntry | None) -> str:
    """A key as the --key choice lists it: fingerprint, printed name, roles."""
    if entry is None:
        return fingerprint
    return f"{fingerprint}  {entry.name}  ({', '.join(entry.roles)})"


def add_signer(
    config: QmsConfig,
    key_data: bytes,
    name: str,
    email: str,
    roles: list[str],
    admin: str,
    user_keys: UserKeys,
    now: datetime,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> tuple[SignerEntry, RegistryChange]:
    """Import a public key and register its holder, signed by a registry administrator."""
    bad = [role for role in roles if not ROLE.match(role)]
    if bad or not roles:
        raise QmsError(
            f"invalid role names: {', '.join(bad) or 'none given'}",
            "roles are lower-case words with dashes, like qa or isms-manager",
        )
    if b"PRIVATE KEY BLOCK" in key_data:
        raise QmsError(
            "the key file holds a secret key, which must never be shared or committed",
            "export the public key only: gpg --export --armor FINGERPRINT > key.asc",
        )
    keys = keys_in(key_data)
    if len(keys) != 1:
        raise QmsError(
            f"the key file holds {len(keys)} keys",
            "export exactly one public key: gpg --export --armor FINGERPRINT > key.asc",
        )
    [key] = keys
    if key.revoked:
        raise RefusedError(
            f"key {key.fingerprint} has been revoked by its owner",
            "register a current key; a revoked key never signs again",
        )
    if key.expires is not None and key.expires <= now:
        # gpg refuses to sign with it, so every approval by its holder would fail.
        raise RefusedError(
            f"key {key.fingerprint} expired at {format_utc(key.expires)}",
            "extend it (gpg --quick-set-expire FINGERPRINT 2y), export it again and add that",
        )
    fingerprint = key.fingerprint
    entry = SignerEntry(
        fingerprint=fingerprint,
        name=" ".join(name.split()),
        email=email.strip(),
        roles=tuple(dict.fromkeys(roles)),
        valid_from=(valid_from or now).replace(microsecond=0),
        valid_until=valid_until,
    )
    if not entry.name or "@" not in entry.email:
        raise QmsError(
            "a signer needs a printed name and an email address", "pass --name and --email"
        )

    def add(registry: Registry) -> Registry:
        if registry.get(fingerprint) is not None:
            raise RefusedError(
                f"{fingerprint} is already registered",
                "revoke it and register a new key; entries are never edited in place",
            )
        return registry.with_signer(entry)

    layout = SignatureLayout.of(config)
    change = change_registry(
        config,
        add,
        admin,
        user_keys,
        now,
        f"Register signer {entry.name} ({', '.join(entry.roles)})\n\nFingerprint: {fingerprint}\n",
        extra_files={layout.key_file(fingerprint): key_data},
    )
    return entry, change


def revoke_signer(
    config: QmsConfig,
    fingerprint: str,
    at: datetime,
    reason: str,
    admin: str,
    user_keys: UserKeys,
    now: datetime,
) -> RegistryChange:
    """Revoke a signer from `at`: their signatures made from then on no longer count."""
    if not reason.strip():
        raise QmsError("a revocation needs a reason", "pass --reason TEXT")

    def revoke(registry: Registry) -> Registry:
        entry = registry.get(fingerprint)
        if entry is None:
            raise RefusedError(
                f"{fingerprint} is not in the signer registry", "check the fingerprint"
            )
        if entry.revoked_at is not None:
            raise RefusedError(
                f"{entry.name} was already revoked at {format_utc(entry.revoked_at)}",
                "nothing to do",
            )
        return registry.with_signer(replace(entry, revoked_at=at, revoked_reason=reason.strip()))

    return change_registry(
        config,
        revoke,
        admin,
        user_keys,
        now,
        f"Revoke signer {fingerprint} from {format_utc(at)}\n\nReason: {reason.strip()}\n",
        clears=FindingCode.KEY_REVOKED,
    )


def approve_policy(
    config: QmsConfig, admin: str, user_keys: UserKeys, now: datetime
) -> tuple[tuple[str, ...], RegistryChange]:
    """Approve [tool.qms]'s signing policy as a new registry revision; return what changed."""
    policy = config.signing_policy()
    changed: list[str] = []

    def approve(registry: Registry) -> Registry:
        changed.extend(policy_changes(registry, policy))
        if registry.policy == canonical_policy(policy):
            raise RefusedError(
                f"registry revision {registry.revision} already approves [tool.qms] as it stands",
                "nothing to do",
            )
        return registry.with_policy(policy)

    change = change_registry(
        config,
        approve,
        admin,
        user_keys,
        now,
        "Approve the signing policy in [tool.qms]\n\n"
        + json.dumps(policy, indent=2, sort_keys=True)
        + "\n",
        clears=FindingCode.REGISTRY_POLICY,
    )
    return tuple(changed), change
