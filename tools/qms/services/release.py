"""Releases: build signed, reproducible, offline-verifiable sets of the effective handbook."""

from __future__ import annotations

import fcntl
import json
import os
import platform
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from qms import __version__
from qms.adapters.files import iter_sources, write_atomic
from qms.adapters.git import Repository
from qms.adapters.gpg import Keyring, UserKeys, hermetic_keyring
from qms.config import QmsConfig, load_config
from qms.errors import QmsError, RefusedError
from qms.model.approval_rules import DocumentVerdict
from qms.model.document import Document, Version, register_key
from qms.model.findings import Finding
from qms.model.release import SIGNERS_SCRIPT_NAME, DocumentSet, Manifest
from qms.model.signers import Registry
from qms.model.status import Status
from qms.model.timeutil import display_utc, format_utc, parse_utc
from qms.services.change_control import change_control
from qms.services.content import sha256_of
from qms.services.handbook import display_path, load_handbook, status_of
from qms.services.in_force import InForce, LeftOut, in_force, superseded_in_set
from qms.services.layout import SignatureLayout
from qms.services.registry import RegistryState, approved_policy, load_registry
from qms.services.set_build import SetJob, build_set
from qms.services.signers import choose_key
from qms.services.verify import verify_handbook
from qms.services.witness import check_high_water, witnessed_files

MANIFEST = "manifest.json"
# Folders of a published release that are not part of the signed output.
CONTROL_FOLDERS = ("signatures",)
SIGNERS_SCRIPT = f"_static/{SIGNERS_SCRIPT_NAME}"
# Everything whose version shapes the output bytes (pages and PDFs).
TOOLS = (
    "sphinx", "myst-parser", "sphinx-needs", "furo", "docutils", "python-gnupg", "GitPython",
    "weasyprint", "pydyf", "fonttools", "tinycss2", "beautifulsoup4", "markdown-it-py",
)  # fmt: skip


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
    from weasyprint.text.ffi import pango  # the text library lays out the PDFs

    number = int(pango.pango_version())  # e.g. 15012 for 1.50.12
    versions["pango"] = f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    return versions


def _odd_entries(root: Path) -> list[str]:
    """Everything below `root` that is neither a folder nor a regular file (symlinks too):
    a release holds files only, so nothing can lead a reader outside what was verified."""
    odd = []
    for folder, subfolders, names in os.walk(root, followlinks=False):
        for name in [*subfolders, *names]:
            path = Path(folder) / name
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                odd.append(path.relative_to(root).as_posix())
    return sorted(odd)


