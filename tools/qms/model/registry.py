"""Cross-document rules over a set of parsed documents."""

from __future__ import annotations

from collections.abc import Iterable

from qms.model.document import Document, DocumentType
from qms.model.findings import Finding, FindingCode


def duplicate_id_findings(documents: Iterable[Document]) -> list[Finding]:
    """One finding for every document that reuses an id already taken by another."""
    first: dict[str, Document] = {}
    findings: list[Finding] = []
    for document in sorted(documents, key=lambda d: d.path):
        owner = first.setdefault(document.id, document)
        if owner is not document:
            findings.append(
                Finding(
                    document.path,
                    document.line_of("id"),
                    f"duplicate document id '{document.id}': already used by "
                    f"{owner.path}:{owner.line_of('id')}; ids are never reused, "
                    "choose the next free one",
                    FindingCode.DUPLICATE_ID,
                )
            )
    return findings


def siblings_by_type(documents: Iterable[Document]) -> dict[DocumentType, list[Document]]:
    """The documents of each type, in id order: what a reader pages through."""
    grouped: dict[DocumentType, list[Document]] = {}
    for document in sorted(documents, key=lambda d: (d.id, d.path)):
        grouped.setdefault(document.type, []).append(document)
    return grouped
