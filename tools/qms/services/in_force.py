"""Which version of each document is in force on a date, and where its approved source is.

A release publishes what staff may work to. A later version in review, or approved with
an effective date still to come, does not take the version in force off the shelf: the
latest earlier version that was approved and whose effective date has come is published,
from its approved source as git holds it. A document with no such version is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from qms.adapters.git import Repository
from qms.config import QmsConfig
from qms.model.document import Document
from qms.model.frontmatter import parse_document
from qms.model.status import Status
from qms.services.change_control import ChangeControl, history_rows
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
    prefix = config.root.resolve().relative_to(repo.root.resolve()).as_posix()
    for row in rows:
        document = row.document
        if row.status.status is Status.EFFECTIVE:
            found.append(InForce(document, None, (), ""))
            continue
        earlier = [
            r
            for r in history_rows(control, document)
            if r.approved_source is not None and r.version < document.version
        ]
        chosen = None
        for history in reversed(earlier):
            assert history.approved_source is not None
            commit, path = history.approved_source
            source = repo.file_at(commit, path if prefix == "." else f"{prefix}/{path}")
            parsed = parse_document(path, source.decode("utf-8-sig", errors="replace")).document
            if parsed is not None and parsed.effective is not None and parsed.effective <= on:
                includes = history.signatures[0].includes if history.signatures else ()
                chosen = InForce(parsed, (commit, path), includes, _later(row))
                break
        if chosen is None:
            reason = f"no version in force on {on}: version {document.version} is "
            left_out.append(LeftOut(document.id, reason + str(row.status.status)))
        else:
            found.append(chosen)
    return found, left_out
