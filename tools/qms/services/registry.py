"""The controlled signer registry: verifying its chain of approvals and changing it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qms.adapters.files import write_atomic
from qms.adapters.git import Repository
from qms.adapters.gpg import Keyring, UserKeys, hermetic_keyring
from qms.config import QmsConfig
from qms.errors import QmsError, RefusedError
from qms.model.findings import Finding
from qms.model.registry_history import RegistryHistory
from qms.model.signers import REGISTRY_ADMIN, Registry, RegistryError
from qms.services.handbook import display_path
from qms.services.layout import SignatureLayout

_SNAPSHOT = re.compile(r"^(\d{4})\.yaml$")


@dataclass(frozen=True)
class RegistryState:
    """The approved registry history and whatever makes it untrustworthy."""

    history: RegistryHistory
    findings: tuple[Finding, ...]

    @property
    def trusted(self) -> bool:
        """An approved registry exists and nothing is wrong with its chain."""
        return self.history.latest is not None and not self.findings


def _read(path: Path, config: QmsConfig) -> Registry:
    try:
        return Registry.from_bytes(path.read_bytes(), display_path(config.root, path))
    except RegistryError as exc:
        raise QmsError(
            f"malformed signer registry: {exc}",
            "restore the last approved version with git, then change it only with qms signers",
        ) from exc


def _approver_refusal(
    fingerprint: str,
    moment: datetime,
    revision: int,
    history: RegistryHistory,
    config: QmsConfig,
) -> str:
    """Why `fingerprint` may not approve registry `revision` at `moment` ("" if it may)."""
    if fingerprint in config.trust_roots:
        return ""
    if revision == 1:
        return f"revision 1 must be signed by a trust root pinned in [tool.qms], not {fingerprint}"
    entry, refusal = history.signer_at(fingerprint, moment)
    if entry is None:
        return refusal
    if REGISTRY_ADMIN not in entry.roles:
        return f"{entry.name} is not a {REGISTRY_ADMIN} in the previous approved registry"
    return ""


def load_registry(config: QmsConfig, keyring: Keyring) -> RegistryState:
    """Verify the registry chain back to the trust roots, revision by revision."""
    layout = SignatureLayout.of(config)
    findings: list[Finding] = []
    revisions: list[tuple[Registry, datetime]] = []

    def fail(path: Path, message: str) -> None:
        findings.append(Finding(display_path(config.root, path), None, message, "registry"))

    snapshots = sorted(
        (int(m.group(1)), path)
        for path in (layout.registry_history.iterdir() if layout.registry_history.is_dir() else [])
        if (m := _SNAPSHOT.match(path.name))
    )
    for expected, (number, path) in enumerate(snapshots, start=1):
        if number != expected:
            fail(path, f"registry revision {expected} is missing; revisions must be contiguous")
            break
        registry = _read(path, config)
        if registry.revision != number:
            fail(path, f"file holds revision {registry.revision}, not {number}")
            break
        data = path.read_bytes()
        history = RegistryHistory(tuple(revisions))
        approvals: list[datetime] = []
        problems: list[str] = []
        for signature in sorted(path.parent.glob(f"{number:04d}.*.asc")):
            facts = keyring.verify(signature, data)
            if not facts.good or facts.fingerprint is None or facts.signed_at is None:
                problems.append(f"{signature.name}: {facts.problem}")
                continue
            refusal = _approver_refusal(facts.fingerprint, facts.signed_at, number, history, config)
            if refusal:
                problems.append(f"{signature.name}: {refusal}")
            else:
                approvals.append(facts.signed_at)
        if not approvals:
            detail = "; ".join(problems) or "no signature"
            fail(
                path,
                f"registry revision {number} is not approved by a registry administrator "
                f"({detail})",
            )
            break
        previous = revisions[-1][0] if revisions else None
        if revisions and min(approvals) < revisions[-1][1]:
            fail(
                path,
                f"revision {number} is approved before revision {number - 1} was; "
                "registry revisions follow each other in time",
            )
            break
        if previous is not None:
            undone = [
                entry.fingerprint
                for entry in previous.signers
                if entry.revoked_at is not None
                and (
                    (now_entry := registry.get(entry.fingerprint)) is None
                    or now_entry.revoked_at is None
                    or now_entry.revoked_at > entry.revoked_at
                )
            ]
            if undone:
                fail(
                    path,
                    f"revision {number} lifts or delays the revocation of "
                    f"{', '.join(undone)}; a revocation is final",
                )
                break
            dropped = {s.fingerprint for s in previous.signers} - {
                s.fingerprint for s in registry.signers
            }
            if dropped:
                fail(
                    path,
                    f"revision {number} deletes signers {', '.join(sorted(dropped))}; "
                    "signers are revoked, never removed",
                )
                break
        revisions.append((registry, min(approvals)))

    history = RegistryHistory(tuple(revisions))
    current = layout.registry_file
    if current.is_file():
        _read(current, config)  # a malformed file is an environment error, exit 2
        if not revisions:
            if not findings:
                fail(current, "the signer registry has no approved revision")
        elif current.read_bytes() != layout.revision_file(len(revisions)).read_bytes():
            fail(
                current,
                f"differs from approved revision {len(revisions)}: the registry was edited by "
                "hand; change it only with 'qms signers add' or 'qms signers revoke'",
            )
    elif revisions:
        fail(current, "the signer registry file is missing")
    return RegistryState(history, tuple(findings))


def verified_registry(config: QmsConfig) -> RegistryState:
    """Load and verify the registry with a hermetic keyring."""
    with hermetic_keyring(SignatureLayout.of(config).keys) as keyring:
        return load_registry(config, keyring)


@dataclass(frozen=True)
class RegistryChange:
    """The outcome of a registry change."""

    registry: Registry
    commit: str


def change_registry(
    config: QmsConfig,
    change: Callable[[Registry], Registry],
    admin: str,
    user_keys: UserKeys,
    now: datetime,
    message: str,
    extra_files: dict[Path, bytes] | None = None,
) -> RegistryChange:
    """Apply `change` to the approved registry as a new revision signed by `admin`."""
    layout = SignatureLayout.of(config)
    repo = Repository(config.root)
    state = verified_registry(config)
    if state.findings:
        raise RefusedError(
            "the signer registry is not approved: " + state.findings[0].render(),
            "restore it from git or have a registry administrator repair it",
        )
    latest = state.history.latest or Registry(0, ())
    proposed = change(latest)
    refusal = _approver_refusal(admin, now, proposed.revision, state.history, config)
    if refusal:
        raise RefusedError(
            f"cannot approve the registry change: {refusal}",
            "pass --key with a registry administrator's key",
        )
    data = proposed.to_bytes()
    signature, _ = user_keys.sign_detached(data, admin)
    files: dict[Path, bytes] = dict(extra_files or {})
    if not layout.key_file(admin).is_file():
        files[layout.key_file(admin)] = user_keys.export_public(admin)
    files[layout.revision_file(proposed.revision)] = data
    files[layout.revision_signature(proposed.revision, admin)] = signature
    files[layout.registry_file] = data
    for path, content in files.items():
        write_atomic(path, content)
    commit = repo.commit(sorted(files), message)
    return RegistryChange(proposed, commit)
