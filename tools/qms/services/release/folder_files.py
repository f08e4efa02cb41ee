"""What a release folder holds: its paths, its names, and its files checked against the manifest."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.release import SIGNERS_SCRIPT_NAME, Manifest
from qms.services.content import sha256_of
from qms.services.layout import SignatureLayout

MANIFEST = "manifest.json"
# Folders of a published release that are not part of the signed output.
CONTROL_FOLDERS = ("signatures",)
SIGNERS_SCRIPT = f"_static/{SIGNERS_SCRIPT_NAME}"
READABLE_FILE, READABLE_FOLDER = 0o644, 0o755  # a web server runs as another user


def build_folder(config: QmsConfig, name: str) -> Path:
    """Where `release create` builds a release."""
    return config.build_path / "releases" / name


def record_folder(config: QmsConfig, name: str) -> Path:
    """Where a release's manifest and signatures are committed."""
    return SignatureLayout.of(config).base / "releases" / name


def check_name(name: str) -> None:
    """Refuse a release name that could not be a folder name of its own."""
    if not name or not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
        raise QmsError(f"release name {name!r} is not allowed", "use letters, digits, - _ and .")


def odd_entries(root: Path) -> list[str]:
    """Everything below `root` that is neither a folder nor a regular file (symlinks too):
    a release holds files only, so nothing can lead a reader outside what was verified."""
    odd = []
    for folder, subfolders, names in os.walk(root, followlinks=False):
        for name in [*subfolders, *names]:
            path = Path(folder) / name
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                odd.append(path.relative_to(root).as_posix())
    return sorted(odd)


def output_files(root: Path, sets: Iterable[str] = ()) -> dict[str, str]:
    """SHA-256 of every output file below `root`, by POSIX path, in sorted order.

    Only the control folder, the manifest and each set's signers script (written at
    publication, checked against the signatures) are left out, by exact path. Symlinks
    are not followed (see odd_entries).
    """
    skipped = {f"{name}/{SIGNERS_SCRIPT}" for name in sets}
    files = {}
    paths = (
        Path(folder) / name
        for folder, _, names in os.walk(root, followlinks=False)
        for name in names
    )
    for path in sorted(p for p in paths if p.is_file() and not p.is_symlink()):
        relative = path.relative_to(root).as_posix()
        if relative.split("/")[0] in CONTROL_FOLDERS or relative == MANIFEST:
            continue
        if relative not in skipped:
            files[relative] = sha256_of(path.read_bytes())
    return dict(sorted(files.items()))


CONTROL_FILE = re.compile(
    r"^signatures/(signers\.yaml|keys/[0-9A-F]{40}\.asc"
    r"|registry/\d{4}\.(yaml|[0-9A-F]{16}\.(asc|tsr|later\.tsr))"
    r"|release/[a-z][a-z0-9-]*--[0-9A-F]{16}\.(asc|tsr|later\.tsr))$"
)


def content_problems(folder: Path, manifest: Manifest) -> list[tuple[str, str]]:
    """Each output file that is missing, added or changed against the manifest."""
    actual = output_files(folder, manifest.sets)
    listed = manifest.files
    missing = sorted(listed.keys() - actual.keys())
    added = sorted(actual.keys() - listed.keys())
    changed = sorted(p for p in actual.keys() & listed.keys() if actual[p] != listed[p])
    return [
        *(
            (p, "not a regular file (a symlink?): a release holds files only")
            for p in odd_entries(folder)
        ),
        *((p, "missing: listed in the manifest but not in the folder") for p in missing),
        *((p, "added: in the folder but not in the manifest") for p in added),
        *((p, "changed: its SHA-256 differs from the manifest") for p in changed),
    ]
