"""The approved revisions of the signer registry, and who was a signer when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from qms.model.signers import Registry, SignerEntry


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
