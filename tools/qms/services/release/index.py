"""The index page of a publish target: every complete, verified release, newest first."""

from __future__ import annotations

from html import escape
from pathlib import Path
from urllib.parse import quote

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


def write_index(
    target: Path, trust_roots: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The index of every complete, verified release in `target`, newest first.

    A folder counts only if it verifies offline against the handbook's trust roots (all
    of its files, all its signatures): a partial or altered copy is never linked.
    """
    found: list[tuple[str, str, str]] = []
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
    found.sort(reverse=True)  # newest first, by when each release was made
    rows = [row for _, _, row in found]
    listed = [name for _, name, _ in found]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Published releases</title><style>"
        "body{font-family:sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem}"
        "table{border-collapse:collapse;width:100%}td,th{border:1px solid #bbb;padding:.3rem"
        " .5rem;text-align:left;vertical-align:top}code{white-space:nowrap}"
        ".scroll{overflow-x:auto}</style></head><body><h1>Published releases</h1>"
        "<p>Each release below verified offline (files and signatures) when this index was "
        "written. Check one yourself with <code>qms release verify FOLDER</code>.</p>"
        '<div class="scroll"><table><thead><tr><th>Release</th><th>Commit time</th>'
        "<th>Commit</th><th>Signed by</th><th>Sets</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div></body></html>\n"
    )
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


def _index_row(folder: Path) -> str:
    data = (folder / MANIFEST).read_bytes()
    manifest = Manifest.from_bytes(data)
    stand_in = QmsConfig(root=folder, trust_roots=manifest.trust_roots)
    with hermetic_keyring(SignatureLayout.of(stand_in).keys) as keyring:
        registry = load_registry(stand_in, keyring, check_policy=False)
        signed = release_signers(folder / "signatures" / "release", data, keyring, registry)
        signers = "<br>".join(
            f"{escape(person_of(registry, s.fingerprint))} "
            f"({escape(role_title_of(registry, role))}), {escape(display_utc(s.signed_at))}"
            for role, s in sorted(signed.items())
        )
    links = " ".join(
        f'<a href="./{escape(quote(folder.name))}/{escape(quote(s))}/index.html">{escape(s)}</a>'
        for s in manifest.sets
    )
    return (
        f"<tr><td>{escape(manifest.name)}</td>"
        f"<td>{escape(display_utc(parse_utc(manifest.created)))}</td>"
        f"<td><code>{escape(manifest.commit[:12])}</code></td><td>{signers}</td>"
        f"<td>{links}</td></tr>"
    )
