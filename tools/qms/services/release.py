"""Releases: build signed, reproducible, offline-verifiable sets of the effective handbook."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from importlib import metadata
from pathlib import Path
from typing import Any

from qms import __version__
from qms.adapters.files import iter_sources, write_atomic
from qms.adapters.git import Repository
from qms.adapters.gpg import Keyring, UserKeys, hermetic_keyring
from qms.adapters.pdf import PdfPage, write_pdfs
from qms.config import QmsConfig
from qms.errors import QmsError, RefusedError
from qms.model.approval_rules import DocumentVerdict
from qms.model.document import Version
from qms.model.findings import Finding
from qms.model.release import SIGNERS_SCRIPT_NAME, DocumentSet, Manifest
from qms.model.signers import Registry
from qms.model.status import Status
from qms.model.timeutil import format_utc, parse_utc
from qms.services.change_control import change_control
from qms.services.content import sha256_of
from qms.services.handbook import display_path, load_handbook, status_of
from qms.services.layout import SignatureLayout
from qms.services.registry import RegistryState, approved_policy, load_registry
from qms.services.signers import choose_key
from qms.services.sphinx_run import run_sphinx
from qms.services.verify import verify_handbook

MANIFEST = "manifest.json"
# Folders of a published release that are not part of the signed output.
CONTROL_FOLDERS = ("signatures",)
SIGNERS_SCRIPT = f"_static/{SIGNERS_SCRIPT_NAME}"
TOOLS = ("sphinx", "myst-parser", "sphinx-needs", "furo", "docutils", "python-gnupg", "GitPython")


def _release_dir(config: QmsConfig, name: str) -> Path:
    return config.build_path / "releases" / name


def _record_dir(config: QmsConfig, name: str) -> Path:
    return SignatureLayout.of(config).base / "releases" / name


def _check_name(name: str) -> None:
    if not name or not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
        raise QmsError(f"release name {name!r} is not allowed", "use letters, digits, - _ and .")


def _tool_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "qms": __version__}
    for package in TOOLS:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    return versions


def _output_files(root: Path, sets: Iterable[str] = ()) -> dict[str, str]:
    """SHA-256 of every output file below `root`, by POSIX path, in sorted order.

    Only the control folder, the manifest and each set's signers script (written at
    publication, checked against the signatures) are left out, by exact path.
    """
    skipped = {f"{name}/{SIGNERS_SCRIPT}" for name in sets}
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if relative.split("/")[0] in CONTROL_FOLDERS or relative == MANIFEST:
            continue
        if relative not in skipped:
            files[relative] = sha256_of(path.read_bytes())
    return dict(sorted(files.items()))


_CONTROL_FILE = re.compile(
    r"^signatures/(signers\.yaml|keys/[0-9A-F]{40}\.asc|registry/\d{4}\.(yaml|[0-9A-F]{16}\.asc)"
    r"|release/[a-z][a-z0-9-]*--[0-9A-F]{16}\.asc)$"
)


@dataclass(frozen=True)
class CreatedRelease:
    """What `release create` produced."""

    manifest: Manifest
    folder: Path
    commit: str


def create_release(config: QmsConfig, name: str, set_names: list[str]) -> CreatedRelease:
    """Build each set from the effective documents at HEAD and write the manifest."""
    _check_name(name)
    sets = [config.document_set(s) for s in set_names] or list(config.sets)
    if not sets:
        raise QmsError("no document sets are configured", "add [tool.qms.sets.NAME] tables")
    repo = Repository(config.root)
    commit = repo.head()
    if commit is None:
        raise RefusedError("the repository has no commits", "commit the handbook first")
    if repo.is_dirty():
        raise RefusedError(
            "the working tree differs from HEAD",
            "a release is built from a commit: commit or stash your changes",
        )
    record = _record_dir(config, name) / MANIFEST
    if record.is_file():
        # Signing has begun: rebuild what was signed, for the next signer to review. Since
        # that commit only the release's own signatures may have been added.
        try:
            commit = Manifest.from_bytes(record.read_bytes()).commit
        except (ValueError, KeyError) as exc:
            raise QmsError(
                f"{display_path(config.root, record)} is not a release manifest: {exc}",
                "restore it from git",
            ) from exc
        moved = repo.changed_since(commit, record.parent)
        if moved:
            raise RefusedError(
                f"release {name} was signed at commit {commit[:12]}; since then {moved[0]} "
                f"and {len(moved) - 1} other file(s) changed, so it cannot be rebuilt here",
                "sign a release before other changes are committed, or create a new release",
            )
    handbook = load_handbook(config)
    verification = verify_handbook(config, handbook)
    problems = [
        *handbook.findings,
        *verification.findings,
        *change_control(config, handbook).findings,
    ]
    if problems:
        raise RefusedError(
            f"qms verify or check fails: {problems[0].render()}",
            "fix every finding of 'qms check' and 'qms verify' first",
        )
    # A commit date is whatever its author set: never judge "effective" in the future.
    when = min(datetime.fromtimestamp(repo.commit_time(commit), tz=UTC), datetime.now(tz=UTC))
    rows = {
        v.document.id: (v, status_of(v.document, config, when.date(), v.evidence))
        for v in verification.verdicts
    }
    folder = _release_dir(config, name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    manifest_sets: dict[str, list[dict[str, Any]]] = {}
    for document_set in sets:
        chosen = [rows[d.id] for d in handbook.documents if document_set.selects(d)]
        unfit = [row.document.id for _, row in chosen if row.status.status is not Status.EFFECTIVE]
        if unfit:
            raise RefusedError(
                f"set {document_set.name}: not effective: {', '.join(unfit)}",
                "approve them, wait for their effective date, or narrow the set",
            )
        manifest_sets[document_set.name] = [_entry(verdict, config) for verdict, _ in chosen]
        _build_set(
            config,
            name,
            document_set,
            folder / document_set.name,
            when,
            commit,
            {v.document.id for v, _ in chosen},
            handbook.documents,
        )
    manifest = Manifest(
        name=name,
        commit=commit,
        created=format_utc(when),
        sets=manifest_sets,
        files=_output_files(folder),
        tools=_tool_versions(),
        trust_roots=config.trust_roots,
        signer_roles=config.release_roles,
    )
    data = manifest.to_bytes()
    if record.is_file() and record.read_bytes() != data:
        raise RefusedError(
            f"release {name} was already signed with other content",
            "releases are never overwritten: choose a new name",
        )
    # The manifest is committed by the first signature (release sign), so creating a
    # release does not move HEAD: creating it again at this commit gives the same bytes.
    write_atomic(folder / MANIFEST, data)
    return CreatedRelease(manifest, folder, commit)


def _entry(verdict: DocumentVerdict, config: QmsConfig) -> dict[str, Any]:
    document = verdict.document
    return {
        "id": document.id,
        "title": document.title,
        "version": str(document.version),
        "classification": str(document.classification),
        "sha256": sha256_of((config.root / document.path).read_bytes()),
        "approvals": [
            {**v.record.statement.signer_summary(), "record": v.record.path}
            for v in verdict.signatures
            if v.record.statement is not None
        ],
    }


def _keeps_page(
    docname: str,
    document_set: DocumentSet,
    by_docname: dict[str, Any],
    included: set[str],
) -> bool:
    """Whether a set's build reads this source."""
    if docname in by_docname:
        return by_docname[docname].id in included
    if docname in ("index", "register"):
        return True
    folder = docname.split("/")[0]
    if docname.endswith("/index") and folder in {n.split("/")[0] for n in by_docname}:
        # A type's index page goes only where the set has documents of that type: an
        # empty glob toctree is a warning Sphinx does not let a build suppress.
        return any(n.split("/")[0] == folder and d.id in included for n, d in by_docname.items())
    return document_set.shows_page(docname)


