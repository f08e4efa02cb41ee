"""Change impact: upstream links, suspect links and signed impact assessments (`qms-impact/1`).

A document links upstream through its items: what its controls implement or mitigate,
what its procedures and evidence implement or demonstrate. Its approval records the
fingerprint of each item it links to (`qms-approval/3`). A link is suspect when the
upstream item's fingerprint now differs from the one recorded at the document's last
approval, until the document is approved again or a reviewer signs an assessment that
binds both fingerprints: a later edit of the upstream item makes the link suspect again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from qms.model.canonical import canonical_json, parse_canonical, worded
from qms.model.fingerprints import fingerprint
from qms.model.need_source import Item
from qms.model.timeutil import format_utc, parse_utc
from qms.model.vocabulary import DEMONSTRATES, IMPLEMENTS, MITIGATES

SCHEMA = "qms-impact/1"
# The links a document's approval answers for: its items' links to what they serve.
UPSTREAM_LINKS = (IMPLEMENTS, MITIGATES, DEMONSTRATES)


class Decision(StrEnum):
    """What the reviewer decided of a suspect link."""

    NO_CHANGE = "no-change"
    CHANGE = "change"


class Basis(StrEnum):
    """Where the fingerprints recorded at an approval come from."""

    # qms-approval/3: the statement itself records them.
    STATEMENT = "statement"
    # Statements before version 3: computed from git at the approval's recorded commit.
    GIT = "git"


@dataclass(frozen=True)
class Link:
    """One upstream link of a document: `item` (in `document_id`) `link` `upstream`."""

    document_id: str
    item: str
    link: str
    upstream: str
    path: str = ""
    line: int = 0


def upstream_links(document_id: str, items: Iterable[Item]) -> tuple[Link, ...]:
    """The upstream links of a document's items, in source order, each once."""
    found: dict[tuple[str, str, str], Link] = {}
    for item in items:
        for link in UPSTREAM_LINKS:
            for target in item.targets(link):
                key = (item.id, link, target)
                found.setdefault(
                    key, Link(document_id, item.id, link, target, item.path, item.line)
                )
    return tuple(found.values())


def upstream_ids(links: Iterable[Link]) -> tuple[str, ...]:
    """The upstream item ids of some links, sorted, each once."""
    return tuple(sorted({link.upstream for link in links}))


