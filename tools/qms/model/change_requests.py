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
    # The approved version that carries the change: this one, or the first later version
    # of the document approved (a version replaced before its approval is carried on by
    # the next); None while none is.
    carried_by: Version | None = None

    @property
    def label(self) -> str:
        """How a table names it: 'SOP-X-001 2.1'."""
        return f"{self.document_id} {self.version}"

    @property
    def status(self) -> str:
        """Its approval in words: 'approved', 'approved in 2.1', 'not approved'."""
        if self.approved:
            return "approved"
        return f"approved in {self.carried_by}" if self.carried_by else "not approved"


@dataclass(frozen=True)
class DocumentVersion:
    """One version of a document with its change reason and whether it is approved."""

    document_id: str
    version: Version
    change_reason: str
    approved: bool
    current: bool


def namings(
    versions: Iterable[DocumentVersion],
    named_in_items: Mapping[str, Iterable[tuple[str, str]]] | None = None,
) -> dict[str, tuple[VersionNaming, ...]]:
    """For each id any change reason names, the document versions naming it, in order;
    `named_in_items` adds the (document id, version text) pairs an item names itself (a
    CAPA's `changes` field), for the versions there are."""
    versions = list(versions)
    approved: dict[str, list[Version]] = {}
    for v in versions:
        if v.approved:
            approved.setdefault(v.document_id, []).append(v.version)

    def naming(v: DocumentVersion) -> VersionNaming:
        later = [a for a in approved.get(v.document_id, ()) if a >= v.version]
        return VersionNaming(
            v.document_id, v.version, v.approved, v.current, min(later) if later else None
        )

    found: dict[str, dict[tuple[str, Version], VersionNaming]] = {}
    for v in versions:
        for named in referenced_ids(v.change_reason):
            found.setdefault(named, {})[(v.document_id, v.version)] = naming(v)
    by_key = {(v.document_id, str(v.version)): v for v in versions}
    for named, pairs in (named_in_items or {}).items():
        for pair in pairs:
            if pair in by_key:
                v = by_key[pair]
                found.setdefault(named, {}).setdefault((v.document_id, v.version), naming(v))
    return {named: tuple(rows[key] for key in sorted(rows)) for named, rows in found.items()}


class ChangeState(StrEnum):
    """Where a change request stands, derived from the versions that name it."""

    REQUESTED = "requested"  # no document version names it yet
    IN_PROGRESS = "in progress"  # a version names it, not every affected one approved
    IMPLEMENTED = "implemented"  # every affected document has an approved version naming it


def derive_change_state(need: Need, named_by: Sequence[VersionNaming]) -> ChangeState:
    """The state of a change request: implemented only when every document it affects has
    a version naming it and the latest such version of each document is carried by an
    approved version (itself or a later one)."""
    if not named_by:
        return ChangeState.REQUESTED
    latest: dict[str, VersionNaming] = {}
    for naming in named_by:
        if naming.document_id not in latest or naming.version > latest[naming.document_id].version:
            latest[naming.document_id] = naming
    carried = {d for d, naming in latest.items() if naming.carried_by is not None}
    if set(latest) != carried or not set(affected_documents(need)) <= carried:
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
                {
                    "document": n.document_id,
                    "version": str(n.version),
                    "approved": n.approved,
                    "carried_by": str(n.carried_by) if n.carried_by else None,
                }
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
