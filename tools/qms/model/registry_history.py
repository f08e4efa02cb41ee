"""The approved revisions of the signer registry, and who was a signer when."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from qms.model.signers import REGISTRY_ADMIN, Registry, SignerEntry


@dataclass(frozen=True)
class RegistryHistory:
    """Every approved registry revision with the time its approval was signed."""

    revisions: tuple[tuple[Registry, datetime], ...]

    @property
    def latest(self) -> Registry | None:
        """The registry in force now."""
        return self.revisions[-1][0] if self.revisions else None

    def in_force_at(self, moment: datetime) -> Registry | None:
        """The last revision approved at or before `moment`."""
        current = None
        for registry, approved_at in self.revisions:
            if approved_at <= moment:
                current = registry
        return current

    def signer_at(self, fingerprint: str, moment: datetime) -> tuple[SignerEntry | None, str]:
        """The signer's entry as in force at `moment`, or the reason there is none.

        Roles come from the revision in force when the signature was made; revocation
        and end of validity come from the latest revision, because a revocation is
        recorded after the fact but dated to when trust ended.
        """
        latest = self.latest
        then = self.in_force_at(moment)
        known = latest.get(fingerprint) if latest else None
        entry = then.get(fingerprint) if then is not None else None
        if entry is None:
            if known is None:
                return None, f"key {fingerprint} is not in the signer registry"
            return None, f"{known.name} was not yet a registered signer when this was signed"
        refusal = (known or entry).refusal_at(moment)
        if refusal is not None:
            return None, refusal
        return entry, ""

    def administrator_refusal(
        self, fingerprint: str, moment: datetime, where: str = "the registry in force"
    ) -> str:
        """Why `fingerprint` may not sign for the registry at `moment` ("" if it may).

        A trust root the latest revision approves may, and so may a registry-admin of
        the revision in force at `moment`; pinning oneself in pyproject.toml gains nothing.
        """
        latest = self.latest
        if latest is None:
            return "there is no approved signer registry"
        policy = json.loads(latest.policy) if latest.policy else {}
        if fingerprint in policy.get("trust_roots", ()):
            return ""
        entry, refusal = self.signer_at(fingerprint, moment)
        if entry is None:
            return refusal
        if REGISTRY_ADMIN not in entry.roles:
            return f"{entry.name} is not a {REGISTRY_ADMIN} in {where}"
        return ""
