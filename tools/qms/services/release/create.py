"""Creating a release: the versions in force, staged and built per set, and the manifest."""

from __future__ import annotations

import platform
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from qms import __version__
from qms.adapters.files import iter_sources, write_atomic
from qms.adapters.git import Repository
from qms.config import QmsConfig, load_config
from qms.errors import QmsError, RefusedError
from qms.model.approval_rules import DocumentVerdict
from qms.model.document import Document, register_key
from qms.model.release import DocumentSet, Manifest
from qms.model.site_pages import IN_EVERY_SET
from qms.model.status import Status
from qms.model.timeutil import display_utc, format_utc
from qms.model.training import PERSONAL_DATA
from qms.services.change_control import change_control
from qms.services.content import sha256_of
from qms.services.handbook import display_path, load_handbook, status_of
from qms.services.in_force import (
    InForce,
    LeftOut,
    earlier_versions,
    in_force,
    superseded_in_set,
)
from qms.services.release.folder_files import (
    MANIFEST,
    build_folder,
    check_name,
    output_files,
    record_folder,
)
from qms.services.set_build import SetJob, build_set
from qms.services.verify import verify_handbook
from qms.services.witness import check_high_water, witnessed_files

# Everything whose version shapes the output bytes (pages and PDFs).
TOOLS = (
    "sphinx", "myst-parser", "sphinx-needs", "furo", "docutils", "python-gnupg", "GitPython",
    "weasyprint", "pydyf", "fonttools", "tinycss2", "beautifulsoup4", "markdown-it-py",
    "Jinja2", "MarkupSafe",
)  # fmt: skip


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


# (set, phase, done, total) while sets are built: see qms.services.set_build.
SetProgress = Callable[[str, str, int, int], None]


def _quiet(set_name: str, phase: str, done: int, total: int) -> None:
    """Report nothing."""


@dataclass(frozen=True)
class CreatedRelease:
    """What `release create` produced."""

    manifest: Manifest
    folder: Path
    commit: str
    # Documents with no version in force, which no set could publish.
    left_out: tuple[LeftOut, ...] = ()


def create_release(
    config: QmsConfig,
    name: str,
    set_names: list[str],
    now: datetime,
    progress: SetProgress = _quiet,
) -> CreatedRelease:
    """Build each set from the versions in force at the commit and write the manifest.

    `now` only refuses a commit dated in the future; everything else is judged at the
    commit's own time."""
    check_name(name)
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
    record = record_folder(config, name) / MANIFEST
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
    # A commit date is whatever its author set: a release never judges "effective" in the
    # future, and its time must be the commit's alone, so a rebuild gives the same bytes.
    when = datetime.fromtimestamp(repo.commit_time(commit), tz=UTC)
    if when > now + timedelta(minutes=5):
        raise RefusedError(
            f"commit {commit[:12]} is dated {display_utc(when)}, in the future",
            "fix the clock of the machine that committed it, and commit again",
        )
    on = when.date()
    handbook = load_handbook(config)
    # Judged at the release's own time, so that training counts (effectiveness gates)
    # and every other dated judgement are the same in a rebuild.
    verification = verify_handbook(config, handbook, now=when)
    control = change_control(config, handbook, now=when)
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
    rows = [row for row, _ in verification.rows(config, on)]
    plan, left_out = in_force(config, repo, control, rows, on)
    folder = build_folder(config, name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    manifest_sets: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="qms-release-") as scratch:
        staged = _stage_sources(config, repo, commit, plan, Path(scratch))
        published, every_document = _published_versions(staged, plan, when)
        notes = {item.document.id: item.later for item in plan if item.later}
        # Each published document's history is read from git once, for every set.
        earlier = {
            v.document.id: earlier_versions(config, repo, control, v.document) for v in published
        }
        for document_set in sets:
            chosen = [v for v in published if document_set.selects(v.document)]
            superseded = {
                v.document.id: superseded_in_set(earlier[v.document.id], document_set)
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
        files=output_files(folder),
        tools=_tool_versions(),
        trust_roots=config.trust_roots,
        signer_roles=config.release_roles,
        witness=tuple(
            (path, digest)
            for path, digest in witnessed_files(config).items()
            if not path.startswith(f"signatures/releases/{name}/")
        ),
        wording=config.signing.wording("release"),
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
    staged: QmsConfig, plan: list[InForce], when: datetime
) -> tuple[list[DocumentVerdict], tuple[Document, ...]]:
    """The verdicts of the staged versions in force, and every staged document.

    Each must verify as effective at the release time `when`: the versions were chosen
    from the history, and verifying the staged files again is what makes the release's
    pages and manifest show only what signatures prove.
    """
    wanted = {item.document.id: item.document.version for item in plan}
    on = when.date()
    handbook = load_handbook(staged)
    if handbook.findings:
        raise RefusedError(
            f"the versions in force do not check cleanly together: {handbook.findings[0].render()}",
            "run 'qms history ID' for the document named, and fix its history",
        )
    verification = verify_handbook(staged, handbook, now=when)
    found = []
    for verdict in verification.verdicts:
        document = verdict.document
        if document.id not in wanted:
            continue
        row = status_of(document, staged, on, verification.evidence_of(staged, verdict))
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
    if docname in IN_EVERY_SET:
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
        # Per-person training appears only where the set admits personal data.
        "personal_data": document_set.admits(PERSONAL_DATA),
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
