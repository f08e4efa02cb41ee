"""Change impact: items and fingerprints, each document's approved baseline, suspect links.

The items come from the sources (model/need_source.py), now or as a commit holds them;
a document's baseline is what its last valid approval recorded (`qms-approval/3`), or,
for older statements, the fingerprints computed from git at the commit the approval
names. Assessments count only when their signature does (`verify_signed`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from qms.adapters.files import read_text
from qms.adapters.gpg import Keyring, hermetic_keyring
from qms.config import QmsConfig
from qms.model.approval import Meaning
from qms.model.approval_rules import DocumentVerdict
from qms.model.canonical import StatementError
from qms.model.catalogue import parse_catalogue
from qms.model.document import Document
from qms.model.findings import Finding, FindingCode
from qms.model.fingerprints import fingerprint, short
from qms.model.impact import (
    Assessment,
    Baseline,
    Basis,
    Link,
    LinkState,
    judge_link,
    recorded,
    upstream_ids,
    upstream_links,
)
from qms.model.need_source import Item, by_id, catalogue_items, parse_items
from qms.model.registry_history import RegistryHistory
from qms.model.signature_rules import Claim, RegisteredSigner
from qms.services.catalogues import CATALOGUE_FOLDER, load_catalogues
from qms.services.handbook import Handbook, display_path, load_handbook
from qms.services.history import CommittedSources, committed_sources
from qms.services.layout import STATEMENT_SUFFIX, SignatureLayout
from qms.services.signatures import prefetch, verify_signed
from qms.services.verify import Verification, verify_handbook


@dataclass(frozen=True)
class Items:
    """Every traceable item of a handbook: per controlled document, and the catalogues'."""

    by_document: Mapping[str, tuple[Item, ...]]
    catalogues: tuple[Item, ...] = ()

    @property
    def all(self) -> dict[str, Item]:
        """Every item by id."""
        return by_id([*self.catalogues, *(i for d in self.by_document.values() for i in d)])

    @property
    def fingerprints(self) -> dict[str, str]:
        """Every item's fingerprint by id."""
        return {item_id: fingerprint(item) for item_id, item in self.all.items()}

    def links(self, document_id: str) -> tuple[Link, ...]:
        """The upstream links of one document's items."""
        return upstream_links(document_id, self.by_document.get(document_id, ()))

    @property
    def holders(self) -> dict[str, str]:
        """Item id -> the id of the controlled document that holds it (the first, should
        two hold one id)."""
        found: dict[str, str] = {}
        for document_id, items in self.by_document.items():
            for item in items:
                found.setdefault(item.id, document_id)
        return found

    def document_of(self, item_id: str) -> str:
        """The id of the controlled document that holds an item ("" for none)."""
        return self.holders.get(item_id, "")


def handbook_items(config: QmsConfig, handbook: Handbook | None = None) -> Items:
    """The items of every controlled document and catalogue, as the working tree holds them."""
    handbook = handbook or load_handbook(config)
    documents = {
        d.id: parse_items(d.path, read_text(config.root / d.path)) for d in handbook.documents
    }
    loaded = load_catalogues(config.docs_path / CATALOGUE_FOLDER, config.root)
    catalogued = tuple(i for c in loaded.catalogues for i in catalogue_items(c))
    return Items(documents, catalogued)


def items_in(path: str, data: bytes) -> tuple[Item, ...]:
    """The items of one file's bytes: a catalogue (YAML in the catalogue folder) or a source."""
    text = data.decode("utf-8-sig", errors="replace")
    shown = PurePosixPath(path)
    if shown.suffix == ".yaml" and CATALOGUE_FOLDER in shown.parts:
        catalogue, _ = parse_catalogue(path, shown.stem, text)
        return tuple(catalogue_items(catalogue)) if catalogue is not None else ()
    return parse_items(path, text)


@dataclass
class _AtCommit:
    """Items read from commits, each file read once (several approvals share commits)."""

    sources: CommittedSources
    read: dict[tuple[str, str], tuple[Item, ...]] = field(default_factory=dict)

    def items(self, commit: str, paths: Iterable[str]) -> dict[str, Item]:
        found: list[Item] = []
        for path in sorted(set(paths)):
            key = (commit, path)
            if key not in self.read:
                try:
                    self.read[key] = items_in(path, self.sources.read(commit, path))
                except (KeyError, ValueError):
                    self.read[key] = ()  # the commit had no such file, or is unknown
            found.extend(self.read[key])
        return by_id(found)


