"""One history point's counts, cheap by construction: only what changed since the point
before is read or judged again, and nothing is read with Sphinx.

- Needs come from each source's blob, parsed by the parser `qms impact` uses
  (`model/need_source.py`) and kept by path and blob id: a file no commit changed is
  parsed once. The graph, and what the KPIs take from it alone, are kept per tree of the
  docs folder.
- A document's verdict is kept under the ids of what it was judged from (its source and
  includes, its signature records, the keys, the registry, the training records and the
  policy), so a document no commit touched is judged once; gpg is asked only about
  signatures no run of this clone found good (the repository's cache, keyed by bytes).
- Files are read from a working tree only where a rule reads them (verify, the CAPA log,
  training): the repository's own, when the point holds the same docs, signatures and
  policy as its clean HEAD; else one clone, checked out at the point.
- What depends on the day (statuses, reviews due, CAPAs overdue, training) is judged
  again for each point's day, from the kept verdicts.

A set's points count only the documents the set selects, and the site pages it shows.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath

from qms.adapters.files import SOURCE_SUFFIX
from qms.adapters.git import Repository, open_repository
from qms.adapters.gpg import Keyring
from qms.config import QmsConfig, load_config
from qms.model.approval_rules import DocumentVerdict
from qms.model.catalogue import parse_catalogue
from qms.model.document import Document
from qms.model.need_blocks import need_of
from qms.model.need_source import parse_items
from qms.model.release import DocumentSet
from qms.model.site_pages import IN_EVERY_SET
from qms.model.traceability import Graph, Need
from qms.model.vocabulary import REQUIREMENT
from qms.services.capa import CapaSigned, capa_signed
from qms.services.catalogues import CATALOGUE_FOLDER
from qms.services.content import document_content
from qms.services.handbook import load_handbook
from qms.services.layout import SignatureLayout
from qms.services.metrics import GraphPart, Known, facts_of, graph_part, known_of
from qms.services.registry import RegistryState, load_registry
from qms.services.signatures import kept_keyring, kept_verifications
from qms.services.training import training_of_documents
from qms.services.verify import Verification, judge

# `{qms-catalogue} KEY` in a source: the catalogue's requirements become its needs.
_CATALOGUE = re.compile(r"^ {0,3}(?:`{3,}|~{3,}|:{3,})\s*\{qms-catalogue\}\s+(?P<key>\S+)", re.M)


@dataclass(frozen=True)
class _Source:
    """What one Markdown source holds: its needs, and the catalogues it shows."""

    needs: tuple[Need, ...]
    catalogues: tuple[str, ...]


# Verdicts, the registry they were judged with, and the commits their records name.
_Judged = tuple[tuple[DocumentVerdict, ...], RegistryState, frozenset[str]]


def _named(verdict: DocumentVerdict) -> frozenset[str]:
    """The commits the records of `verdict` name."""
    return frozenset(c for v in (*verdict.verdicts, *verdict.retirement) if (c := v.record.commit))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


@dataclass
class PointCounter:
    """Counts the points of one run, oldest first along the branch, keeping what does not
    change from one point to the next.

    `repository` holds the caches that outlive the run (verified signatures, key files)
    and the working tree used for points that hold what its HEAD holds; `handbook` is the
    handbook's folder from the top of the repository; `scratch` a folder for the clone.
    """

    repository: Repository
    handbook: str
    scratch: Path
    document_set: DocumentSet | None = None
    _clone: Repository | None = None
    _head: str | None = None
    # What a source holds, by (path, blob id): a function of its path and bytes.
    _sources: dict[tuple[str, str], _Source] = field(default_factory=dict)
    _catalogues: dict[tuple[str, str, str], tuple[Need, ...]] = field(default_factory=dict)
    # Per tree of the docs folder: its documents, graph and what the KPIs take from it.
    _handbooks: dict[str, tuple[Document, ...]] = field(default_factory=dict)
    _graphs: dict[str, tuple[Graph, GraphPart]] = field(default_factory=dict)
    # Verdicts by the digest of what they were judged from, with the commits they name.
    _verdicts: dict[str, tuple[DocumentVerdict, frozenset[str]]] = field(default_factory=dict)
    # Every verdict and the registry per (docs, signatures, policy) ids, as `_key` gives.
    _judged: dict[str, _Judged] = field(default_factory=dict)
    _capas: dict[str, CapaSigned] = field(default_factory=dict)

    def _path(self, relative: str) -> str:
        return relative if self.handbook in ("", ".") else f"{self.handbook}/{relative}"

    def _in_repo(self, config: QmsConfig, path: Path) -> str:
        """`path` of the tree at `config.root` (the repository's or the clone's) as the
        repository names it."""
        return self._path(path.relative_to(config.root).as_posix())

    def _shown_path(self, path: str) -> str:
        if self.handbook in ("", "."):
            return path
        return PurePosixPath(path).relative_to(self.handbook).as_posix()

    def _shown(self, docname: str, documents: Mapping[str, Document]) -> bool:
        """Whether this point's set counts the source `docname` (every one outside a set)."""
        chosen = self.document_set
        if chosen is None:
            return True
        if docname in documents:
            return chosen.selects(documents[docname])
        return docname in IN_EVERY_SET or docname.endswith("/index") or chosen.shows_page(docname)

    def _key(self, config: QmsConfig, commit: str) -> tuple[str, str, str]:
        """The ids of the docs folder, the signatures folder and the policy at `commit`."""
        repo = self.repository
        return (
            repo.object_id(commit, self._path(config.docs_dir)),
            repo.object_id(commit, self._in_repo(config, config.signatures_path)),
            repo.object_id(commit, self._path("pyproject.toml")),
        )

    def _tree(self, commit: str) -> Path:
        """A working tree holding what the rules read at `commit`: the repository's own
        when it is clean and its HEAD holds the same, else the clone moved to `commit`."""
        repo = self.repository
        config = load_config(repo.root / self.handbook)
        if self._head is None:
            head = repo.head()
            clean = head is not None and not repo.is_dirty()
            clean = clean and not repo.has_untracked(config.docs_path)
            clean = clean and not repo.has_untracked(config.signatures_path)
            self._head = "\0".join(self._key(config, head)) if clean and head else ""
        if self._head and "\0".join(self._key(config, commit)) == self._head:
            return repo.root
        if self._clone is None:
            self._clone = repo.clone_at(commit, self.scratch / "at")
        else:
            self._clone.check_out(commit)
        return self._clone.root

    def _source(self, path: str, blob: str, docname: str) -> _Source:
        key = (path, blob)
        if key not in self._sources:
            text = self.repository.blob(blob).decode("utf-8-sig", errors="replace")
            items = parse_items(self._shown_path(path), text)
            keys = tuple(m["key"] for m in _CATALOGUE.finditer(text))
            self._sources[key] = _Source(tuple(need_of(i, docname) for i in items), keys)
        return self._sources[key]

    def _catalogue(self, path: str, blob: str, docname: str) -> tuple[Need, ...]:
        """A catalogue's requirements as the `{qms-catalogue}` directive on `docname`
        adds them (`extensions/qms_sphinx/catalogue.py`)."""
        key = (path, blob, docname)
        if key not in self._catalogues:
            text = self.repository.blob(blob).decode("utf-8-sig", errors="replace")
            catalogue, _ = parse_catalogue(self._shown_path(path), PurePosixPath(path).stem, text)
            self._catalogues[key] = () if catalogue is None else tuple(
                Need.from_mapping({
                    "id": r.id, "type": REQUIREMENT, "title": f"{r.ref} {r.title}",
                    "docname": docname, "framework": catalogue.framework,
                    "catalogue": catalogue.key, "kind": catalogue.kind, "ref": r.ref,
                    "position": position, "maps_to": list(r.maps_to),
                })
                for position, r in enumerate(catalogue.requirements)
            )  # fmt: skip
        return self._catalogues[key]

    def _graph(self, config: QmsConfig, commit: str, documents: Mapping[str, Document]) -> Graph:
        docs = self._path(config.docs_dir)
        blobs = self.repository.blobs_under(commit, docs)
        catalogues = f"{docs}/{CATALOGUE_FOLDER}/"
        found: list[Need] = []
        for path, blob in sorted(blobs.items()):
            inside = PurePosixPath(path).relative_to(docs)
            if inside.suffix != SOURCE_SUFFIX or any(
                part.startswith((".", "_")) for part in inside.parts
            ):
                continue  # what Sphinx does not read (EXCLUDED_SOURCES)
            docname = inside.with_suffix("").as_posix()
            if not self._shown(docname, documents):
                continue
            source = self._source(path, blob, docname)
            found.extend(source.needs)
            for key in source.catalogues:
                data = blobs.get(f"{catalogues}{key}.yaml")
                if data is not None:
                    found.extend(self._catalogue(f"{catalogues}{key}.yaml", data, docname))
        # The first of a duplicated id counts, as in the build (which warns).
        first: dict[str, Need] = {}
        for need in found:
            first.setdefault(need.id, need)
        return Graph.build(first.values())

    def _judge(
        self,
        config: QmsConfig,
        commit: str,
        documents: tuple[Document, ...],
        signed: tuple[Keyring, RegistryState],
        now: datetime,
        here: Repository | None,
    ) -> tuple[DocumentVerdict, ...]:
        """Each document's verdict: judged again only when what it was judged from changed."""
        repo = self.repository
        layout = SignatureLayout.of(config)
        own = {
            self._in_repo(config, layout.document_folder(d.id)): d.id for d in documents
        } | {
            self._in_repo(config, layout.retirement_folder(d.id)): d.id for d in documents
        }  # fmt: skip
        records: dict[str, list[str]] = {}
        shared: list[str] = [f"policy:{repo.object_id(commit, self._path('pyproject.toml'))}"]
        signatures = self._in_repo(config, config.signatures_path)
        for path, blob in sorted(repo.blobs_under(commit, signatures).items()):
            folder = path.rsplit("/", 2)[0]  # FOLDER/VERSION/FILE
            target = records.setdefault(own[folder], []) if folder in own else shared
            target.append(f"{path}:{blob}")
        keyring, registry = signed
        world = _digest(*shared, str(registry.trusted))
        verdicts: list[DocumentVerdict] = []
        for document in documents:
            content = document_content(config, document)
            key = _digest(
                document.path, content.sha256, *(f"{p}:{d}" for p, d in content.includes),
                *records.get(document.id, ()), world,
            )  # fmt: skip
            kept = self._verdicts.get(key)
            # A commit a record names is judged again against this point's history.
            if kept is not None and here is not None and all(map(here.is_ancestor, kept[1])):
                verdicts.append(kept[0])
                continue
            verdict = judge(config, document, keyring, registry, now, here)
            self._verdicts[key] = (verdict, _named(verdict))
            verdicts.append(verdict)
        return tuple(verdicts)

    def _verification(
        self, config: QmsConfig, commit: str, documents: tuple[Document, ...], now: datetime
    ) -> Verification:
        """The verdicts and training at `commit`; all kept while the docs, the signatures
        and the policy are those of a point already judged (only the day is new)."""
        here = open_repository(config.root)  # what its HEAD reaches is read afresh
        whole = "\0".join(self._key(config, commit))
        kept = self._judged.get(whole)
        reused = kept is not None and here is not None and all(map(here.is_ancestor, kept[2]))
        if kept is not None and reused and config.training is None:
            return Verification(kept[1], kept[0])
        layout = SignatureLayout.of(config)
        with (
            kept_keyring(layout.key_folders, None, self.repository, True) as keyring,
            kept_verifications(keyring, self.repository, True),
        ):
            if kept is None or not reused:
                registry = load_registry(config, keyring)
                verdicts = self._judge(config, commit, documents, (keyring, registry), now, here)
                named = frozenset(c for v in verdicts for c in _named(v))
                kept = (verdicts, registry, named)
                self._judged[whole] = kept
            verdicts, registry, _ = kept
            partial = self.document_set is not None
            training = training_of_documents(
                config, keyring, registry.history, verdicts, now.date(), partial
            ) if registry.trusted else None  # fmt: skip
        if training is None:
            return Verification(registry, verdicts)
        return Verification(
            registry, verdicts, (), "", training.by_document, training.facts,
            training.assignments,
        )  # fmt: skip

    def count(self, commit: str, on: date, now: datetime) -> Known:
        """The KPIs' counts at `commit` on `on`, judged at `now`."""
        config = load_config(self._tree(commit) / self.handbook)
        docs_tree = self._key(config, commit)[0]
        if docs_tree not in self._handbooks:
            self._handbooks[docs_tree] = load_handbook(config).documents
        docs = config.docs_path
        by_docname = {
            (config.root / d.path).relative_to(docs).with_suffix("").as_posix(): d
            for d in self._handbooks[docs_tree]
        }
        chosen = tuple(d for n, d in by_docname.items() if self._shown(n, by_docname))
        graph_key = f"{docs_tree}:{config.risk_acceptance_threshold}"
        if graph_key not in self._graphs:
            graph = self._graph(config, commit, by_docname)
            self._graphs[graph_key] = (graph, graph_part(graph, config.risk_acceptance_threshold))
        graph, part = self._graphs[graph_key]
        verification = self._verification(config, commit, chosen, now)
        whole = "\0".join(self._key(config, commit))
        if whole not in self._capas:
            self._capas[whole] = capa_signed(config, graph)
        facts = facts_of(config, graph, chosen, verification, on, self._capas[whole])
        return known_of(facts, (), part)
