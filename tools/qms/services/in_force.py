"""Which version of each document is in force on a date, and where its approved source is.

A release publishes what staff may work to. A later version in review, or approved with
an effective date still to come, does not take the version in force off the shelf: the
latest earlier version that was approved and whose effective date has come is published,
from its approved source as git holds it. A document with no such version is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from qms.adapters.git import Repository
from qms.config import QmsConfig
from qms.errors import RefusedError
from qms.model.document import Document
from qms.model.frontmatter import parse_document
from qms.model.release import DocumentSet
from qms.model.status import Status
from qms.services.change_control import ChangeControl, HistoryRow, history_rows
from qms.services.handbook import StatusRow


@dataclass(frozen=True)
class InForce:
    """The version of a document a release publishes."""

    document: Document
    # The approved source of an earlier version, as (commit, path); None: the file at HEAD.
    source: tuple[str, str] | None
    # The files that version pulls in, as its signatures bind them: (path, SHA-256).
    includes: tuple[tuple[str, str], ...]
    # What a reader is told about the version at HEAD, when it is not the one published.
    later: str


@dataclass(frozen=True)
class LeftOut:
    """A document a release cannot publish, and why."""

    document_id: str
    reason: str


def _later(row: StatusRow) -> str:
    status = row.status
    version = row.document.version
    if status.status is Status.APPROVED and row.document.effective is not None:
        return f"Version {version} is approved and becomes effective on {row.document.effective}."
    return f"Version {version} is {status.status} ({status.reason})."


def _safe(path: str) -> str:
    """A path from history, refused when it could lead out of the handbook."""
    parts = Path(path).parts
    if not path or Path(path).is_absolute() or ".." in parts:
        raise RefusedError(
            f"the history names the path {path!r}, which leads out of the handbook",
            "repair the history, or create the release from a clean repository",
        )
    return path


def earlier_versions(
    config: QmsConfig, repo: Repository, control: ChangeControl, document: Document
) -> list[tuple[HistoryRow, Document | None]]:
    """The approved versions before `document`'s, newest first, each with its front matter
    as approved (None when it does not parse)."""
    prefix = config.root.resolve().relative_to(repo.root.resolve()).as_posix()
    found = []
    for row in reversed(history_rows(control, document)):
        if row.approved_source is None or row.version >= document.version:
            continue
        commit, path = row.approved_source
        relative = _safe(path)
        try:
            source = repo.file_at(commit, relative if prefix == "." else f"{prefix}/{relative}")
        except KeyError as exc:
            raise RefusedError(
                f"{document.id} {row.version}: {relative} is not in commit {commit[:12]}",
                "run 'qms history' to check the document's history",
            ) from exc
        parsed = parse_document(relative, source.decode("utf-8-sig", errors="replace"))
        found.append((row, parsed.document))
    return found


def superseded_in_set(
    earlier: list[tuple[HistoryRow, Document | None]], document_set: DocumentSet
) -> list[str]:
    """The earlier versions (from `earlier_versions`) that travel with a set, newest first:
    each only if the set admits it as it was (its classification, type and tags then)."""
    return [
        str(row.version) for row, old in earlier if old is not None and document_set.selects(old)
    ]


def in_force(
    config: QmsConfig,
    repo: Repository,
    control: ChangeControl,
    rows: list[StatusRow],
    on: date,
) -> tuple[list[InForce], list[LeftOut]]:
    """For each document (with its status at HEAD on `on`), the version in force on `on`."""
    found: list[InForce] = []
    left_out: list[LeftOut] = []
    for row in rows:
        document = row.document
        if row.status.status is Status.EFFECTIVE:
            found.append(InForce(document, None, (), ""))
            continue
        if row.status.status is Status.RETIRED:
            # Withdrawn from use: no earlier version stands in for it either.
            left_out.append(LeftOut(document.id, f"version {document.version} is retired"))
            continue
        chosen = None
        for history, parsed in earlier_versions(config, repo, control, document):
            if parsed is not None and parsed.effective is not None and parsed.effective <= on:
                assert history.approved_source is not None
                includes = history.signatures[0].includes if history.signatures else ()
                for path, _ in includes:
                    _safe(path)
                chosen = InForce(parsed, history.approved_source, includes, _later(row))
                break
        if chosen is None:
            reason = f"no version in force on {on}: version {document.version} is "
            left_out.append(LeftOut(document.id, reason + str(row.status.status)))
        else:
            found.append(chosen)
    return found, left_out