def recorded_upstream(
    config: QmsConfig, document_id: str, commit: str, handbook: Handbook | None = None
) -> tuple[tuple[str, str], ...]:
    """What an approval of `document_id` at `commit` records: the fingerprint of each item
    it links to upstream, as that commit holds it (qms-approval/3 `upstream`)."""
    items = handbook_items(config, handbook)
    links = items.links(document_id)
    current = items.all
    sources = committed_sources(config)
    if sources is None:
        return recorded(links, items.fingerprints)
    then = _AtCommit(sources).items(
        commit, (current[i].path for i in upstream_ids(links) if i in current)
    )
    return recorded(links, {i: fingerprint(item) for i, item in then.items()})


def final_meaning(config: QmsConfig, document: Document) -> Meaning:
    """The signature that makes a version approved: the last its type requires."""
    rules = config.rules_for(document.type)
    return rules[-1].meaning if rules else Meaning.APPROVED


def baseline_of(
    config: QmsConfig,
    verdict: DocumentVerdict,
    links: Sequence[Link],
    current: Mapping[str, Item],
    at_commit: _AtCommit | None,
) -> Baseline | None:
    """What the document's last valid approval recorded of its upstream items (None: none).

    A statement before qms-approval/3 records nothing: the fingerprints are computed from
    git at its commit, reading the files that hold the upstream items now.
    """
    final = final_meaning(config, verdict.document)
    approvals = [
        v.record
        for v in verdict.verdicts
        if v.valid and v.record.statement is not None and v.record.statement.meaning == final
    ]
    if not approvals:
        return None
    record = max(approvals, key=lambda r: r.statement.signed_at if r.statement else datetime.min)
    statement = record.statement
    assert statement is not None
    if statement.upstream is not None:
        return Baseline(
            statement.version, statement.signed_at, dict(statement.upstream), Basis.STATEMENT
        )
    if not record.commit or at_commit is None:
        return None
    wanted = upstream_ids(links)
    then = at_commit.items(record.commit, (current[i].path for i in wanted if i in current))
    recorded = {i: fingerprint(then[i]) for i in wanted if i in then}
    return Baseline(statement.version, statement.signed_at, recorded, Basis.GIT, record.commit)


def assessor_roles(config: QmsConfig, document: Document) -> tuple[str, ...]:
    """Who may assess a link of a document: the roles that may review it (any signing role
    of its type when it takes no review)."""
    rules = config.rules_for(document.type)
    reviewed = [r for r in rules if r.meaning == Meaning.REVIEWED] or list(rules)
    return tuple(dict.fromkeys(role for r in reviewed for role in r.roles))


def assessment_files(config: QmsConfig) -> list[Path]:
    """Every assessment file, in order."""
    folder = SignatureLayout.of(config).impact
    return sorted(folder.glob(f"*/*{STATEMENT_SUFFIX}")) if folder.is_dir() else []


def _verified(
    config: QmsConfig,
    keyring: Keyring,
    history: RegistryHistory,
    documents: Mapping[str, Document],
    path: Path,
) -> tuple[Assessment | None, str]:
    """The assessment a file holds when its signature and signer count, else why not."""
    data = path.read_bytes()
    try:
        assessment = Assessment.from_bytes(data)
    except StatementError as exc:
        return None, str(exc)
    if path.parent.name != assessment.document_id:
        return None, f"names {assessment.document_id} but lies in the folder of {path.parent.name}"
    document = documents.get(assessment.document_id)
    if document is None:
        return None, f"{assessment.document_id} is not a document of this handbook"
    allowed = assessor_roles(config, document)
    if assessment.signer_role not in allowed:
        return None, (
            f"signed as {assessment.signer_role}; a link of a {document.type} is assessed by "
            f"one of {', '.join(allowed)}"
        )
    verdict = verify_signed(
        keyring,
        SignatureLayout.signature_of(path),
        data,
        Claim(assessment.signer_fingerprint, assessment.signed_at),
        RegisteredSigner(assessment.signer_role),
        history,
    )
    if not verdict.valid:
        return None, f"{assessment.item} → {assessment.upstream}: {verdict.problem}"
    return assessment, ""


