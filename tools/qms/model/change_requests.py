"""Change requests: the ids a change reason names, the versions naming each, derived states."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from qms.model.document import Document, Version
from qms.model.findings import Finding, FindingCode
from qms.model.traceability import Graph, Need
from qms.model.vocabulary import CAPA, CHANGE

# A CAPA or change-request id as prose names it ("CC-2026-0229: ..."), not the tail of
# another id (EQMS-CAPA-10482 is an eQMS record, not an item of this handbook).
_REFERENCE_ID = re.compile(r"(?<![A-Za-z0-9-])(?:CAPA|CC)(?:-[A-Z0-9]+)+\b")
# Where ids are registered, for messages.
REGISTERED = "CAPAs are 'capa' items, change requests 'change' items of the handbook"


def referenced_ids(text: str) -> tuple[str, ...]:
    """The CAPA and change-request ids a text names (a change reason), in order, once each."""
    return tuple(dict.fromkeys(_REFERENCE_ID.findall(text)))


def known_ids(graph: Graph) -> frozenset[str]:
    """Every id a change reason may name: the CAPAs and change requests of the graph."""
    return frozenset(need.id for need in graph.needs.values() if need.type in (CAPA, CHANGE))


def affected_documents(need: Need) -> tuple[str, ...]:
    """A change request's `affects` field ('SOP-X-001, POL-Y-002') as document ids."""
    return tuple(dict.fromkeys(p.strip() for p in need.text("affects").split(",") if p.strip()))


@dataclass(frozen=True)
class VersionNaming:
    """A document version whose change reason names a CAPA or change request."""

    document_id: str
    version: Version
    approved: bool  # a complete, verified approval of this version
    current: bool  # the version the working copy holds

    @property
    def label(self) -> str:
        """How a table names it: 'SOP-X-001 2.1'."""
        return f"{self.document_id} {self.version}"


@dataclass(frozen=True)
class DocumentVersion:
    """One version of a document with its change reason and whether it is approved."""

    document_id: str
    version: Version
    change_reason: str
    approved: bool
    current: bool


def namings(versions: Iterable[DocumentVersion]) -> dict[str, tuple[VersionNaming, ...]]:
    """For each id any change reason names, the document versions naming it, in order."""
    found: dict[str, list[VersionNaming]] = {}
    for v in versions:
        for named in referenced_ids(v.change_reason):
            found.setdefault(named, []).append(
                VersionNaming(v.document_id, v.version, v.approved, v.current)
            )
    return {named: tuple(sorted(rows, key=lambda n: (n.document_id, n.version)))
            for named, rows in found.items()}  # fmt: skip


class ChangeState(StrEnum):
    """Where a change request stands, derived from the versions that name it."""

    REQUESTED = "requested"  # no document version names it yet
    IN_PROGRESS = "in progress"  # a version names it, not every affected one approved
    IMPLEMENTED = "implemented"  # every affected document has an approved version naming it


def derive_change_state(need: Need, named_by: Sequence[VersionNaming]) -> ChangeState:
    """The state of a change request: implemented only when every document it affects has
    an approved version naming it and no version naming it awaits approval."""
    if not named_by:
        return ChangeState.REQUESTED
    approved = {n.document_id for n in named_by if n.approved}
    awaiting = any(n.current and not n.approved for n in named_by)
    if awaiting or not set(affected_documents(need)) <= approved:
        return ChangeState.IN_PROGRESS
    return ChangeState.IMPLEMENTED


@dataclass(frozen=True)
class ChangeRow:
    """One change request of the change control log."""

    need: Need
    affects: tuple[str, ...]
    named_by: tuple[VersionNaming, ...]
    state: ChangeState

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {
            "id": self.need.id,
            "title": self.need.title,
            "requester": self.need.text("requester"),
            "owner": self.need.text("owner"),
            "affects": list(self.affects),
            "versions": [
                {"document": n.document_id, "version": str(n.version), "approved": n.approved}
                for n in self.named_by
            ],
            "state": str(self.state),
        }


def change_rows(graph: Graph, named: Mapping[str, Sequence[VersionNaming]]) -> list[ChangeRow]:
    """Every change request of the graph with the versions naming it and its state, by id."""
    return [
        ChangeRow(
            need,
            affected_documents(need),
            tuple(named.get(need.id, ())),
            derive_change_state(need, named.get(need.id, ())),
        )
        for need in sorted(graph.of_type(CHANGE), key=lambda n: n.id)
    ]


def affects_problems(need: Need, documents: Iterable[str]) -> list[str]:
    """What a change request's `affects` field names that is no document of the handbook."""
    known = set(documents)
    return [
        f"affects names {document_id}, which is no document of this handbook"
        for document_id in affected_documents(need)
        if document_id not in known
    ]


def reason_findings(documents: Iterable[tuple[Document, str]], graph: Graph) -> list[Finding]:
    """Each working copy's change reason against the handbook: an id it names exists, and a
    change request it names lists the document in `affects`. `documents` holds each
    document with its source path."""
    known = known_ids(graph)
    found: list[Finding] = []
    for document, path in documents:
        line = document.line_of("change_reason")
        for named in referenced_ids(document.change_reason):
            if named not in known:
                found.append(Finding(path, line,
                    f"change_reason names {named}, which is no CAPA or change request of "
                    f"this handbook ({REGISTERED}); correct the id or register it",
                    FindingCode.CHANGE_REFERENCE))  # fmt: skip
                continue
            need = graph.needs[named]
            if need.type == CHANGE and document.id not in affected_documents(need):
                found.append(Finding(path, line,
                    f"change_reason names {named}, whose affects does not list "
                    f"{document.id}; add it there or name the change that covers it",
                    FindingCode.CHANGE_REFERENCE))  # fmt: skip
    return found
