"""Change requests: which ids a change reason may name, and the change control log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from qms.config import QmsConfig
from qms.model.change_requests import (
    ChangeRow,
    DocumentVersion,
    change_rows,
    known_ids,
    namings,
)
from qms.model.document import Document
from qms.model.traceability import Graph
from qms.model.vocabulary import CAPA, CHANGE
from qms.services.change_control import HistoryRow, change_control, history_rows
from qms.services.handbook import Handbook, load_handbook
from qms.services.traceability import load_graph


def versions_of(document: Document, history: Sequence[HistoryRow]) -> list[DocumentVersion]:
    """Every committed version of `document` with its reason and approval, and the working
    copy's version when no commit holds it yet (a bump not yet committed)."""
    found = [
        DocumentVersion(document.id, row.version, row.change_reason, row.approved,
                        row.version == document.version)
        for row in history
    ]  # fmt: skip
    current = next((v for v in found if v.current), None)
    if current is None:
        found.append(
            DocumentVersion(document.id, document.version, document.change_reason, False, True)
        )
    elif current.change_reason != document.change_reason:
        # The working copy's reason is the one the next commit records; no approval
        # covers it yet, so it carries no change request to implemented.
        found[found.index(current)] = DocumentVersion(
            document.id, document.version, document.change_reason, False, True
        )
    return found


@dataclass(frozen=True)
class References:
    """The ids a change reason may name, and the documents that register them."""

    known: frozenset[str]
    registers: tuple[str, ...]  # ids of the documents holding CAPA or change items

    def unknown(self, ids: Iterable[str]) -> list[str]:
        """The ids of `ids` no CAPA or change request of the handbook has."""
        return [named for named in ids if named not in self.known]


def references_in(config: QmsConfig, graph: Graph, handbook: Handbook) -> References:
    """What `graph` registers: CAPA and change-request ids, and the documents holding them."""
    pages = {need.docname for need in graph.needs.values() if need.type in (CAPA, CHANGE)}
    registers = tuple(sorted(d.id for d in handbook.documents if _page(config, d) in pages))
    return References(known_ids(graph), registers)


def _page(config: QmsConfig, document: Document) -> str:
    # The Sphinx docname of a document: its path under the docs folder, without suffix.
    path = (config.root / document.path).relative_to(config.docs_path)
    return path.with_suffix("").as_posix()


def handbook_references(config: QmsConfig) -> References:
    """The ids a change reason may name, read with Sphinx as the site reads them."""
    return references_in(config, load_graph(config).graph, load_handbook(config))


def change_log(config: QmsConfig, *, now: datetime) -> list[ChangeRow]:
    """Every change request with the document versions naming it and its derived state:
    approvals verified as `qms verify` verifies them, judged at `now`."""
    handbook = load_handbook(config)
    control = change_control(config, handbook, now=now)
    versions = [
        version
        for document in handbook.documents
        for version in versions_of(document, history_rows(control, document))
    ]
    return change_rows(load_graph(config).graph, namings(versions))