def _output_files(root: Path, sets: Iterable[str] = ()) -> dict[str, str]:
    """SHA-256 of every output file below `root`, by POSIX path, in sorted order.

    Only the control folder, the manifest and each set's signers script (written at
    publication, checked against the signatures) are left out, by exact path. Symlinks
    are not followed (see _odd_entries).
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


# (set, phase, done, total) while sets are built: see qms.services.set_build.
SetProgress = Callable[[str, str, int, int], None]


def _quiet(set_name: str, phase: str, done: int, total: int) -> None:
    """Report nothing."""


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
    # Documents with no version in force, which no set could publish.
    left_out: tuple[LeftOut, ...] = ()


def create_release(
    config: QmsConfig, name: str, set_names: list[str], progress: SetProgress = _quiet
) -> CreatedRelease:
    """Build each set from the versions in force at the commit and write the manifest."""
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
    control = change_control(config, handbook)
    problems = [
        *handbook.findings,
        *verification.findings,
        *control.findings,
        *check_high_water(config, repo).findings,  # never release a rolled-back branch
    ]
    if problems:
        raise RefusedError(
            f"qms verify or check fails: {problems[0].render()}",
            "fix every finding of 'qms check' and 'qms verify' first",
        )
    # A commit date is whatever its author set: a release never judges "effective" in the
    # future, and its time must be the commit's alone, so a rebuild gives the same bytes.
    when = datetime.fromtimestamp(repo.commit_time(commit), tz=UTC)
    if when > datetime.now(tz=UTC) + timedelta(minutes=5):
        raise RefusedError(
            f"commit {commit[:12]} is dated {display_utc(when)}, in the future",
            "fix the clock of the machine that committed it, and commit again",
        )
    on = when.date()
    rows = [status_of(v.document, config, on, v.evidence) for v in verification.verdicts]
    plan, left_out = in_force(config, repo, control, rows, on)
    folder = _release_dir(config, name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    manifest_sets: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="qms-release-") as scratch:
        staged = _stage_sources(config, repo, commit, plan, Path(scratch))
        published, every_document = _published_versions(staged, plan, on)
        notes = {item.document.id: item.later for item in plan if item.later}
        for document_set in sets:
            chosen = [v for v in published if document_set.selects(v.document)]
            superseded = {
                v.document.id: superseded_in_set(config, repo, control, v.document, document_set)
                for v in chosen
            }
            manifest_sets[document_set.name] = [
                _entry(v, staged, notes.get(v.document.id, ""), superseded[v.document.id])
                for v in chosen
            ]
            _build_set(
                staged,
                name,
                document_set,
                folder / document_set.name,
                when,
                commit,
                chosen,
                every_document,
                {"later": notes, "superseded": superseded},
                progress,
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
        witness=tuple(
            (path, digest)
            for path, digest in witnessed_files(config).items()
            if not path.startswith(f"signatures/releases/{name}/")
        ),
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
    return CreatedRelease(manifest, folder, commit, tuple(left_out))


def _stage_sources(
    config: QmsConfig, repo: Repository, commit: str, plan: list[InForce], scratch: Path
) -> QmsConfig:
    """A clone of `commit` whose documents are the versions in force, as approved.

    The clone keeps the history (revision tables, superseded pages) and the signatures;
    each document whose version at the commit is not in force gets the approved source of
    the version that is, and the files that version pulled in, as they were then.
    """
    clone = repo.clone_at(commit, scratch / "clone")
    prefix = config.root.resolve().relative_to(repo.root.resolve())
    root = clone.root / prefix
    at_head = {item.document.id: item for item in plan}
    for item in at_head.values():
        if item.source is None:
            continue
        approved_commit, path = item.source
        for relative in (path, *(p for p, _ in item.includes)):
            target = (root / relative).resolve()
            if not target.is_relative_to(root.resolve()):
                raise RefusedError(
                    f"{item.document.id}: {relative} leads out of the handbook",
                    "repair the document's includes",
                )
            try:
                data = repo.file_at(approved_commit, (prefix / relative).as_posix())
            except KeyError as exc:
                raise RefusedError(
                    f"{item.document.id} {item.document.version}: {relative} is not in "
                    f"commit {approved_commit[:12]}",
                    "run 'qms history' to check the document's history",
                ) from exc
            write_atomic(target, data)
    return load_config(root)


def _published_versions(
    staged: QmsConfig, plan: list[InForce], on: date
) -> tuple[list[DocumentVerdict], tuple[Document, ...]]:
    """The verdicts of the staged versions in force, and every staged document.

    Each must verify as effective on `on`: the versions were chosen from the history, and
    verifying the staged files again is what makes the release's pages and manifest show
    only what signatures prove.
    """
    wanted = {item.document.id: item.document.version for item in plan}
    handbook = load_handbook(staged)
    if handbook.findings:
        raise RefusedError(
            f"the versions in force do not check cleanly together: {handbook.findings[0].render()}",
            "run 'qms history ID' for the document named, and fix its history",
        )
    verification = verify_handbook(staged, handbook)
    found = []
    for verdict in verification.verdicts:
        document = verdict.document
        if document.id not in wanted:
            continue
        row = status_of(document, staged, on, verdict.evidence)
        if document.version != wanted[document.id] or row.status.status is not Status.EFFECTIVE:
            raise RefusedError(
                f"{document.id} version {wanted[document.id]} does not verify as effective from "
                f"its approved source ({row.status.status}: {row.status.reason})",
                "run 'qms verify' and 'qms history ID' to see which signatures are missing",
            )
        found.append(verdict)
    return sorted(found, key=lambda v: register_key(v.document)), handbook.documents


def _entry(
    verdict: DocumentVerdict, config: QmsConfig, later: str, superseded: list[str]
) -> dict[str, Any]:
    """A document as the manifest lists it: the version and content actually published,
    and the earlier versions that travel with it, read only."""
    document = verdict.document
    extra: dict[str, Any] = {"later_version": later} if later else {}
    if superseded:
        extra["superseded_versions"] = superseded
    return {
        **extra,
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
    chosen: list[DocumentVerdict],
    documents: tuple[Any, ...],
    notes: dict[str, dict[str, Any]],
    progress: SetProgress,
) -> None:
    """One reproducible build of a set (pages, then PDFs): the sources outside it are not
    even read. It runs in a child process that is given the release time explicitly."""
    by_docname = {
        Path(d.path).relative_to(config.docs_dir).with_suffix("").as_posix(): d for d in documents
    }
    included = {v.document.id for v in chosen}
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
        "time": format_utc(when),
        "later": {i: n for i, n in sorted(notes["later"].items()) if i in included},
        "superseded": {i: v for i, v in sorted(notes["superseded"].items()) if v},
    }
    docnames = {d.id: n for n, d in by_docname.items()}
    entries = [
        {
            "docname": docnames[v.document.id],
            "id": v.document.id,
            "title": v.document.title,
            "version": str(v.document.version),
        }
        for v in chosen
    ]
    info = {
        "organisation": config.organisation,
        "release": name,
        "set_name": document_set.name,
        "set_title": document_set.title,
        "date": when.date().isoformat(),
        "commit": commit,
        "commit_time": display_utc(when),
        "signer_roles": [config.role_title(r) for r in config.release_roles],
    }
    job = SetJob(
        root=str(config.root),
        outdir=str(outdir),
        release=release,
        info=info,
        entries=entries,
        epoch=int(when.timestamp()),
    )
    findings = build_set(
        job, lambda phase, done, total: progress(document_set.name, phase, done, total)
    )
    if findings:
        raise RefusedError(
            f"set {document_set.name} does not build cleanly: {findings[0].render()}",
            "fix it and create the release again",
        )


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
        people = {
            e.email.casefold()
            for s in signed.values()
            if (e := latest.get(s.fingerprint)) is not None
        }
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


@dataclass(frozen=True)
class ReleaseSignature:
    """A valid release signature: whose key, and when gpg says it was made."""

    fingerprint: str
    signed_at: datetime


def _release_signers(
    signatures: Path, data: bytes, keyring: Keyring, registry: RegistryState
) -> dict[str, ReleaseSignature]:
    """Role -> the valid release signature for it in the folder `signatures`."""
    found: dict[str, ReleaseSignature] = {}
    for path in sorted(signatures.glob("*.asc")):
        role = path.name.split("--")[0]
        facts = keyring.verify(path, data)
        if not facts.good or facts.fingerprint is None or facts.signed_at is None:
            continue
        entry, _ = registry.history.signer_at(facts.fingerprint, facts.signed_at)
        if entry is not None and role in entry.roles:
            found[role] = ReleaseSignature(facts.fingerprint, facts.signed_at)
    return found


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
    for path, problem in _content_problems(folder, manifest) if output else ():
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
            if valid is None or not signature.name.endswith(f"{valid.fingerprint[-16:]}.asc"):
                fail(
                    f"signatures/release/{signature.name}",
                    "signature does not verify for its role against the registry in this folder",
                )
        for role in manifest.signer_roles:
            if role not in signed:
                fail("signatures/release", f"no valid signature for the role '{role}'")
        keys = [s.fingerprint for s in signed.values()]
        people = [_name(registry, fingerprint) for fingerprint in keys]
        if len(set(keys)) < len(keys) or len(set(people)) < len(people):
            fail(
                "signatures/release",
                "one person signed for several roles; each release "
                "signature must come from a different person",
            )
        names = {
            _title(registry, role): _name(registry, s.fingerprint) for role, s in signed.items()
        }
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
        *(
            (p, "not a regular file (a symlink?): a release holds files only")
            for p in _odd_entries(folder)
        ),
        *((p, "missing: listed in the manifest but not in the folder") for p in missing),
        *((p, "added: in the folder but not in the manifest") for p in added),
        *((p, "changed: its SHA-256 differs from the manifest") for p in changed),
    ]


def _name(registry: RegistryState, fingerprint: str) -> str:
    latest = registry.history.latest
    entry = latest.get(fingerprint) if latest else None
    return entry.name if entry else fingerprint


def _title(registry: RegistryState, role: str) -> str:
    """A role's title as the folder's own approved registry revision names it, so that a
    published release shows the same titles offline as the handbook does."""
    latest = registry.history.latest
    titles = approved_policy(latest).get("role_titles", {}) if latest else {}
    return str(titles.get(role, role))


def _signers_script(signed: dict[str, str]) -> str:
    """The script that fills the banner's signers, from verified signatures only."""
    names = "; ".join(f"{role}: {name}" for role, name in sorted(signed.items()))
    text = json.dumps(f"Signed by {names}." if names else "Not signed.")
    return (
        "document.addEventListener('DOMContentLoaded',function(){var e=document."
        f"getElementById('qms-release-signers');if(e){{e.textContent={text};}}}});\n"
    )


