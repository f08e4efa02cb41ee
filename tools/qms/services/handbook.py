"""Loading the handbook: every controlled document, parsed and cross-checked."""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

# Re-exported: the Sphinx exclude patterns that keep the site to the sources read here.
from qms.adapters.files import EXCLUDED_SOURCES as EXCLUDED_SOURCES
from qms.adapters.files import is_site_page, iter_sources, read_text
from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.document import Document
from qms.model.findings import Finding, FindingCode
from qms.model.frontmatter import ParseResult, parse_document
from qms.model.line_endings import crlf_finding
from qms.model.registry import duplicate_id_findings
from qms.model.status import (
    NO_EVIDENCE,
    DerivedStatus,
    Evidence,
    derive_status,
    next_review,
)


@dataclass(frozen=True)
class Handbook:
    """All controlled documents of a handbook and the problems found reading them."""

    documents: tuple[Document, ...]
    findings: tuple[Finding, ...]
    # Ids of documents whose front matter names a valid id but fails validation.
    broken_ids: frozenset[str] = frozenset()


def display_path(root: Path, path: Path) -> str:
    """A path as users see it in messages: relative to the repository root."""
    # The common case as text: relative_to costs more than the rest of reading a small
    # training record, and a verify shows tens of thousands.
    text, base = str(path), str(root) + os.sep
    if text.startswith(base) and root.is_absolute() == path.is_absolute():
        return text[len(base) :].replace(os.sep, "/")
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def is_controlled(config: QmsConfig, docname: str) -> bool:
    """Whether the source `docname` is a controlled document rather than a site page."""
    return not is_site_page(docname, config.site_pages)


def parse_source(shown: str, text: str, data: bytes) -> ParseResult:
    """Validate one controlled source, given as text and as the bytes a signature binds.

    Reading text turns CRLF into LF, so the bytes are asked for CRLF: the site (which
    gets the text from Sphinx) and load_handbook judge a source alike.
    """
    result = parse_document(shown, text)
    crlf = crlf_finding(shown, data)
    return result if crlf is None else replace(result, findings=(*result.findings, crlf))


def load_handbook(config: QmsConfig) -> Handbook:
    """Parse every controlled document under the docs folder."""
    documents: list[Document] = []
    findings: list[Finding] = []
    broken: set[str] = set()
    if not config.docs_path.is_dir():
        raise QmsError(
            f"no documents folder at {display_path(config.root, config.docs_path)}",
            "create it, or set docs_dir in [tool.qms]",
        )
    for docname, path in iter_sources(config.docs_path):
        if not is_controlled(config, docname):
            continue
        shown = display_path(config.root, path)
        try:
            source = read_text(path)
        except UnicodeDecodeError as exc:
            data = path.read_bytes()
            line = data.count(b"\n", 0, exc.start) + 1
            findings.append(
                Finding(
                    shown,
                    line,
                    f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
                    FindingCode.ENCODING,
                )
            )
            continue
        result = parse_source(shown, source, path.read_bytes())
        findings.extend(result.findings)
        if result.document is not None:
            documents.append(result.document)
        elif result.raw_id is not None:
            broken.add(result.raw_id)
    findings.extend(duplicate_id_findings(documents))
    return Handbook(
        tuple(sorted(documents, key=lambda d: d.id)),
        tuple(sorted(findings, key=lambda f: f.sort_key)),
        frozenset(broken),
    )


def canonical_id(text: str) -> str:
    """A document id as typed by a person: `pol-acc-001` and ` POL-ACC-001` mean POL-ACC-001."""
    return text.strip().upper()


def select(documents: Sequence[Document], ids: Sequence[str]) -> list[Document]:
    """The documents with the given ids, in that order; all of them when none is given.

    Ids are matched whatever their case; an unknown id is an error that suggests the
    closest known ids, so every command that takes an id treats it alike.
    """
    if not ids:
        return list(documents)
    by_id = {document.id: document for document in documents}
    wanted = [canonical_id(doc_id) for doc_id in ids]
    unknown = [doc_id for doc_id in wanted if doc_id not in by_id]
    if unknown:
        close = [
            match
            for doc_id in unknown
            for match in difflib.get_close_matches(doc_id, by_id, n=1, cutoff=0.75)
        ]
        hint = "run 'qms status' to list the ids"
        if close:
            hint = f"did you mean {' or '.join(dict.fromkeys(close))}? ('qms status' lists the ids)"
        raise QmsError(f"no controlled document with id {', '.join(unknown)}", hint)
    return [by_id[doc_id] for doc_id in dict.fromkeys(wanted)]


@dataclass(frozen=True)
class StatusRow:
    """What `qms status` and the register show for one document."""

    document: Document
    status: DerivedStatus
    next_review: date | None

    @property
    def awaiting(self) -> str:
        """The line `qms status` and `qms verify` print for a document awaiting risk owners
        ("" when none is awaited)."""
        owners = self.status.awaiting_owners
        if not owners:
            return ""
        return (
            f"{self.document.id} {self.document.version}: {self.status.status}, awaiting the "
            f"risk owners' signature: {', '.join(owners)}"
        )

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        review = self.next_review.isoformat() if self.next_review else None
        return {
            "id": self.document.id,
            "title": self.document.title,
            "type": str(self.document.type),
            "version": str(self.document.version),
            "status": str(self.status.status),
            "status_reason": self.status.reason,
            "awaiting_owners": list(self.status.awaiting_owners),
            "owner": self.document.owner,
            "effective": self.document.effective.isoformat() if self.document.effective else None,
            "next_review": review,
            "path": self.document.path,
        }


def status_of(
    document: Document, config: QmsConfig, on: date, evidence: Evidence = NO_EVIDENCE
) -> StatusRow:
    """Derive the status row of one document from verified evidence (see services.verify)."""
    derived = derive_status(document, evidence, config.required_meanings(document.type), on)
    return StatusRow(document, derived, next_review(document))
