"""Which signed releases hold a document, for its audit trail."""

from __future__ import annotations

from datetime import datetime

from qms.adapters.gpg import hermetic_keyring
from qms.config import QmsConfig
from qms.model.document import Version
from qms.model.release import Manifest
from qms.model.timeutil import parse_utc
from qms.services.layout import SignatureLayout
from qms.services.registry import load_registry
from qms.services.release.folder_files import MANIFEST
from qms.services.release.signers import approved_roles, release_signers


def releases_of(config: QmsConfig, document_id: str) -> list[tuple[str, datetime, Version, str]]:
    """(release, created, version, commit) for every release holding the document.

    Only releases whose signatures verify, for every role their manifest names, count: a
    manifest committed without them is no release.
    """
    found: list[tuple[str, datetime, Version, str]] = []
    layout = SignatureLayout.of(config)
    folder = layout.base / "releases"
    manifests = sorted(folder.glob(f"*/{MANIFEST}")) if folder.is_dir() else []
    if not manifests:
        return found
    with hermetic_keyring(layout.keys) as keyring:
        registry = load_registry(config, keyring)
        for path in manifests:
            data = path.read_bytes()
            try:
                manifest = Manifest.from_bytes(data)
            except (ValueError, KeyError):
                continue
            signed = release_signers(path.parent / "signatures", data, keyring, registry)
            latest = registry.history.latest
            # The roles a release needs are the approved ones, not those its manifest names.
            required = set(manifest.signer_roles) | (approved_roles(latest) if latest else set())
            if not registry.trusted or not required or not required <= set(signed):
                continue
            versions = {
                d["version"]
                for docs in manifest.sets.values()
                for d in docs
                if d["id"] == document_id
            }
            created = parse_utc(manifest.created)
            found += [(manifest.name, created, Version.parse(v), manifest.commit) for v in versions]
    return found