def _build_set(
    config: QmsConfig,
    name: str,
    document_set: DocumentSet,
    outdir: Path,
    when: datetime,
    commit: str,
    included: set[str],
    documents: tuple[Any, ...],
) -> None:
    """One reproducible HTML build of a set: the sources outside it are not even read."""
    by_docname = {
        Path(d.path).relative_to(config.docs_dir).with_suffix("").as_posix(): d for d in documents
    }
    exclude = [
        path.relative_to(config.docs_path).as_posix()
        for docname, path in iter_sources(config.docs_path)
        if not _keeps_page(docname, document_set, by_docname, included)
    ]
    release = {
        "name": name,
        "set": document_set.name,
        "title": document_set.title,
        "date": when.date().isoformat(),
        "commit": commit,
        "exclude": sorted(exclude),
    }
    epoch = str(int(when.timestamp()))
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = epoch  # no build timestamps: the commit's time
    try:
        with tempfile.TemporaryDirectory(prefix="qms-release-") as scratch:
            run = run_sphinx(
                config,
                "html",
                outdir,
                fresh=True,
                progress=None,
                overrides={"qms_release": release},
                doctrees=Path(scratch) / "doctrees",
            )
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
    if run.findings:
        raise RefusedError(
            f"set {document_set.name} does not build cleanly: {run.findings[0].render()}",
            "fix it and create the release again",
        )
    for leftover in (".buildinfo", "schema_violations.json"):
        (outdir / leftover).unlink(missing_ok=True)
    _write_pdfs(config, name, document_set, outdir, by_docname, included)