def load_assessments(
    config: QmsConfig,
    keyring: Keyring,
    history: RegistryHistory,
    documents: Mapping[str, Document],
) -> tuple[tuple[Assessment, ...], tuple[Finding, ...]]:
    """Every assessment whose signature counts, and a finding per file that does not."""
    files = assessment_files(config)
    prefetch(keyring, ((SignatureLayout.signature_of(p), p.read_bytes()) for p in files))
    found: list[Assessment] = []
    findings: list[Finding] = []
    for path in files:
        assessment, problem = _verified(config, keyring, history, documents, path)
        if problem:
            shown = display_path(config.root, path)
            findings.append(Finding(shown, None, problem, FindingCode.IMPACT_ASSESSMENT))
        elif assessment is not None:
            found.append(assessment)
    return tuple(found), tuple(findings)


@dataclass(frozen=True)
class Impact:
    """Every upstream link judged, the findings on assessment files, and notes on baselines."""

    links: tuple[LinkState, ...]
    findings: tuple[Finding, ...] = ()
    # One line per document whose baseline was computed from git rather than recorded.
    notes: tuple[str, ...] = ()
    # Item id -> the id of the document that holds it, for every item of the handbook.
    holders: Mapping[str, str] = field(default_factory=dict)

    @property
    def suspect(self) -> tuple[LinkState, ...]:
        """The links awaiting re-approval or an assessment."""
        return tuple(s for s in self.links if s.suspect)

    def of_document(self, document_id: str) -> tuple[LinkState, ...]:
        """One document's links."""
        return tuple(s for s in self.links if s.link.document_id == document_id)

    def suspect_items(self) -> dict[str, tuple[LinkState, ...]]:
        """Downstream item id -> its suspect links."""
        found: dict[str, list[LinkState]] = {}
        for state in self.suspect:
            found.setdefault(state.link.item, []).append(state)
        return {k: tuple(v) for k, v in found.items()}

    def as_dict(self) -> dict[str, Any]:
        """As `qms impact --json` prints it."""
        return {
            "suspect": [s.as_dict() for s in self.suspect],
            "cleared": [s.as_dict() for s in self.links if s.state == "cleared"],
            "notes": list(self.notes),
            "findings": [f.render() for f in self.findings],
        }


def judge_impact(
    config: QmsConfig,
    verification: Verification,
    keyring: Keyring,
    items: Items,
) -> Impact:
    """Judge every upstream link of the verified documents.

    With an untrusted registry no approval or assessment counts: every link is unrecorded.
    """
    current = items.all
    fingerprints = items.fingerprints
    sources = committed_sources(config)
    at_commit = _AtCommit(sources) if sources is not None else None
    documents = {v.document.id: v.document for v in verification.verdicts}
    assessments: tuple[Assessment, ...] = ()
    findings: tuple[Finding, ...] = ()
    if verification.registry.trusted:
        assessments, findings = load_assessments(
            config, keyring, verification.registry.history, documents
        )
    states: list[LinkState] = []
    notes: list[str] = []
    for verdict in verification.verdicts:
        links = items.links(verdict.document.id)
        if not links:
            continue
        baseline = baseline_of(config, verdict, links, current, at_commit)
        if baseline is not None and baseline.basis == Basis.GIT:
            notes.append(
                f"{verdict.document.id} {baseline.version}: its approval records no "
                f"fingerprints (before qms-approval/3); computed from git at commit "
                f"{short(baseline.commit)}"
            )
        states.extend(judge_link(link, baseline, fingerprints, assessments) for link in links)
    return Impact(tuple(states), findings, tuple(notes), items.holders)


def impact_status(config: QmsConfig, now: datetime, handbook: Handbook | None = None) -> Impact:
    """Verify the handbook's approvals and assessments and judge every upstream link."""
    handbook = handbook or load_handbook(config)
    items = handbook_items(config, handbook)
    linking = [d for d in handbook.documents if items.links(d.id)]
    layout = SignatureLayout.of(config)
    with hermetic_keyring(*layout.key_folders) as keyring:
        verification = verify_handbook(config, handbook, linking, now=now, keyring=keyring)
        return judge_impact(config, verification, keyring, items)
