"""Verifying a published release folder offline, with nothing but what it contains."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qms.adapters.gpg import hermetic_keyring
from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.findings import Finding, FindingCode
from qms.model.release import Manifest
from qms.services.layout import SignatureLayout
from qms.services.registry import RegistryState, load_registry
from qms.services.release.folder_files import (
    CONTROL_FILE,
    MANIFEST,
    SIGNERS_SCRIPT,
    content_problems,
)
from qms.services.release.signers import (
    ReleaseSignature,
    approved_roles,
    person_of,
    release_signers,
    role_title_of,
    shared_signers,
    signers_script,
)

Fail = Callable[[str, str], None]


def verify_release_folder(
    folder: Path, pinned: tuple[str, ...] = (), *, output: bool = True
) -> list[Finding]:
    """Check a published release with nothing but what it contains (offline, no keyring).

    The folder holds the manifest, the output, and under signatures/ the public keys,
    the signer registry and its approved revisions, and the release signatures. With
    `output=False` only the manifest and its signatures are checked (a witness fetched
    over HTTP needs no pages).
    """
    findings: list[Finding] = []

    def fail(path: str, message: str) -> None:
        findings.append(Finding(path, None, message, FindingCode.RELEASE))

    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise QmsError(f"{folder} holds no {MANIFEST}", "point at a published release folder")
    data = manifest_path.read_bytes()
    try:
        manifest = Manifest.from_bytes(data)
    except (ValueError, KeyError) as exc:
        raise QmsError(f"{MANIFEST} is not a release manifest: {exc}", "restore it") from exc
    roots = pinned or manifest.trust_roots
    _manifest_findings(manifest, pinned, fail)
    for control_file in sorted(p for p in (folder / "signatures").rglob("*") if p.is_file()):
        relative = control_file.relative_to(folder).as_posix()
        if not CONTROL_FILE.match(relative):
            fail(relative, "unexpected file in the control folder")
    for path, problem in content_problems(folder, manifest) if output else ():
        fail(path, problem)
    # The folder is laid out like a handbook's signatures/, so the same services
    # verify it. The trust roots are the pinned ones when given: roots read from the
    # folder itself only prove that the folder is consistent, not who made it.
    stand_in = QmsConfig(root=folder, trust_roots=tuple(roots))
    with hermetic_keyring(SignatureLayout.of(stand_in).keys) as keyring:
        registry = load_registry(stand_in, keyring, check_policy=False)
        for finding in registry.findings:
            fail(finding.path, finding.message)
        _policy_findings(registry, manifest, fail)
        signed = release_signers(folder / "signatures" / "release", data, keyring, registry)
    _signature_findings(folder, manifest, registry, signed, fail)
    return findings


def _manifest_findings(manifest: Manifest, pinned: tuple[str, ...], fail: Fail) -> None:
    """A manifest needs signer roles, and trust roots: the pinned ones when given."""
    if not manifest.signer_roles:
        fail(MANIFEST, "names no signer roles: a release needs at least one signature")
    if not (pinned or manifest.trust_roots):
        fail(MANIFEST, "names no trust roots: pass --trust-root FINGERPRINT")
    elif pinned and set(manifest.trust_roots) != set(pinned):
        fail(
            MANIFEST,
            f"trust roots {', '.join(manifest.trust_roots) or 'none'} are not the "
            f"pinned ones ({', '.join(pinned)})",
        )


def _policy_findings(registry: RegistryState, manifest: Manifest, fail: Fail) -> None:
    """The folder's approved registry must ask for the roles the manifest names."""
    latest = registry.history.latest
    if latest is None:
        fail("signatures/signers.yaml", "no approved signer registry in the folder")
    elif latest.policy and approved_roles(latest) != set(manifest.signer_roles):
        fail(
            MANIFEST,
            f"asks for the signer roles {', '.join(manifest.signer_roles) or 'none'}, but "
            f"registry revision {latest.revision} approves "
            f"{', '.join(sorted(approved_roles(latest))) or 'none'}",
        )


def _signature_findings(
    folder: Path,
    manifest: Manifest,
    registry: RegistryState,
    signed: dict[str, ReleaseSignature],
    fail: Fail,
) -> None:
    """Every signature file counts for its role, every role is signed, each by a
    different person, and each set's signers script says exactly that."""
    for signature in sorted((folder / "signatures" / "release").glob("*.asc")):
        role = signature.name.split("--")[0]
        valid = signed.get(role)
        if valid is None or not signature.name.endswith(f"{valid.fingerprint[-16:]}.asc"):
            fail(
                f"signatures/release/{signature.name}",
                "signature does not verify for its role against the registry in this folder",
            )
    for role in manifest.signer_roles:
        if role not in signed:
            fail("signatures/release", f"no valid signature for the role '{role}'")
    if shared_signers(registry, signed):
        fail(
            "signatures/release",
            "one person signed for several roles; each release "
            "signature must come from a different person",
        )
    names = {
        role_title_of(registry, role): person_of(registry, s.fingerprint)
        for role, s in signed.items()
    }
    expected = signers_script(names)
    for name in manifest.sets:
        script = folder / name / SIGNERS_SCRIPT
        if script.is_file() and script.read_bytes() != expected.encode("utf-8"):
            fail(f"{name}/{SIGNERS_SCRIPT}", "does not match the signatures")
