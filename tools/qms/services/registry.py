"""The controlled signer registry: verifying its chain of approvals and changing it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from qms.adapters.files import write_atomic
from qms.adapters.git import Repository
from qms.adapters.gpg import Keyring, UserKeys, hermetic_keyring
from qms.config import PYPROJECT, QmsConfig
from qms.errors import RefusedError
from qms.model.findings import Finding, FindingCode
from qms.model.line_endings import has_crlf, to_lf
from qms.model.registry_chain import approval_refusal, succession_refusal
from qms.model.registry_history import RegistryHistory
from qms.model.signature_rules import (
    Authority,
    Claim,
    PinnedTrustRoot,
    RegistryAdministrator,
    unverified,
)
from qms.model.signers import REGISTRY_ADMIN, Registry, RegistryError, canonical_policy
from qms.services.ceremony import approved_signing, require_protected, signing_summary
from qms.services.handbook import display_path
from qms.services.layout import SignatureLayout
from qms.services.migration import NO_MIGRATIONS, Migrations, load_migrations
from qms.services.signatures import verify_signed
from qms.services.timestamps import pinned_policy, stamp

_SNAPSHOT = re.compile(r"^(\d{4})\.yaml$")


@dataclass(frozen=True)
class RegistryState:
    """The approved registry history and whatever makes it untrustworthy."""

    history: RegistryHistory
    findings: tuple[Finding, ...]
    # Migrations that tie qms-approval/1 records to commits, judged by this history.
    migrations: Migrations = NO_MIGRATIONS

    @property
    def trusted(self) -> bool:
        """An approved registry exists and nothing is wrong with its chain."""
        return self.history.latest is not None and not self.findings

    def approved(self, hint: str) -> Registry:
        """The latest revision, or a refusal naming what is wrong and `hint`."""
        latest = self.history.latest
        if not self.trusted or latest is None:
            problem = self.findings[0].render() if self.findings else "no registry"
            raise RefusedError(f"the signer registry is not approved ({problem})", hint)
        return latest


def _parse(path: Path, config: QmsConfig) -> tuple[Registry | None, str]:
    """A registry file, or why it cannot be read (as a finding's message)."""
    shown = display_path(config.root, path)
    try:
        return Registry.from_bytes(path.read_bytes(), shown), ""
    except RegistryError as exc:
        detail = str(exc).removeprefix(f"{shown}: ")
        return None, (
            f"malformed signer registry: {detail}; restore the last approved version with "
            "git, then change it only with qms signers"
        )


def _approver(revision: int, history: RegistryHistory, config: QmsConfig) -> Authority:
    """Who may approve registry `revision`.

    Revision 1 is anchored in [tool.qms] trust_roots; every later revision only in the
    trust roots its predecessor approved, so adding oneself to pyproject.toml gains nothing.
    """
    if revision == 1 or history.latest is None:
        return PinnedTrustRoot(config.trust_roots)
    return RegistryAdministrator("the previous approved registry")


def _approver_refusal(
    fingerprint: str, moment: datetime, revision: int, history: RegistryHistory, config: QmsConfig
) -> str:
    """Why `fingerprint` may not approve registry `revision` at `moment` ("" if it may)."""
    return _approver(revision, history, config).refusal(history, fingerprint, moment)[1]


def _snapshots(layout: SignatureLayout) -> list[tuple[int, Path]]:
    """The numbered revision files of signatures/registry/, in order."""
    folder = layout.registry_history
    return sorted(
        (int(m.group(1)), path)
        for path in (folder.iterdir() if folder.is_dir() else [])
        if (m := _SNAPSHOT.match(path.name))
    )


def _revision_approvals(
    path: Path, data: bytes, keyring: Keyring, history: RegistryHistory, config: QmsConfig
) -> tuple[list[datetime], list[str], bool]:
    """The signing times of the revision's signatures that count, why each other does not,
    and whether a failing one would verify over the bytes with LF line endings."""
    number = int(path.stem)
    authority = _approver(number, history, config)
    approvals: list[datetime] = []
    problems: list[str] = []
    crlf_only = False
    for signature in sorted(path.parent.glob(f"{number:04d}.*.asc")):
        verdict = verify_signed(keyring, signature, data, Claim(), authority, history)
        if verdict.valid and verdict.facts.signed_at is not None:
            # A TSA's time, when a token made at signing certifies it.
            approvals.append(verdict.facts.trusted_time or verdict.facts.signed_at)
        elif unverified(verdict.facts):
            problems.append(f"{signature.name}: {verdict.facts.problem}")
            # Asked only to explain the failure: a CRLF copy is still not approved.
            crlf_only = crlf_only or (
                has_crlf(data) and keyring.verify(signature, to_lf(data)).good
            )
        else:
            problems.append(f"{signature.name}: {verdict.problem}")
    return approvals, problems, crlf_only


def _chain(
    config: QmsConfig, keyring: Keyring, fail: Callable[[Path, str, FindingCode], None]
) -> list[tuple[Registry, datetime]]:
    """The approved revisions, oldest first, up to the first that breaks the chain."""
    revisions: list[tuple[Registry, datetime]] = []
    for expected, (number, path) in enumerate(_snapshots(SignatureLayout.of(config)), start=1):
        if number != expected:
            fail(
                path,
                f"registry revision {expected} is missing; revisions must be contiguous",
                FindingCode.REGISTRY,
            )
            break
        registry, problem = _parse(path, config)
        if registry is None:
            fail(path, problem, FindingCode.REGISTRY)
            break
        if registry.revision != number:
            fail(
                path, f"file holds revision {registry.revision}, not {number}", FindingCode.REGISTRY
            )
            break
        history = RegistryHistory(tuple(revisions))
        approvals, problems, crlf_only = _revision_approvals(
            path, path.read_bytes(), keyring, history, config
        )
        refusal, line_endings = approval_refusal(number, approvals, problems, crlf_only)
        if not refusal:
            refusal = succession_refusal(
                revisions[-1] if revisions else None, registry, min(approvals)
            )
        if refusal:
            fail(path, refusal, FindingCode.LINE_ENDINGS if line_endings else FindingCode.REGISTRY)
            break
        revisions.append((registry, min(approvals)))
    return revisions


def _live_file_findings(
    config: QmsConfig, revisions: int, fail: Callable[[Path, str, FindingCode], None], clean: bool
) -> None:
    """signers.yaml must be the latest approved revision, byte for byte."""
    layout = SignatureLayout.of(config)
    current = layout.registry_file
    if not current.is_file():
        if revisions:
            fail(current, "the signer registry file is missing", FindingCode.REGISTRY)
        return
    _, problem = _parse(current, config)
    if problem:
        fail(current, problem, FindingCode.REGISTRY)
    elif not revisions:
        if clean:
            fail(current, "the signer registry has no approved revision", FindingCode.REGISTRY)
    elif (live := current.read_bytes()) != (
        approved := layout.revision_file(revisions).read_bytes()
    ):
        if to_lf(live) == approved:
            message = f"differs from approved revision {revisions} only in line endings (CRLF)"
            fail(current, message, FindingCode.LINE_ENDINGS)
        else:
            fail(
                current,
                f"differs from approved revision {revisions}: the registry was edited by "
                "hand; change it only with 'qms signers add' or 'qms signers revoke'",
                FindingCode.REGISTRY,
            )


def load_registry(config: QmsConfig, keyring: Keyring, check_policy: bool = True) -> RegistryState:
    """Verify the registry chain back to the trust roots, revision by revision.

    With `check_policy`, [tool.qms] must also hold the signing policy the latest revision
    approves (a release folder has no [tool.qms]: its manifest is checked instead).
    """
    findings: list[Finding] = []

    def fail(path: Path, message: str, code: FindingCode) -> None:
        findings.append(Finding(display_path(config.root, path), None, message, code))

    # A bad staff key is a training finding (services/training.py), not the registry's.
    staff_keys = SignatureLayout.of(config).staff_keys
    for path in (p for p in keyring.rejected if p.parent != staff_keys):
        fail(
            path,
            "not a valid public key; restore it from git history, keys are never edited",
            FindingCode.REGISTRY,
        )
    revisions = _chain(config, keyring, fail)
    history = RegistryHistory(tuple(revisions))
    _live_file_findings(config, len(revisions), fail, clean=not findings)
    if history.latest is not None and not findings:
        findings.extend(_revocation_findings(config, keyring, history.latest))
    if check_policy and history.latest is not None and not findings:
        findings.extend(_policy_findings(config, history.latest))
    migrations = load_migrations(config, keyring, history) if revisions else NO_MIGRATIONS
    return RegistryState(history, tuple(findings), migrations)


def _revocation_findings(config: QmsConfig, keyring: Keyring, latest: Registry) -> list[Finding]:
    """Registered keys their owners revoked in OpenPGP, without the registry saying when.

    Only the owner can revoke a key, so the revocation is real; but only the registry says
    from when signatures stop counting. Until an administrator records it, nothing counts.
    """
    findings = []
    for fingerprint in keyring.revoked():
        entry = latest.get(fingerprint)
        if entry is None or entry.revoked_at is not None:
            continue
        path = SignatureLayout.of(config).key_file(fingerprint)
        message = (
            f"the key of {entry.name} carries an OpenPGP revocation the registry does not "
            f"record; a registry administrator records when trust ended with 'qms signers "
            f"revoke {fingerprint} --at UTC-TIME --reason TEXT'"
        )
        findings.append(
            Finding(display_path(config.root, path), None, message, FindingCode.KEY_REVOKED)
        )
    return findings


def approved_policy(registry: Registry) -> dict[str, Any]:
    """The signing policy a registry revision approves (empty when it approves none)."""
    policy: dict[str, Any] = json.loads(registry.policy) if registry.policy else {}
    return policy


def policy_changes(registry: Registry, current: dict[str, Any]) -> list[str]:
    """The parts of `current` that differ from what `registry` approves."""
    approved = approved_policy(registry)
    return [key for key in current if current[key] != approved.get(key)]


def _policy_findings(config: QmsConfig, latest: Registry) -> list[Finding]:
    """Whether [tool.qms] holds the signing policy the latest revision approves."""
    hint = (
        "a registry administrator approves [tool.qms] as it stands with "
        "'qms signers policy --key FINGERPRINT', or restore it from git"
    )
    if not latest.policy:
        message = f"registry revision {latest.revision} approves no signing policy; {hint}"
        return [Finding(PYPROJECT, None, message, FindingCode.REGISTRY_POLICY)]
    current = config.signing_policy()
    changed = policy_changes(latest, current)
    if not changed and canonical_policy(current) == latest.policy:
        return []
    message = (
        f"[tool.qms] {', '.join(changed) or 'signing policy'} differ from what registry "
        f"revision {latest.revision} approves: a change of who may sign counts only once "
        f"approved; {hint}"
    )
    return [Finding(PYPROJECT, None, message, FindingCode.REGISTRY_POLICY)]


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
    clears: str = "",
) -> RegistryChange:
    """Apply `change` to the approved registry as a new revision signed by `admin`."""
    layout = SignatureLayout.of(config)
    repo = Repository(config.root)
    state = verified_registry(config)
    # The change that clears a finding may proceed despite it; every other change waits.
    blocking = [f for f in state.findings if not (clears and f.code == clears)]
    if blocking:
        raise RefusedError(
            "the signer registry is not approved: " + blocking[0].render(),
            "restore it from git or have a registry administrator repair it",
        )
    # The trust root that signs revision 1 approves the policy the handbook starts with.
    latest = state.history.latest or Registry(0, (), canonical_policy(config.signing_policy()))
    proposed = replace(change(latest), wording=config.signing.wording("registry"))
    refusal = _approver_refusal(admin, now, proposed.revision, state.history, config)
    if refusal:
        raise RefusedError(
            f"cannot approve the registry change: {refusal}",
            "pass --key with a registry administrator's key",
        )
    require_protected(user_keys, admin, approved_signing(approved_policy(latest)))
    data = proposed.to_bytes()
    entry = latest.get(admin)
    summary = signing_summary(
        config,
        "Sign a revision of the signer registry",
        (("registry revision", str(proposed.revision)), ("change", message.split("\n", 1)[0])),
        data,
        "registry",
        signer_name=entry.name if entry else "trust root",
        role=REGISTRY_ADMIN if entry else "trust root",
        fingerprint=admin,
    )
    signature, _ = user_keys.sign_detached(data, admin, summary)
    files: dict[Path, bytes] = dict(extra_files or {})
    if not layout.key_file(admin).is_file():
        files[layout.key_file(admin)] = user_keys.export_public(admin)
    files[layout.revision_file(proposed.revision)] = data
    signature_path = layout.revision_signature(proposed.revision, admin)
    files[signature_path] = signature
    # The policy in force asks for the token: a revision cannot waive its own.
    token = stamp(pinned_policy(state.history) or config.timestamps, "registry", signature)
    if token is not None:
        files[SignatureLayout.token_of(signature_path)] = token
    files[layout.registry_file] = data
    for path, content in files.items():
        write_atomic(path, content)
    commit = repo.commit(sorted(files), message)
    return RegistryChange(proposed, commit)
