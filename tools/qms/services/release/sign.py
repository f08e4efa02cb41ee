"""Signing a created release for one still-missing role."""

from __future__ import annotations

from datetime import datetime

from qms.adapters.files import write_atomic
from qms.adapters.git import Repository
from qms.adapters.gpg import UserKeys, hermetic_keyring
from qms.config import QmsConfig
from qms.errors import QmsError, RefusedError
from qms.model.release import Manifest
from qms.model.signature_rules import shared_person
from qms.services.ceremony import signing_summary
from qms.services.handbook import display_path
from qms.services.layout import SignatureLayout
from qms.services.registry import load_registry
from qms.services.release.folder_files import (
    MANIFEST,
    build_folder,
    content_problems,
    record_folder,
)
from qms.services.release.signers import release_signers
from qms.services.signers import signing_key
from qms.services.timestamps import stamp


def _signature_name(role: str, fingerprint: str) -> str:
    return f"{role}--{fingerprint[-16:]}.asc"


def sign_release(
    config: QmsConfig, name: str, user_keys: UserKeys, key: str | None, now: datetime
) -> tuple[str, str]:
    """Sign a created release's manifest for one still-missing role; commit both files."""
    folder = build_folder(config, name)
    built = folder / MANIFEST
    record_dir = record_folder(config, name)
    record = record_dir / MANIFEST
    if not built.is_file() and not record.is_file():
        raise QmsError(f"no release {name}", f"run 'qms release create {name}' first")
    data = record.read_bytes() if record.is_file() else built.read_bytes()
    if built.is_file() and built.read_bytes() != data:
        raise RefusedError(
            f"the build of {name} differs from its signed manifest",
            f"run 'qms release create {name}' at commit of the manifest",
        )
    manifest = Manifest.from_bytes(data)
    # A signature attests the build the signer has in front of them: the manifest alone
    # names hashes nobody looked at.
    if not built.is_file():
        raise RefusedError(
            f"the build of {name} is not in {display_path(config.root, folder)}",
            f"run 'qms release create {name}' (it rebuilds the signed output byte for byte), "
            "review it, then sign",
        )
    problems = content_problems(folder, manifest)
    if problems:
        first, problem = problems[0]
        raise RefusedError(
            f"the build of {name} is not what its manifest lists ({len(problems)} file(s)); "
            f"first: {first}: {problem}",
            f"run 'qms release create {name}' again and review the output before signing",
        )
    layout = SignatureLayout.of(config)
    with hermetic_keyring(layout.keys) as keyring:
        registry = load_registry(config, keyring)
        fingerprint, entry = signing_key(
            keyring,
            registry,
            user_keys,
            key,
            now,
            untrusted="run 'qms verify'",
            unregistered="use a registered key",
        )
        signed = release_signers(record_dir / "signatures", data, keyring, registry)
        # The new signature, under a role of its own, must not share a person with any.
        trial = {role: s.fingerprint for role, s in signed.items()} | {"": fingerprint}
        if "" in shared_person(trial, registry.history):
            raise RefusedError(
                f"{entry.name} already signed release {name}",
                "each release signature comes from a different person",
            )
        missing = [r for r in manifest.signer_roles if r not in signed and r in entry.roles]
        if not missing:
            needed = ", ".join(r for r in manifest.signer_roles if r not in signed) or "none"
            raise RefusedError(
                f"{entry.name} holds none of the roles still missing on {name} (needed: {needed})",
                "ask a holder of a missing role to sign",
            )
    role = missing[0]
    summary = signing_summary(
        config,
        f"Sign release {name}",
        (
            ("release", f"{name} at commit {manifest.commit[:12]}"),
            ("document sets", ", ".join(sorted(manifest.sets))),
            ("files", str(len(manifest.files))),
        ),
        data,
        "release",
        meaning=f"release signature as {role}",
        signer_name=entry.name,
        role=role,
        fingerprint=fingerprint,
    )
    signature, _ = user_keys.sign_detached(data, fingerprint, summary)
    target = record_dir / "signatures" / _signature_name(role, fingerprint)
    files = {record: data, target: signature}
    token = stamp(config.timestamps, "release", signature)
    if token is not None:
        files[SignatureLayout.token_of(target)] = token
    if not layout.key_file(fingerprint).is_file():
        files[layout.key_file(fingerprint)] = user_keys.export_public(fingerprint)
    for path, content in files.items():
        if not (path == record and path.is_file()):
            write_atomic(path, content)
    repo = Repository(config.root)
    repo.commit(sorted(files), f"Sign release {name} as {role} ({entry.name})\n")
    return role, entry.name
