"""Release signatures: which role each valid one is for, and the names and titles shown for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qms.adapters.gpg import Keyring
from qms.model.signature_rules import Claim, RegisteredSigner, shared_person
from qms.model.signers import Registry
from qms.services.registry import RegistryState, approved_policy
from qms.services.signatures import verify_signed
from qms.services.templates import render


@dataclass(frozen=True)
class ReleaseSignature:
    """A valid release signature: whose key, and when gpg says it was made."""

    fingerprint: str
    signed_at: datetime


def release_signers(
    signatures: Path, data: bytes, keyring: Keyring, registry: RegistryState
) -> dict[str, ReleaseSignature]:
    """Role -> the valid release signature for it in the folder `signatures`."""
    found: dict[str, ReleaseSignature] = {}
    for path in sorted(signatures.glob("*.asc")):
        role = path.name.split("--")[0]
        verdict = verify_signed(
            keyring, path, data, Claim(), RegisteredSigner(role), registry.history
        )
        facts = verdict.facts
        if verdict.valid and facts.fingerprint is not None and facts.signed_at is not None:
            found[role] = ReleaseSignature(facts.fingerprint, facts.signed_at)
    return found


def shared_signers(registry: RegistryState, signed: dict[str, ReleaseSignature]) -> tuple[str, ...]:
    """The roles of `signed` that one person signed with another role (none: all distinct)."""
    return shared_person({r: s.fingerprint for r, s in signed.items()}, registry.history)


def approved_roles(registry: Registry) -> set[str]:
    """The release signer roles a registry revision's signing policy approves."""
    return set(approved_policy(registry).get("release_signer_roles", []))


def person_of(registry: RegistryState, fingerprint: str) -> str:
    """The registered name of a key's holder (the fingerprint when unregistered)."""
    latest = registry.history.latest
    entry = latest.get(fingerprint) if latest else None
    return entry.name if entry else fingerprint


def role_title_of(registry: RegistryState, role: str) -> str:
    """A role's title as the folder's own approved registry revision names it, so that a
    published release shows the same titles offline as the handbook does."""
    latest = registry.history.latest
    titles = approved_policy(latest).get("role_titles", {}) if latest else {}
    return str(titles.get(role, role))


def signer_names(registry: RegistryState, signed: dict[str, ReleaseSignature]) -> dict[str, str]:
    """Role title -> name of the person whose valid signature stands for that role."""
    return {
        role_title_of(registry, role): person_of(registry, s.fingerprint)
        for role, s in signed.items()
    }


def signers_script(signed: dict[str, str]) -> str:
    """The script that fills the banner's signers, from verified signatures only."""
    names = "; ".join(f"{role}: {name}" for role, name in sorted(signed.items()))
    return render("release-signers.js", text=f"Signed by {names}." if names else "Not signed.")
