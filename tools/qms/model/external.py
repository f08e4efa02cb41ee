"""External documents (ISO 27001 7.5.3): standards, regulations and supplier documents the
handbook relies on, each registered with its edition and, if kept, its local copy's hash."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from qms.model.findings import Finding, FindingCode
from qms.model.located import load_checked
from qms.model.status import add_months

SCHEMA = "external"
# The data folder under docs/, and its folder of controlled local copies.
FOLDER = "_external"
COPIES = "copies"


@dataclass(frozen=True)
class LocalCopy:
    """A controlled copy kept in the handbook, and the SHA-256 it was registered with."""

    file: str
    sha256: str
    line: int


@dataclass(frozen=True)
class ExternalDocument:
    """One registered external document, and where its file says what."""

    path: str
    id: str
    title: str
    issuer: str
    edition: str
    url: str
    owner: str
    reviewed: date
    review_months: int
    copy: LocalCopy | None = None
    note: str = ""
    line: int = 1
    reviewed_line: int = 1

    @property
    def next_review(self) -> date:
        """When the edition must next be confirmed current."""
        return add_months(self.reviewed, self.review_months)

    def as_dict(self) -> dict[str, Any]:
        """The register's (and `--json`'s) view."""
        return {
            "id": self.id,
            "title": self.title,
            "issuer": self.issuer,
            "edition": self.edition,
            "url": self.url,
            "owner": self.owner,
            "reviewed": self.reviewed.isoformat(),
            "next_review": self.next_review.isoformat(),
            "copy": None
            if self.copy is None
            else {"file": self.copy.file, "sha256": self.copy.sha256},
        }


def parse_external(path: str, text: str) -> tuple[ExternalDocument | None, list[Finding]]:
    """Read one registration; every problem is a finding at its line."""
    findings: list[Finding] = []

    def fail(line: int, message: str) -> None:
        findings.append(Finding(path, line, message, FindingCode.EXTERNAL))

    checked = load_checked(text, SCHEMA, fail, "an external document is a mapping")
    if checked is None:
        return None, findings
    located, data = checked.located, checked.data
    for problem in checked.problems:
        where = problem.path[:-1] if problem.keyword == "required" else problem.path
        fail(located.line(where) if where else 1, problem.message)
    if findings:
        return None, findings
    reviewed = data["reviewed"]
    copy = data.get("copy")
    return (
        ExternalDocument(
            path=path,
            id=data["id"],
            title=" ".join(data["title"].split()),
            issuer=data["issuer"],
            edition=data["edition"],
            url=data["url"],
            owner=data["owner"],
            reviewed=reviewed if isinstance(reviewed, date) else date.fromisoformat(reviewed),
            review_months=data["review_months"],
            copy=None
            if copy is None
            else LocalCopy(copy["file"], copy["sha256"], located.line(("copy", "sha256"))),
            note=data.get("note", ""),
            line=located.line(("id",)),
            reviewed_line=located.line(("reviewed",)),
        ),
        findings,
    )


def _problems(
    document: ExternalDocument, clash: str, copies: Mapping[str, str], on: date
) -> Iterator[tuple[int, str, FindingCode]]:
    """(line, message after the id, code) of each problem of one registration."""
    if clash:
        yield document.line, clash, FindingCode.EXTERNAL
    copy = document.copy
    if copy is not None and copy.file not in copies:
        yield (
            copy.line,
            f": the local copy {copy.file} is missing; put the controlled copy back or "
            "remove 'copy'",
            FindingCode.EXTERNAL_COPY,
        )
    elif copy is not None and copies[copy.file] != copy.sha256:
        yield (
            copy.line,
            f": the local copy {copy.file} changed since it was registered (SHA-256 now "
            f"{copies[copy.file]}); register the new edition (edition, reviewed, sha256) or "
            "restore the registered copy",
            FindingCode.EXTERNAL_COPY,
        )
    if document.next_review < on:
        yield (
            document.reviewed_line,
            f" ({document.edition}) was due for review on {document.next_review.isoformat()}; "
            "confirm the edition is current (or register the new one) and update 'reviewed'",
            FindingCode.EXTERNAL_REVIEW,
        )


def external_findings(
    documents: Iterable[ExternalDocument],
    copies: Mapping[str, str],
    on: date,
    document_ids: Iterable[str] = (),
) -> list[Finding]:
    """Ids used twice (or by a controlled document), local copies missing or changed since
    they were registered (`copies`: each file present -> its SHA-256 now), and reviews
    past due on `on`."""
    findings: list[Finding] = []
    seen: dict[str, ExternalDocument] = {}
    taken = set(document_ids)
    for document in documents:
        first = seen.setdefault(document.id, document)
        clash = (
            f" is registered twice (also in {first.path}); give this one another id"
            if first is not document
            else " is also a controlled document's id; give the external document another id"
            if document.id in taken
            else ""
        )
        findings += [
            Finding(document.path, line, document.id + message, code)
            for line, message, code in _problems(document, clash, copies, on)
        ]
    return findings
