"""The index page of a publish target: every complete, verified release, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qms.adapters.files import write_atomic
from qms.adapters.gpg import hermetic_keyring
from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.release import Manifest
from qms.model.timeutil import display_utc, parse_utc
from qms.services.layout import SignatureLayout
from qms.services.registry import load_registry
from qms.services.release.folder import verify_release_folder
from qms.services.release.folder_files import MANIFEST, READABLE_FILE, check_name
from qms.services.release.signers import person_of, release_signers, role_title_of
from qms.services.templates import render


def write_index(
    target: Path, trust_roots: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The index of every complete, verified release in `target`, newest first.

    A folder counts only if it verifies offline against the handbook's trust roots (all
    of its files, all its signatures): a partial or altered copy is never linked.
    """
    found: list[tuple[str, str, IndexRow]] = []
    unlisted = []
    candidates = (
        p
        for p in target.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    )
    for folder in sorted(candidates):
        problem = _unlistable(folder, trust_roots)
        if problem:
            unlisted.append((folder.name, problem))
            continue
        created = Manifest.from_bytes((folder / MANIFEST).read_bytes()).created
        found.append((created, folder.name, _index_row(folder)))
    found.sort(key=lambda f: (f[0], f[1]), reverse=True)  # newest first, by when made
    rows = [row for _, _, row in found]
    listed = [name for _, name, _ in found]
    page = render("release-index.html", releases=rows)
    write_atomic(target / "index.html", page.encode("utf-8"), mode=READABLE_FILE)
    return tuple(listed), tuple(unlisted)


def _unlistable(folder: Path, trust_roots: tuple[str, ...]) -> str:
    """Why a folder of the target cannot be listed as a release; "" when it can."""
    if not (folder / MANIFEST).is_file():
        return f"holds no {MANIFEST}"
    try:
        check_name(folder.name)
        if Manifest.from_bytes((folder / MANIFEST).read_bytes()).name != folder.name:
            return "its manifest names another release"
        problems = verify_release_folder(folder, trust_roots)
    except (QmsError, ValueError) as exc:
        return str(exc)
    return problems[0].render() if problems else ""


@dataclass(frozen=True)
class IndexSigner:
    """One valid release signature as the index shows it."""

    name: str
    role_title: str
    signed_at: str


@dataclass(frozen=True)
class IndexRow:
    """One release in the index: its name, commit, signers and sets."""

    folder: str
    name: str
    created: str
    commit: str
    signers: tuple[IndexSigner, ...]
    sets: tuple[str, ...]


def _index_row(folder: Path) -> IndexRow:
    data = (folder / MANIFEST).read_bytes()
    manifest = Manifest.from_bytes(data)
    stand_in = QmsConfig(root=folder, trust_roots=manifest.trust_roots)
    with hermetic_keyring(SignatureLayout.of(stand_in).keys) as keyring:
        registry = load_registry(stand_in, keyring, check_policy=False)
        signed = release_signers(folder / "signatures" / "release", data, keyring, registry)
        signers = tuple(
            IndexSigner(
                person_of(registry, s.fingerprint),
                role_title_of(registry, role),
                display_utc(s.signed_at),
            )
            for role, s in sorted(signed.items())
        )
    return IndexRow(
        folder=folder.name,
        name=manifest.name,
        created=display_utc(parse_utc(manifest.created)),
        commit=manifest.commit[:12],
        signers=signers,
        sets=tuple(manifest.sets),
    )