_ARTICLE = re.compile(r"<article[^>]*>(.*)</article>", re.S)


def _write_pdfs(
    config: QmsConfig,
    name: str,
    document_set: DocumentSet,
    outdir: Path,
    by_docname: dict[str, Any],
    included: set[str],
) -> None:
    """Each document of the set as a PDF, and the whole set as one, from its release pages."""
    pages: list[tuple[Path, PdfPage]] = []
    for docname, document in sorted(by_docname.items(), key=lambda item: item[1].id):
        if document.id not in included:
            continue
        page = outdir / f"{docname}.html"
        match = _ARTICLE.search(page.read_text(encoding="utf-8"))
        if match is None:
            continue
        html = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"></head>'
            f"<body>{match.group(1)}</body></html>"
        )
        pages.append(
            (
                outdir / "pdf" / f"{document.id.lower()}.pdf",
                PdfPage(
                    html=html,
                    base=page.parent,
                    header=f"{document.id} {document.title}, version {document.version}, EFFECTIVE",
                    footer=f"{config.organisation}, release {name} ({document_set.title}). "
                    "Uncontrolled when printed.",
                ),
            )
        )
    css = (outdir / "_static" / "qms.css").read_text(encoding="utf-8")
    combined = outdir / "pdf" / f"{document_set.name}-complete.pdf"
    write_pdfs(pages, combined, css)


def _signature_name(role: str, fingerprint: str) -> str:
    return f"{role}--{fingerprint[-16:]}.asc"


def sign_release(
    config: QmsConfig, name: str, user_keys: UserKeys, key: str | None, now: datetime
) -> tuple[str, str]:
    """Sign a created release's manifest for one still-missing role; commit both files."""
    folder = _release_dir(config, name)
    built = folder / MANIFEST
    record_dir = _record_dir(config, name)
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
    problems = _content_problems(folder, manifest)
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
        latest = registry.history.latest
        if not registry.trusted or latest is None:
            raise RefusedError("the signer registry is not approved", "run 'qms verify'")
        fingerprint = choose_key(user_keys, key, {s.fingerprint for s in latest.signers})
        entry, refusal = registry.history.signer_at(fingerprint, now)
        if entry is None:
            raise RefusedError(f"cannot sign with {fingerprint}: {refusal}", "use a registered key")
        signed = _release_signers(record_dir / "signatures", data, keyring, registry)
        people = {e.email.casefold() for f in signed.values() if (e := latest.get(f)) is not None}
        if entry.email.casefold() in people:
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
    signature, _ = user_keys.sign_detached(data, fingerprint)
    target = record_dir / "signatures" / _signature_name(role, fingerprint)
    files = {record: data, target: signature}
    if not layout.key_file(fingerprint).is_file():
        files[layout.key_file(fingerprint)] = user_keys.export_public(fingerprint)
    for path, content in files.items():
        if not (path == record and path.is_file()):
            write_atomic(path, content)
    repo = Repository(config.root)
    repo.commit(sorted(files), f"Sign release {name} as {role} ({entry.name})\n")
    return role, entry.name


def _release_signers(
    signatures: Path, data: bytes, keyring: Keyring, registry: RegistryState
) -> dict[str, str]:
    """Role -> fingerprint of every valid release signature in the folder `signatures`."""
    found: dict[str, str] = {}
    for path in sorted(signatures.glob("*.asc")):
        role = path.name.split("--")[0]
        facts = keyring.verify(path, data)
        if not facts.good or facts.fingerprint is None or facts.signed_at is None:
            continue
        entry, _ = registry.history.signer_at(facts.fingerprint, facts.signed_at)
        if entry is not None and role in entry.roles:
            found[role] = facts.fingerprint
    return found