def recorded(links: Sequence[Link], fingerprints: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """What an approval records: each upstream item that exists, with its fingerprint."""
    return tuple((i, fingerprints[i]) for i in upstream_ids(links) if i in fingerprints)


@dataclass(frozen=True)
class Assessment:
    """A reviewer's signed judgement of one suspect link, bound to both fingerprints."""

    document_id: str
    item: str
    upstream: str
    # The upstream fingerprint recorded at the document's approval, and the one assessed.
    recorded_fingerprint: str
    assessed_fingerprint: str
    decision: Decision
    # The change (a change request, CAPA or document version) when one is needed.
    ref: str
    reason: str
    signer_name: str
    signer_fingerprint: str
    signer_role: str
    signed_at: datetime

    # The words of the meaning the signer confirmed (model/ceremony.py); "" in a statement
    # made before they were recorded (issue 18), whose bytes stay as they were.
    wording: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (the canonical field set)."""
        return {
            "schema": SCHEMA,
            "document_id": self.document_id,
            "item": self.item,
            "upstream": self.upstream,
            "recorded_fingerprint": self.recorded_fingerprint,
            "assessed_fingerprint": self.assessed_fingerprint,
            "decision": str(self.decision),
            "ref": self.ref,
            "reason": self.reason,
            "signer_name": self.signer_name,
            "signer_fingerprint": self.signer_fingerprint,
            "signer_role": self.signer_role,
            "signed_at": format_utc(self.signed_at),
        }

    def to_bytes(self) -> bytes:
        """Canonical bytes, as every signed statement."""
        return canonical_json(worded(self.as_dict(), self.wording))

    @classmethod
    def from_bytes(cls, data: bytes) -> Assessment:
        """Parse an assessment; refuse anything that is not exactly canonical."""
        return parse_canonical(data, SCHEMA, "impact assessment", cls._parse, "impact")

    @classmethod
    def _parse(cls, raw: dict[str, Any]) -> Assessment:
        return cls(
            document_id=raw["document_id"],
            item=raw["item"],
            upstream=raw["upstream"],
            recorded_fingerprint=raw["recorded_fingerprint"],
            assessed_fingerprint=raw["assessed_fingerprint"],
            decision=Decision(raw["decision"]),
            ref=raw["ref"],
            reason=raw["reason"],
            signer_name=raw["signer_name"],
            signer_fingerprint=raw["signer_fingerprint"],
            signer_role=raw["signer_role"],
            signed_at=parse_utc(raw["signed_at"]),
            wording=raw.get("wording", ""),
        )

    def clears(self, link: Link, recorded_fingerprint: str, current: str) -> bool:
        """Whether this assessment answers for `link` between these two fingerprints."""
        return (
            (self.document_id, self.item, self.upstream)
            == (link.document_id, link.item, link.upstream)
            and self.recorded_fingerprint == recorded_fingerprint
            and self.assessed_fingerprint == current
        )


def decision_refusal(decision: Decision, ref: str, reason: str) -> str:
    """Why an assessment cannot be signed as given ("" when it can)."""
    if not reason.strip():
        return "an assessment gives its reason"
    if decision == Decision.CHANGE and not ref.strip():
        return "a 'change' decision names the change (--ref)"
    return ""


class State(StrEnum):
    """A link's state against its document's last approval."""

    CURRENT = "current"
    SUSPECT = "suspect"
    CLEARED = "cleared"
    # No approval records a fingerprint for it: nothing to compare with.
    UNRECORDED = "unrecorded"


@dataclass(frozen=True)
class Baseline:
    """What a document's last approval recorded of its upstream items."""

    version: str
    signed_at: datetime
    fingerprints: Mapping[str, str]
    basis: Basis
    # The commit they were computed at (Basis.GIT only).
    commit: str = ""


@dataclass(frozen=True)
class LinkState:
    """One upstream link judged: what was recorded, what it is now, what cleared it."""

    link: Link
    state: State
    recorded: str = ""
    current: str = ""
    baseline: Baseline | None = None
    assessment: Assessment | None = None

    @property
    def suspect(self) -> bool:
        """The link awaits re-approval or an assessment."""
        return self.state == State.SUSPECT

    def as_dict(self) -> dict[str, Any]:
        """As `qms impact --json` prints it."""
        base = self.baseline
        done = self.assessment
        return {
            "document": self.link.document_id,
            "item": self.link.item,
            "link": self.link.link,
            "upstream": self.link.upstream,
            "state": str(self.state),
            "recorded_fingerprint": self.recorded,
            "current_fingerprint": self.current,
            "approved_version": base.version if base else "",
            "approved_at": format_utc(base.signed_at) if base else "",
            "recorded_from": str(base.basis) if base else "",
            "assessment": (
                {
                    "decision": str(done.decision),
                    "ref": done.ref,
                    "reason": done.reason,
                    "by": done.signer_name,
                    "role": done.signer_role,
                    "signed_at": format_utc(done.signed_at),
                }
                if done
                else None
            ),
            "path": self.link.path,
            "line": self.link.line,
        }


def judge_link(
    link: Link,
    baseline: Baseline | None,
    current: Mapping[str, str],
    assessments: Sequence[Assessment],
) -> LinkState:
    """One link against its document's last approval and the valid assessments.

    An upstream item that no longer exists has fingerprint "", which differs from any
    recorded one: its link is suspect.
    """
    if baseline is None or link.upstream not in baseline.fingerprints:
        return LinkState(link, State.UNRECORDED, current=current.get(link.upstream, ""))
    was, now = baseline.fingerprints[link.upstream], current.get(link.upstream, "")
    if was == now:
        return LinkState(link, State.CURRENT, was, now, baseline)
    # Only assessments signed after the approval answer for it.
    cleared = [
        a for a in assessments if a.signed_at >= baseline.signed_at and a.clears(link, was, now)
    ]
    if cleared:
        latest = max(cleared, key=lambda a: a.signed_at)
        return LinkState(link, State.CLEARED, was, now, baseline, latest)
    return LinkState(link, State.SUSPECT, was, now, baseline)


@dataclass(frozen=True)
class ItemChange:
    """An item a change of a document adds, modifies or removes (whitespace never counts)."""

    id: str
    type: str
    title: str
    kind: str  # "added", "changed" or "removed"


def item_changes(old: Sequence[Item], new: Sequence[Item]) -> tuple[ItemChange, ...]:
    """What changes between two states of one document's items, by fingerprint, in id order."""
    before = {i.id: i for i in old}
    after = {i.id: i for i in new}
    found: list[ItemChange] = []
    for item_id in sorted(before.keys() | after.keys()):
        was, now = before.get(item_id), after.get(item_id)
        if was is None and now is not None:
            found.append(ItemChange(item_id, now.type, now.title, "added"))
        elif now is None and was is not None:
            found.append(ItemChange(item_id, was.type, was.title, "removed"))
        elif was is not None and now is not None and fingerprint(was) != fingerprint(now):
            found.append(ItemChange(item_id, now.type, now.title, "changed"))
    return tuple(found)


def downstream_of(
    changes: Iterable[ItemChange], links: Iterable[Link], document_id: str
) -> tuple[Link, ...]:
    """The links of other documents to a changed or removed item: suspect once it is in.

    The changed document's own links are not listed: its next approval records them anew.
    """
    touched = {c.id for c in changes if c.kind != "added"}
    return tuple(
        sorted(
            (lk for lk in links if lk.upstream in touched and lk.document_id != document_id),
            key=lambda lk: (lk.upstream, lk.document_id, lk.item),
        )
    )
