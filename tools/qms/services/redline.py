"""The diff service: a document's redline between two versions (or the working copy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from qms.adapters.files import read_text
from qms.adapters.git import Repository, open_repository
from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.document import Document, Version
from qms.model.impact import ItemChange, Link, downstream_of, item_changes
from qms.model.need_source import parse_items
from qms.model.redline import Change, redline, unified
from qms.services.change_control import change_control
from qms.services.handbook import load_handbook, select
from qms.services.history import VersionSpan, version_spans
from qms.services.impact import handbook_items
from qms.services.templates import render

WORKING_COPY = "working copy"


@dataclass(frozen=True)
class Redline:
    """Two states of a document and the changes between them."""

    document: Document
    old_label: str
    new_label: str
    changes: list[Change]
    # The items the change adds, modifies or removes, and the links of other documents to
    # them, which become suspect once the change is in (change impact).
    items: tuple[ItemChange, ...] = ()
    impacted: tuple[Link, ...] = ()

    def unified(self) -> list[str]:
        """The changes as unified-diff lines, headed by the two labels."""
        return unified(self.changes, self.old_label, self.new_label)

    def impact_lines(self) -> list[str]:
        """The items changed and the downstream links that become suspect, for a terminal."""
        lines = [f"Items changed: {len(self.items)}"]
        lines += [f"  {c.kind:8} {c.id} ({c.type}) {c.title}" for c in self.items]
        documents = sorted({link.document_id for link in self.impacted})
        lines.append(
            f"Will become suspect: {_count(len(self.impacted), 'link')} of "
            f"{_count(len(documents), 'document')}"
            + (f" ({', '.join(documents)})" if documents else "")
        )
        lines += [
            f"  {link.document_id}: {link.item} {link.link} {link.upstream}  "
            f"({link.path}:{link.line})"
            for link in self.impacted
        ]
        return lines

    def html_page(self) -> str:
        """A self-contained HTML page with insertions and deletions marked (inline CSS, no
        scripts, everything escaped)."""
        changes = self.changes
        return render(
            "redline.html",
            title=f"{self.document.id} {self.document.title}: redline",
            subtitle=f"From {self.old_label} to {self.new_label}.",
            changes=changes,
            inserted=sum(c.kind in ("insert", "change") for c in changes),
            deleted=sum(c.kind in ("delete", "change") for c in changes),
            items=self.items,
            impacted=self.impacted,
            documents=sorted({link.document_id for link in self.impacted}),
        )


def _count(number: int, word: str) -> str:
    return f"{number} {word}" + ("" if number == 1 else "s")


def _version(text: str) -> Version:
    try:
        return Version.parse(text)
    except ValueError as exc:
        raise QmsError(f"{text!r} is not a version", "write it like 1.2") from exc


def _text_of(config: QmsConfig, repo: Repository, span: VersionSpan) -> str:
    prefix = config.root.resolve().relative_to(repo.root.resolve()).as_posix()
    path = span.last.path if prefix == "." else f"{prefix}/{span.last.path}"
    return repo.file_at(span.last.commit, path).decode("utf-8-sig")


def document_redline(
    config: QmsConfig,
    document_id: str,
    now: datetime,
    old: str | None = None,
    new: str | None = None,
) -> Redline:
    """Compare two versions; by default the last approved one and the working copy."""
    handbook = load_handbook(config)
    [document] = select(handbook.documents, [document_id])
    repo = open_repository(config.root)
    if repo is None:
        raise QmsError("the handbook is not in a git repository", "versions come from git history")
    control = change_control(config, handbook, [document], now=now)
    spans = {span.version: span for span in version_spans(control.revisions.get(document.id, []))}
    if old is None:
        approved = [a.version for a in control.approvals[document.id].values() if a.complete]
        if not approved:
            raise QmsError(
                f"{document.id} has no approved version to compare with", "pass --from VERSION"
            )
        old = str(max(approved))

    def state(label: str | None) -> tuple[str, str]:
        if label is None or label == WORKING_COPY:
            return read_text(config.root / document.path), WORKING_COPY
        span = spans.get(_version(label))
        if span is None:
            known = ", ".join(str(v) for v in sorted(spans)) or "none"
            raise QmsError(
                f"{document.id} has no committed version {label}", f"versions in git: {known}"
            )
        return _text_of(config, repo, span), f"version {span.version} ({span.last.commit[:12]})"

    old_text, old_label = state(old)
    new_text, new_label = state(new)
    items = item_changes(parse_items(document.path, old_text), parse_items(document.path, new_text))
    current = handbook_items(config, handbook)
    links = [link for d in current.by_document for link in current.links(d)]
    return Redline(
        document,
        old_label,
        new_label,
        redline(old_text, new_text),
        items,
        downstream_of(items, links, document.id),
    )
