"""Change control of the tool: the installed qms-handbook against the version the last
signed release of the validation set covers, verified through the release signatures."""

from __future__ import annotations

import qms
from qms.adapters.gpg import hermetic_keyring
from qms.config import QmsConfig
from qms.model.tool_version import MANIFEST_KEY, VALIDATION_SET, VersionChange, version_change
from qms.services.layout import SignatureLayout
from qms.services.registry import load_registry
from qms.services.release.diff import signed_releases


def installed_version() -> str:
    """The qms-handbook version running now (the one a release manifest records)."""
    return qms.__version__


def validated_version_change(config: QmsConfig) -> VersionChange | None:
    """The change when the installed version is not the one the last fully signed release
    holding the validation set covers; None when they agree, or when no such release
    exists yet (nothing was validated: nothing to compare), or the registry does not verify
    (which 'qms verify' reports itself)."""
    if not any(s.name == VALIDATION_SET for s in config.sets):
        return None
    layout = SignatureLayout.of(config)
    if not (layout.base / "releases").is_dir():
        return None
    with hermetic_keyring(layout.keys) as keyring:
        registry = load_registry(config, keyring)
        if not registry.trusted:
            return None
        releases = [
            r
            for r in signed_releases(config, keyring, registry)
            if VALIDATION_SET in r.manifest.sets
        ]
    if not releases:
        return None
    last = releases[-1]
    validated = last.manifest.tools.get(MANIFEST_KEY, "")
    return version_change(installed_version(), last.name, validated, config.validation)