def verify_release_folder(folder: Path, pinned: tuple[str, ...] = ()) -> list[Finding]:
    """Check a published release with nothing but what it contains (offline, no keyring).

    The folder holds the manifest, the output, and under signatures/ the public keys,
    the signer registry and its approved revisions, and the release signatures.
    """
    findings: list[Finding] = []

    def fail(path: str, message: str) -> None:
        findings.append(Finding(path, None, message, "release"))

    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise QmsError(f"{folder} holds no {MANIFEST}", "point at a published release folder")
    data = manifest_path.read_bytes()
    try:
        manifest = Manifest.from_bytes(data)
    except (ValueError, KeyError) as exc:
        raise QmsError(f"{MANIFEST} is not a release manifest: {exc}", "restore it") from exc
    if not manifest.signer_roles:
        fail(MANIFEST, "names no signer roles: a release needs at least one signature")
    roots = pinned or manifest.trust_roots
    if not roots:
        fail(MANIFEST, "names no trust roots: pass --trust-root FINGERPRINT")
    elif pinned and set(manifest.trust_roots) != set(pinned):
        fail(
            MANIFEST,
            f"trust roots {', '.join(manifest.trust_roots) or 'none'} are not the "
            f"pinned ones ({', '.join(pinned)})",
        )
    for control_file in sorted(p for p in (folder / "signatures").rglob("*") if p.is_file()):
        relative = control_file.relative_to(folder).as_posix()
        if not _CONTROL_FILE.match(relative):
            fail(relative, "unexpected file in the control folder")
    for path, problem in _content_problems(folder, manifest):
        fail(path, problem)
    # The folder is laid out like a handbook's signatures/, so the same services
    # verify it. The trust roots are the pinned ones when given: roots read from the
    # folder itself only prove that the folder is consistent, not who made it.
    stand_in = QmsConfig(root=folder, trust_roots=tuple(roots))
    with hermetic_keyring(SignatureLayout.of(stand_in).keys) as keyring:
        registry = load_registry(stand_in, keyring, check_policy=False)
        for finding in registry.findings:
            fail(finding.path, finding.message)
        latest = registry.history.latest
        if latest is None:
            fail("signatures/signers.yaml", "no approved signer registry in the folder")
        elif latest.policy and _approved_roles(latest) != set(manifest.signer_roles):
            fail(
                MANIFEST,
                f"asks for the signer roles {', '.join(manifest.signer_roles) or 'none'}, but "
                f"registry revision {latest.revision} approves "
                f"{', '.join(sorted(_approved_roles(latest))) or 'none'}",
            )
        signed = _release_signers(folder / "signatures" / "release", data, keyring, registry)
        for signature in sorted((folder / "signatures" / "release").glob("*.asc")):
            role = signature.name.split("--")[0]
            valid = signed.get(role)
            if valid is None or not signature.name.endswith(f"{valid[-16:]}.asc"):
                fail(
                    f"signatures/release/{signature.name}",
                    "signature does not verify for its role against the registry in this folder",
                )
        for role in manifest.signer_roles:
            if role not in signed:
                fail("signatures/release", f"no valid signature for the role '{role}'")
        people = [_name(registry, fingerprint) for fingerprint in signed.values()]
        if len(set(signed.values())) < len(signed) or len(set(people)) < len(people):
            fail(
                "signatures/release",
                "one person signed for several roles; each release "
                "signature must come from a different person",
            )
        names = {role: _name(registry, fingerprint) for role, fingerprint in signed.items()}
        expected = _signers_script(names)
        for name in manifest.sets:
            script = folder / name / SIGNERS_SCRIPT
            if script.is_file() and script.read_bytes() != expected.encode("utf-8"):
                fail(f"{name}/{SIGNERS_SCRIPT}", "does not match the signatures")
    return findings


def _approved_roles(registry: Registry) -> set[str]:
    """The release signer roles a registry revision's signing policy approves."""
    return set(approved_policy(registry).get("release_signer_roles", []))


def _content_problems(folder: Path, manifest: Manifest) -> list[tuple[str, str]]:
    """Each output file that is missing, added or changed against the manifest."""
    actual = _output_files(folder, manifest.sets)
    listed = manifest.files
    missing = sorted(listed.keys() - actual.keys())
    added = sorted(actual.keys() - listed.keys())
    changed = sorted(p for p in actual.keys() & listed.keys() if actual[p] != listed[p])
    return [
        *((p, "missing: listed in the manifest but not in the folder") for p in missing),
        *((p, "added: in the folder but not in the manifest") for p in added),
        *((p, "changed: its SHA-256 differs from the manifest") for p in changed),
    ]


