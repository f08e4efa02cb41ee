"""The signer registry: who may sign, with which roles, and when."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml

from qms.model.parsing import load_yaml
from qms.model.schemas import problems, schema
from qms.model.timeutil import format_utc, parse_utc

# The shape of a registry file is qms/schemas/signers.schema.json, role names included.
SCHEMA = "signers"
FINGERPRINT = re.compile(r"^[0-9A-F]{40}$")
ROLE = re.compile(schema(SCHEMA)["$defs"]["role"]["pattern"])
REGISTRY_ADMIN = "registry-admin"


class RegistryError(ValueError):
    """A registry file that cannot be read as a signer registry."""


def normalise_fingerprint(text: str) -> str:
    """Upper-case hex without spaces; raise ValueError if it is not a v4 fingerprint."""
    fingerprint = "".join(text.split()).upper()
    if not FINGERPRINT.match(fingerprint):
        raise ValueError(f"{text!r} is not a 40-digit OpenPGP fingerprint")
    return fingerprint


@dataclass(frozen=True)
class SignerEntry:
    """One registered signer and the window in which their signatures count."""

    fingerprint: str
    name: str
    email: str
    roles: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str = ""

    def refusal_at(self, moment: datetime) -> str | None:
        """Why a signature at `moment` does not count, or None when it does."""
        if moment < self.valid_from:
            start = format_utc(self.valid_from)
            return f"signed before {self.name}'s registration took effect ({start})"
        if self.revoked_at is not None and moment >= self.revoked_at:
            return (
                f"signed after {self.name}'s key was revoked at {format_utc(self.revoked_at)} "
                f"({self.revoked_reason})"
            )
        if self.valid_until is not None and moment >= self.valid_until:
            return (
                f"signed after {self.name}'s registration ended at {format_utc(self.valid_until)}"
            )
        return None

    def as_dict(self) -> dict[str, Any]:
        """JSON/YAML-ready data."""
        return {
            "fingerprint": self.fingerprint,
            "name": self.name,
            "email": self.email,
            "roles": list(self.roles),
            "valid_from": format_utc(self.valid_from),
            "valid_until": format_utc(self.valid_until) if self.valid_until else None,
            "revoked_at": format_utc(self.revoked_at) if self.revoked_at else None,
            "revoked_reason": self.revoked_reason,
        }


def canonical_policy(policy: Mapping[str, Any]) -> str:
    """One text per policy, whatever the order it was written in."""
    return json.dumps(policy, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Registry:
    """One revision of the signer registry."""

    revision: int
    signers: tuple[SignerEntry, ...]
    # The signing policy this revision approves (trust roots, approval rules, release
    # signer roles), as canonical JSON; "" when it approves none.
    policy: str = ""
    # The words of the meaning the administrator confirmed (model/ceremony.py); "" in a
    # revision made before they were recorded (issue 18). A new revision starts without.
    wording: str = ""

    def get(self, fingerprint: str) -> SignerEntry | None:
        """The entry of a fingerprint, if registered."""
        return next((s for s in self.signers if s.fingerprint == fingerprint), None)

    def with_signer(self, entry: SignerEntry) -> Registry:
        """The next revision, with `entry` added or replacing the same fingerprint."""
        others = tuple(s for s in self.signers if s.fingerprint != entry.fingerprint)
        ordered = tuple(sorted((*others, entry), key=lambda s: (s.name.casefold(), s.fingerprint)))
        return Registry(self.revision + 1, ordered, self.policy)

    def with_policy(self, policy: Mapping[str, Any]) -> Registry:
        """The next revision, approving `policy` in place of the current one."""
        return Registry(self.revision + 1, self.signers, canonical_policy(policy))

    def to_bytes(self) -> bytes:
        """Deterministic YAML, so that the same registry always has the same bytes."""
        data: dict[str, Any] = {"revision": self.revision}
        if self.wording:
            data["wording"] = self.wording
        if self.policy:
            data["policy"] = json.loads(self.policy)
        data["signers"] = [s.as_dict() for s in self.signers]
        header = (
            "# Signer registry. Controlled: change it only with 'qms signers add', 'revoke'\n"
            "# or 'policy'; a hand edit fails 'qms verify'.\n"
        )
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
        return (header + text).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, source: str) -> Registry:
        """Parse and validate a registry file; errors name `source` and the entry."""
        try:
            raw = load_yaml(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise RegistryError(f"{source}: not UTF-8 text") from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "unreadable"
            raise RegistryError(f"{source}: not valid YAML{where}: {problem}") from exc
        # The first problem in file order: the file's own keys, then signer by signer,
        # each signer's shape before what is read from it.
        shapes = {_signer_of(p.path): p.message for p in reversed(problems(SCHEMA, raw))}
        if 0 in shapes:
            raise RegistryError(f"{source}: {shapes[0]}")
        entries = []
        for index, item in enumerate(raw["signers"], start=1):
            if index in shapes:
                raise RegistryError(f"{source}: signer {index}: {shapes[index]}")
            entries.append(_entry(item, f"{source}: signer {index}"))
        policy = raw.get("policy")
        fingerprints = [entry.fingerprint for entry in entries]
        if len(set(fingerprints)) != len(fingerprints):
            raise RegistryError(f"{source}: a fingerprint is registered twice")
        try:
            text = canonical_policy(policy) if policy else ""
        except (TypeError, ValueError) as exc:
            raise RegistryError(f"{source}: 'policy' holds a value JSON cannot hold") from exc
        return cls(raw["revision"], tuple(entries), text, str(raw.get("wording") or ""))


def _signer_of(path: tuple[str | int, ...]) -> int:
    """The 1-based number of the signer a problem is in; 0 for the file's own keys."""
    if len(path) >= 2 and path[0] == "signers" and isinstance(path[1], int):
        return path[1] + 1
    return 0


def _entry(item: dict[str, Any], where: str) -> SignerEntry:
    """A signer from an entry that met the schema; fingerprints and times are read here."""
    try:
        return SignerEntry(
            fingerprint=normalise_fingerprint(str(item["fingerprint"])),
            name=item["name"].strip(),
            email=item["email"].strip(),
            roles=tuple(item["roles"]),
            valid_from=parse_utc(str(item["valid_from"])),
            valid_until=_optional_time(item["valid_until"]),
            revoked_at=_optional_time(item["revoked_at"]),
            revoked_reason=str(item["revoked_reason"] or ""),
        )
    except ValueError as exc:
        raise RegistryError(f"{where}: {exc}") from exc


def _optional_time(value: Any) -> datetime | None:
    return None if value is None else parse_utc(str(value))
