"""Publishing a signed release into a served folder: atomically, never overwriting."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qms.adapters.files import write_atomic
from qms.adapters.gpg import hermetic_keyring
from qms.config import QmsConfig
from qms.errors import QmsError, RefusedError
from qms.model.document import Classification
from qms.model.release import Manifest
from qms.model.training import PERSONAL_DATA
from qms.services.layout import SignatureLayout
from qms.services.registry import load_registry
from qms.services.release.folder import verify_release_folder
from qms.services.release.folder_files import (
    MANIFEST,
    READABLE_FILE,
    READABLE_FOLDER,
    SIGNERS_SCRIPT,
    build_folder,
    check_name,
    record_folder,
)
from qms.services.release.index import write_index
from qms.services.release.signers import (
    person_of,
    release_signers,
    role_title_of,
    signers_script,
)

STAGING_PREFIX = ".qms-staging-"


LOCK_FILE = ".qms-publish.lock"


@dataclass(frozen=True)
class Published:
    """What `release publish` did to the target folder."""

    destination: Path
    # Staging folders and half-written files that interrupted publishes left behind.
    removed: tuple[str, ...]
    # Releases in the index, and folders left out of it because they do not verify.
    listed: tuple[str, ...]
    unlisted: tuple[tuple[str, str], ...]
    # The release was already there, intact: only the index was written again.
    already: bool = False


def publish_release(
    config: QmsConfig, name: str, target: Path, restricted: bool = False
) -> Published:
    """Copy a fully signed, verified release to target/name atomically; never overwrite.

    Publishes into one target run one at a time (a lock file the kernel releases when a
    process dies), so whatever staging is found on entry was left by an interrupted one.
    A release with a set that admits personal data (and confidential documents) goes
    only to a target its publisher says is access-controlled (`restricted`).
    """
    check_name(name)
    built = build_folder(config, name)
    record_dir = record_folder(config, name)
    record = record_dir / MANIFEST
    if not record.is_file():
        raise RefusedError(f"release {name} is not signed", f"run 'qms release sign {name}'")
    if not (built / MANIFEST).is_file() or (built / MANIFEST).read_bytes() != record.read_bytes():
        raise RefusedError(
            f"the build of {name} is missing or differs from its manifest",
            f"check out its commit and run 'qms release create {name}'",
        )
    _refuse_open_target(config, Manifest.from_bytes(record.read_bytes()), name, restricted)
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(target.stat().st_mode | 0o755)
    with _publish_lock(target):
        removed = _remove_leftovers(target)
        destination = target / name
        if destination.exists():
            # Publishing the same release again only completes what an interrupted
            # publish may have left undone (the index); anything else there stays as it is.
            if not _is_published_copy(destination, record.read_bytes(), config.trust_roots):
                raise RefusedError(
                    f"{destination} already exists and is not this release, intact",
                    "a published release is never overwritten: publish under a new name",
                )
            listed, unlisted = write_index(target, config.trust_roots)
            return Published(destination, removed, listed, unlisted, already=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{name}-", dir=target))
        try:
            _stage(config, built, record_dir, staging)
            problems = verify_release_folder(staging, config.trust_roots)
            if problems:
                raise RefusedError(
                    f"release {name} does not verify: {problems[0].render()}",
                    "sign it with every required role, then publish",
                )
            for path in [staging, *staging.rglob("*")]:
                path.chmod(READABLE_FOLDER if path.is_dir() else READABLE_FILE)
            os.rename(staging, destination)  # atomic on one file system
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        listed, unlisted = write_index(target, config.trust_roots)
    return Published(destination, removed, listed, unlisted)


def _is_published_copy(folder: Path, manifest: bytes, trust_roots: tuple[str, ...]) -> bool:
    """Whether `folder` holds exactly this release, verifying offline."""
    if not (folder / MANIFEST).is_file() or (folder / MANIFEST).read_bytes() != manifest:
        return False
    try:
        return not verify_release_folder(folder, trust_roots)
    except QmsError:
        return False


def _refuse_open_target(config: QmsConfig, manifest: Manifest, name: str, restricted: bool) -> None:
    """Refuse to put a set that admits personal data where anyone may read it: by its
    definition, or by a confidential or restricted document the manifest lists in it."""
    admitting = {s.name for s in config.sets if s.admits(PERSONAL_DATA)}
    order = list(Classification)  # lowest to highest
    held = {str(c) for c in order[order.index(PERSONAL_DATA) :]}
    closed = [
        set_name
        for set_name, documents in sorted(manifest.sets.items())
        if set_name in admitting or any(d.get("classification") in held for d in documents)
    ]
    if closed and not restricted:
        raise RefusedError(
            f"release {name} holds the set {closed[0]}, which admits {PERSONAL_DATA} "
            "documents and who was trained when (personal data)",
            "publish it only to a folder readers must sign in to, with --restricted, or "
            "release the open sets on their own with 'qms release create --set'",
        )


@contextmanager
def _publish_lock(target: Path) -> Iterator[None]:
    fd = os.open(target / LOCK_FILE, os.O_RDWR | os.O_CREAT, READABLE_FILE)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise QmsError(
                f"another 'qms release publish' is writing to {target}",
                "wait for it to finish, then publish again",
            ) from exc
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _remove_leftovers(target: Path) -> tuple[str, ...]:
    """Remove what interrupted publishes left: staging folders, half-written index files."""
    removed = []
    for path in sorted(target.iterdir()):
        if path.is_symlink():
            continue  # never ours: staging folders and index files are made here, as such
        if _STAGING.match(path.name) and path.is_dir():
            shutil.rmtree(path)
        elif _HALF_INDEX.match(path.name) and path.is_file():
            path.unlink()
        else:
            continue
        removed.append(path.name)
    return tuple(removed)


# What publish itself names its staging folders (mkdtemp) and write_atomic its temporary
# index files: nothing else in the target is ever removed.
_STAGING = re.compile(rf"^{re.escape(STAGING_PREFIX)}[A-Za-z0-9][A-Za-z0-9._-]*-[a-z0-9_]{{8}}$")


_HALF_INDEX = re.compile(r"^\.index\.html\.[a-z0-9_]{8}$")


def _stage(config: QmsConfig, built: Path, record_dir: Path, staging: Path) -> None:
    """Lay out the release in `staging`: the build, the control files, the signers script."""
    shutil.copytree(built, staging, dirs_exist_ok=True)
    layout = SignatureLayout.of(config)
    control = staging / "signatures"
    shutil.copytree(layout.keys, control / "keys")
    shutil.copytree(layout.registry_history, control / "registry")
    shutil.copy2(layout.registry_file, control / "signers.yaml")
    shutil.copytree(record_dir / "signatures", control / "release")
    data = (record_dir / MANIFEST).read_bytes()
    stand_in = QmsConfig(root=staging, trust_roots=Manifest.from_bytes(data).trust_roots)
    with hermetic_keyring(SignatureLayout.of(stand_in).keys) as keyring:
        registry = load_registry(stand_in, keyring)
        signed = release_signers(control / "release", data, keyring, registry)
        names = {
            role_title_of(registry, role): person_of(registry, s.fingerprint)
            for role, s in signed.items()
        }
    for set_folder in sorted(p for p in staging.iterdir() if (p / "_static").is_dir()):
        write_atomic(set_folder / SIGNERS_SCRIPT, signers_script(names).encode("utf-8"))