def _name(registry: RegistryState, fingerprint: str) -> str:
    latest = registry.history.latest
    entry = latest.get(fingerprint) if latest else None
    return entry.name if entry else fingerprint


def _signers_script(signed: dict[str, str]) -> str:
    """The script that fills the banner's signers, from verified signatures only."""
    names = "; ".join(f"{role}: {name}" for role, name in sorted(signed.items()))
    text = json.dumps(f"Signed by {names}." if names else "Not signed.")
    return (
        "document.addEventListener('DOMContentLoaded',function(){var e=document."
        f"getElementById('qms-release-signers');if(e){{e.textContent={text};}}}});\n"
    )


def publish_release(config: QmsConfig, name: str, target: Path) -> Path:
    """Copy a fully signed, verified release to target/name atomically; never overwrite."""
    _check_name(name)
    built = _release_dir(config, name)
    record_dir = _record_dir(config, name)
    record = record_dir / MANIFEST
    if not record.is_file():
        raise RefusedError(f"release {name} is not signed", f"run 'qms release sign {name}'")
    if not (built / MANIFEST).is_file() or (built / MANIFEST).read_bytes() != record.read_bytes():
        raise RefusedError(
            f"the build of {name} is missing or differs from its manifest",
            f"check out its commit and run 'qms release create {name}'",
        )
    destination = target / name
    if destination.exists():
        raise RefusedError(
            f"{destination} already exists",
            "a published release is never overwritten: publish under a new name",
        )
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target))
    try:
        shutil.copytree(built, staging, dirs_exist_ok=True)
        layout = SignatureLayout.of(config)
        control = staging / "signatures"
        shutil.copytree(layout.keys, control / "keys")
        shutil.copytree(layout.registry_history, control / "registry")
        shutil.copy2(layout.registry_file, control / "signers.yaml")
        shutil.copytree(record_dir / "signatures", control / "release")
        stand_in = QmsConfig(
            root=staging, trust_roots=Manifest.from_bytes(record.read_bytes()).trust_roots
        )
        with hermetic_keyring(SignatureLayout.of(stand_in).keys) as keyring:
            registry = load_registry(stand_in, keyring)
            signed = _release_signers(control / "release", record.read_bytes(), keyring, registry)
            names = {role: _name(registry, f) for role, f in signed.items()}
        for set_folder in sorted(p for p in staging.iterdir() if (p / "_static").is_dir()):
            write_atomic(set_folder / SIGNERS_SCRIPT, _signers_script(names).encode("utf-8"))
        problems = verify_release_folder(staging)
        if problems:
            raise RefusedError(
                f"release {name} does not verify: {problems[0].render()}",
                "sign it with every required role, then publish",
            )
        for path in [staging, *staging.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # readable by a web server
        if destination.exists():
            raise RefusedError(f"{destination} appeared meanwhile", "publish under a new name")
        os.rename(staging, destination)  # atomic on one file system
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _write_index(target)
    return destination


def _write_index(target: Path) -> None:
    """An index page of every published release, newest first, so old ones stay reachable."""
    rows = []
    for folder in sorted((p for p in target.iterdir() if (p / MANIFEST).is_file()), reverse=True):
        manifest = Manifest.from_bytes((folder / MANIFEST).read_bytes())
        links = " ".join(
            f'<a href="{escape(folder.name)}/{escape(s)}/index.html">{escape(s)}</a>'
            for s in manifest.sets
        )
        rows.append(
            f"<tr><td>{escape(manifest.name)}</td><td>{escape(manifest.created)}</td>"
            f"<td><code>{escape(manifest.commit[:12])}</code></td><td>{links}</td></tr>"
        )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Published '
        "releases</title></head><body><h1>Published releases</h1><table><thead><tr><th>Release"
        "</th><th>Created (UTC)</th><th>Commit</th><th>Sets</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>\n"
    )
    write_atomic(target / "index.html", page.encode("utf-8"))


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
            signed = _release_signers(path.parent / "signatures", data, keyring, registry)
            latest = registry.history.latest
            # The roles a release needs are the approved ones, not those its manifest names.
            required = set(manifest.signer_roles) | (_approved_roles(latest) if latest else set())
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
