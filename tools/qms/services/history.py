"""Document history from git: every revision of every document, followed by id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date, datetime

from qms.adapters.files import SOURCE_SUFFIX, is_site_page
from qms.adapters.git import Repository, open_repository
from qms.config import QmsConfig
from qms.model.document import Document, Version
from qms.model.frontmatter import parse_document
from qms.model.status import Evidence
from qms.services.content import sha256_of
from qms.services.handbook import StatusRow, status_of


@dataclass(frozen=True)
class Revision:
    """A document as one commit left it."""

    document_id: str
    commit: str
    author: str
    email: str
    when: datetime
    path: str
    document: Document | None  # None when deleted, or when the front matter was broken
    content_sha256: str = ""

    @property
    def deleted(self) -> bool:
        """Whether this commit removed the document."""
        return not self.content_sha256

    @property
    def version(self) -> Version | None:
        """The version the commit recorded, when readable."""
        return self.document.version if self.document else None


@dataclass(frozen=True)
class VersionSpan:
    """All revisions of one document at one version, oldest first."""

    version: Version
    revisions: tuple[Revision, ...]

    @property
    def first(self) -> Revision:
        """The commit that introduced the version."""
        return self.revisions[0]

    @property
    def last(self) -> Revision:
        """The last commit at this version."""
        return self.revisions[-1]


def document_revisions(config: QmsConfig, repo: Repository) -> dict[str, list[Revision]]:
    """Every committed revision of every document, by id, oldest first.

    A document is followed by the id in its front matter, so renames and moves
    keep its history; a deleted file ends its lineage with a deletion.
    """
    docs_folder = config.docs_path.resolve().relative_to(repo.root.resolve()).as_posix()
    handbook_prefix = config.root.resolve().relative_to(repo.root.resolve()).as_posix()
    at_path: dict[str, str] = {}
    found: dict[str, list[Revision]] = {}
    for change in repo.changes(docs_folder, SOURCE_SUFFIX):
        docname = change.path[len(docs_folder) + 1 : -len(SOURCE_SUFFIX)]
        if is_site_page(docname, config.site_pages) or any(
            part.startswith(("_", ".")) for part in docname.split("/")
        ):
            continue
        shown = change.path if handbook_prefix == "." else change.path[len(handbook_prefix) + 1 :]
        previous = at_path.pop(change.path, None)
        common = (change.commit, change.author, change.email, change.when, shown)
        if change.data is None:
            if previous is not None:
                found[previous].append(Revision(previous, *common, None))
            continue
        try:
            text = change.data.decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        result = parse_document(shown, text)
        doc_id = result.document.id if result.document else result.raw_id
        if doc_id is None:
            continue
        if previous is not None and previous != doc_id:
            found[previous].append(Revision(previous, *common, None))
        at_path[change.path] = doc_id
        found.setdefault(doc_id, []).append(
            Revision(doc_id, *common, result.document, sha256_of(change.data))
        )
    return found


@dataclass(frozen=True)
class CommittedSources:
    """Handbook files as commits hold them, named by their path under the handbook root."""

    repo: Repository
    # The handbook root's folder inside the repository ("." at its top).
    prefix: str

    def read(self, commit: str, path: str) -> bytes:
        """The bytes of `path` in `commit` (KeyError when the commit has no such file)."""
        return self.repo.file_at(commit, path if self.prefix == "." else f"{self.prefix}/{path}")


def committed_sources(config: QmsConfig) -> CommittedSources | None:
    """The handbook's files in git, or None when the handbook is not in a git repository."""
    repo = open_repository(config.root)
    if repo is None:
        return None
    prefix = config.root.resolve().relative_to(repo.root.resolve()).as_posix()
    return CommittedSources(repo, prefix)


def version_spans(revisions: Sequence[Revision]) -> list[VersionSpan]:
    """Group a document's revisions into consecutive runs of the same version."""
    spans: list[VersionSpan] = []
    for revision in revisions:
        version = revision.version
        if version is None:
            continue
        if spans and spans[-1].version == version:
            spans[-1] = VersionSpan(version, (*spans[-1].revisions, revision))
        else:
            spans.append(VersionSpan(version, (revision,)))
    return spans


@dataclass(frozen=True)
class Withdrawal:
    """A document taken out of the handbook: its last readable version and the deletion."""

    row: StatusRow  # the last readable version, with the status RETIRED
    when: datetime
    commit: str


def withdrawn(
    config: QmsConfig,
    revisions: Mapping[str, Sequence[Revision]],
    current: Set[str],
    on: date,
) -> list[Withdrawal]:
    """Documents whose history ends in a deletion and whose id is not in the handbook now.

    `current` holds the ids of the documents in the working copy: a document moved to
    another file in one commit may record its deletion after its new revision.
    """
    found: list[Withdrawal] = []
    for doc_id, lineage in sorted(revisions.items()):
        if doc_id in current or not lineage or not lineage[-1].deleted:
            continue
        last = next((r.document for r in reversed(lineage) if r.document is not None), None)
        if last is None:
            continue
        row = status_of(last, config, on, Evidence(retired=True))
        found.append(Withdrawal(row, lineage[-1].when, lineage[-1].commit))
    return found
