"""Authoring services: new documents with the next free id, and version bumps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from qms.adapters.files import read_text, write_atomic
from qms.adapters.git import open_repository
from qms.config import QmsConfig
from qms.errors import QmsError, RefusedError
from qms.model.change_requests import REGISTERED, referenced_ids
from qms.model.document import Document, DocumentType, Version
from qms.model.frontmatter import split_front_matter
from qms.model.vocabulary import ID_PATTERN
from qms.services.change_requests import handbook_references
from qms.services.handbook import load_handbook, select
from qms.services.history import document_revisions

PREFIXES = {
    DocumentType.POLICY: "POL",
    DocumentType.PROCEDURE: "SOP",
    DocumentType.STANDARD: "STD",
    DocumentType.WORK_INSTRUCTION: "WI",
    DocumentType.FORM: "FRM",
    DocumentType.PLAN: "PLN",
    DocumentType.REGISTER: "REG",
    DocumentType.RECORD: "REC",
    DocumentType.VALIDATION: "VAL",
}

SKELETONS = {
    DocumentType.POLICY: ("Purpose", "Scope", "Policy statements", "Roles and responsibilities",
                          "Compliance and exceptions", "Review"),
    DocumentType.PROCEDURE: ("Purpose", "Scope", "Responsibilities", "Procedure", "Records",
                             "Related documents"),
    DocumentType.STANDARD: ("Purpose", "Scope", "Requirements", "Verification",
                            "Related documents"),
    DocumentType.WORK_INSTRUCTION: ("Purpose", "Before you start", "Steps", "Records"),
    DocumentType.FORM: ("Purpose", "How to complete this form", "Form"),
    DocumentType.PLAN: ("Purpose", "Objectives", "Schedule", "Resources", "Monitoring"),
    DocumentType.REGISTER: ("Purpose", "Entries"),
    DocumentType.RECORD: ("Purpose", "Record", "Sign-off"),
    DocumentType.VALIDATION: ("Purpose", "Scope", "Results", "Conclusion"),
}  # fmt: skip

_AREA = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")


def used_ids(config: QmsConfig) -> set[str]:
    """Every id ever used: in the working copy or anywhere in git history."""
    ids = {document.id for document in load_handbook(config).documents}
    repo = open_repository(config.root)
    if repo is not None:
        ids |= set(document_revisions(config, repo))
    return ids


def next_id(doc_type: DocumentType, area: str, taken: set[str]) -> str:
    """The next free id of a type (and area): numbers are never reused."""
    if area and not _AREA.match(area):
        raise QmsError(f"area {area!r} must be 1-8 upper-case letters or digits", "e.g. --area ACC")
    stem = f"{PREFIXES[doc_type]}-{area}-" if area else f"{PREFIXES[doc_type]}-"
    numbers = [
        int(i[len(stem) :]) for i in taken if i.startswith(stem) and i[len(stem) :].isdigit()
    ]
    return f"{stem}{max(numbers, default=0) + 1:03d}"


@dataclass(frozen=True)
class NewDocument:
    """What `new` created."""

    document_id: str
    path: Path


def new_document(
    config: QmsConfig, doc_type: DocumentType, title: str, owner: str, area: str = ""
) -> NewDocument:
    """Create a draft (version 0.1) with complete front matter and the type's sections."""
    title = " ".join(title.split())
    if not title:
        raise QmsError("a document needs a title", "pass --title")
    document_id = next_id(doc_type, area, used_ids(config))
    assert ID_PATTERN.match(document_id)
    path = config.docs_path / doc_type.folder / f"{document_id.lower()}.md"
    if path.exists():
        raise RefusedError(f"{path} already exists", "choose another area or title")
    review = 12 if doc_type in (DocumentType.POLICY, DocumentType.REGISTER) else 24
    quoted_title = _yaml_text(title)
    lines = [
        "---",
        f"id: {document_id}",
        f'title: "{quoted_title}"',
        f"type: {doc_type}",
        'version: "0.1"',
        f'owner: "{_yaml_text(owner)}"',
        "classification: internal",
        f"review_months: {review}",
        "change_reason: First draft",
        "---",
        "",
    ]
    for heading in SKELETONS[doc_type]:
        lines += [f"## {heading}", "", "To be written.", ""]
    write_atomic(path, "\n".join(lines).encode("utf-8"))
    index = path.parent / "index.md"
    if not index.exists():
        write_atomic(index, _index_page(doc_type).encode("utf-8"))
    return NewDocument(document_id, path)


def _yaml_text(text: str) -> str:
    """Text for a double-quoted YAML scalar."""
    return " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')


def _index_page(doc_type: DocumentType) -> str:
    return (
        f"# {doc_type.plural}\n\n```{{qms-register}}\n:type: {doc_type}\n```\n\n"
        "```{toctree}\n:hidden:\n:glob:\n\n*\n```\n"
    )


@dataclass(frozen=True)
class Bump:
    """What `bump` changed."""

    document: Document
    old: Version
    new: Version


def _check_references(config: QmsConfig, reason: str) -> None:
    """A reason naming a CAPA or change request names one that exists, so that the change
    is traceable to it; with change_reference = "required" it must name one."""
    named = referenced_ids(reason)
    if not named:
        if config.change_reference == "required":
            raise QmsError(
                "the reason names no CAPA or change request, which [tool.qms] "
                "change_reference requires; nothing was changed",
                "start --reason with the id, e.g. 'CC-2026-0142: what changed and why'",
            )
        return
    references = handbook_references(config)
    unknown = references.unknown(named)
    if unknown:
        where = f" ({', '.join(references.registers)})" if references.registers else ""
        raise QmsError(
            f"the reason names {', '.join(unknown)}, which is no CAPA or change request of "
            f"this handbook; nothing was changed",
            f"{REGISTERED}{where}: register it there or correct the id in --reason",
        )


def bump(config: QmsConfig, document_id: str, reason: str, major: bool = False) -> Bump:
    """Raise a document's version and record why, editing only those front-matter lines."""
    reason = " ".join(reason.split())
    if not reason:
        raise QmsError("a new version needs a reason", "pass --reason 'what changed and why'")
    handbook = load_handbook(config)
    [document] = select(handbook.documents, [document_id])
    _check_references(config, reason)
    old = document.version
    new = Version(old.major + 1, 0) if major else Version(old.major, old.minor + 1)
    path = config.root / document.path
    text = read_text(path)
    block = split_front_matter(text)
    if block is None:
        raise QmsError(f"{document.path} has no front matter", "run qms check")
    lines = text.split("\n")
    end = block.first_line + block.text.count("\n") - 1  # index of the closing fence
    quoted = reason.replace("\\", "\\\\").replace('"', '\\"')
    for index in range(1, end):
        if re.match(r"^version\s*:", lines[index]):
            lines[index] = f'version: "{new}"'
    reason_line = f'change_reason: "{quoted}"'
    for index in range(1, end):
        if re.match(r"^change_reason\s*:", lines[index]):
            lines[index] = reason_line
            break
    else:
        lines.insert(end, reason_line)
    write_atomic(path, "\n".join(lines).encode("utf-8"))
    return Bump(document, old, new)