STAGING_PREFIX = ".qms-staging-"
LOCK_FILE = ".qms-publish.lock"
READABLE_FILE, READABLE_FOLDER = 0o644, 0o755  # a web server runs as another user


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


def publish_release(config: QmsConfig, name: str, target: Path) -> Published:
    """Copy a fully signed, verified release to target/name atomically; never overwrite.

    Publishes into one target run one at a time (a lock file the kernel releases when a
    process dies), so whatever staging is found on entry was left by an interrupted one.
    """
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
            listed, unlisted = _write_index(target, config.trust_roots)
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
        listed, unlisted = _write_index(target, config.trust_roots)
    return Published(destination, removed, listed, unlisted)


def _is_published_copy(folder: Path, manifest: bytes, trust_roots: tuple[str, ...]) -> bool:
    """Whether `folder` holds exactly this release, verifying offline."""
    if not (folder / MANIFEST).is_file() or (folder / MANIFEST).read_bytes() != manifest:
        return False
    try:
        return not verify_release_folder(folder, trust_roots)
    except QmsError:
        return False


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
        signed = _release_signers(control / "release", data, keyring, registry)
        names = {
            _title(registry, role): _name(registry, s.fingerprint) for role, s in signed.items()
        }
    for set_folder in sorted(p for p in staging.iterdir() if (p / "_static").is_dir()):
        write_atomic(set_folder / SIGNERS_SCRIPT, _signers_script(names).encode("utf-8"))


def _write_index(
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
        _check_name(folder.name)
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
        signed = _release_signers(folder / "signatures" / "release", data, keyring, registry)
        signers = "<br>".join(
            f"{escape(_name(registry, s.fingerprint))} ({escape(_title(registry, role))}), "
            f"{escape(display_utc(s.signed_at))}"
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
