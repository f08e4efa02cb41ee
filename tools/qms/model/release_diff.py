"""What changed from one release to another: documents, items, SoA, risk scores, signers."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from qms.model.document import Version
from qms.model.need_blocks import NeedBlock
from qms.model.registry_history import RegistryHistory
from qms.model.timeutil import format_utc
from qms.model.traceability import STAGES, Need, RiskRow
from qms.model.vocabulary import CONTROL, RISK

# The SoA decision of a control, as the SoA shows it.
SOA_FIELDS = ("applicable", "implementation", "justification")
# The lists of a ReleaseDiff, in the order a reader meets them.
LISTS = (
    "added", "revised", "superseded", "withdrawn", "items_added", "items_changed",
    "items_removed", "soa", "risks", "signers_added", "signers_revoked",
)  # fmt: skip


@dataclass(frozen=True)
class PublishedDocument:
    """One document as a release publishes it: the version in force and its items."""

    id: str
    title: str
    version: str
    change_reason: str = ""
    superseded: tuple[str, ...] = ()
    blocks: tuple[NeedBlock, ...] = ()


@dataclass(frozen=True)
class ReleaseSide:
    """One verified release: its name, time, commit and the documents of all its sets."""

    name: str
    created: datetime
    commit: str
    documents: tuple[PublishedDocument, ...]


@dataclass(frozen=True)
class DocumentEntry:
    """A document added or withdrawn."""

    id: str
    title: str
    version: str


@dataclass(frozen=True)
class Revised:
    """A document published at another version."""

    id: str
    title: str
    old_version: str
    new_version: str
    change_reason: str


@dataclass(frozen=True)
class Superseded:
    """A version that the newer release carries as superseded and the older did not."""

    id: str
    version: str
    in_force: str


@dataclass(frozen=True)
class ItemEntry:
    """An item added or removed, and the document that declares it."""

    id: str
    type: str
    title: str
    document: str


@dataclass(frozen=True)
class ItemChange:
    """An item present in both releases whose content differs, and what differs."""

    id: str
    type: str
    title: str
    document: str
    changed: tuple[str, ...]


@dataclass(frozen=True)
class SoaChange:
    """A control whose SoA decision differs ("" for a side without the control)."""

    id: str
    title: str
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class RiskChange:
    """A risk whose likelihood or impact at one stage differs (None: not scored there)."""

    id: str
    title: str
    stage: str
    old: tuple[int | None, int | None] | None
    new: tuple[int | None, int | None] | None

    @staticmethod
    def product(scores: tuple[int | None, int | None] | None) -> int | None:
        """Likelihood times impact, when both are set."""
        if scores is None or scores[0] is None or scores[1] is None:
            return None
        return scores[0] * scores[1]


@dataclass(frozen=True)
class SignerChange:
    """A signer registered, or revoked, between the two releases."""

    fingerprint: str
    name: str
    roles: tuple[str, ...]
    at: str
    reason: str = ""


@dataclass(frozen=True)
class ReleaseDiff:
    """Everything that differs between two releases, each list sorted by id."""

    old: str
    new: str
    old_commit: str
    new_commit: str
    added: tuple[DocumentEntry, ...]
    revised: tuple[Revised, ...]
    superseded: tuple[Superseded, ...]
    withdrawn: tuple[DocumentEntry, ...]
    items_added: tuple[ItemEntry, ...]
    items_changed: tuple[ItemChange, ...]
    items_removed: tuple[ItemEntry, ...]
    soa: tuple[SoaChange, ...]
    risks: tuple[RiskChange, ...]
    signers_added: tuple[SignerChange, ...]
    signers_revoked: tuple[SignerChange, ...]

    @property
    def empty(self) -> bool:
        """Whether nothing at all changed."""
        return not any(getattr(self, name) for name in LISTS)

    def as_dict(self) -> dict[str, Any]:
        """The `--json` shape."""
        data = asdict(self)
        for change in data["risks"]:
            for side in ("old", "new"):
                scores = change[side]
                change[side] = (
                    None
                    if scores is None
                    else {
                        "likelihood": scores[0],
                        "impact": scores[1],
                        "score": RiskChange.product(tuple(scores)),
                    }
                )
        return data


def _items(side: ReleaseSide) -> dict[str, tuple[NeedBlock, PublishedDocument]]:
    return {b.need.id: (b, d) for d in side.documents for b in d.blocks if b.need.id}


def _differences(old: NeedBlock, new: NeedBlock) -> tuple[str, ...]:
    changed = ["title"] if old.need.title != new.need.title else []
    old_fields, new_fields = dict(old.need.fields), dict(new.need.fields)
    changed += [
        n
        for n in sorted(old_fields.keys() | new_fields.keys())
        if old_fields.get(n) != new_fields.get(n)
    ]
    old_links, new_links = dict(old.need.links), dict(new.need.links)
    changed += [
        n for n in sorted(old_links.keys() | new_links.keys())
        if set(old_links.get(n, ())) != set(new_links.get(n, ()))
    ]  # fmt: skip
    if old.need.type != new.need.type:
        changed.insert(0, "type")
    if old.body != new.body:
        changed.append("text")
    return tuple(changed)


def _decision(control: Need | None) -> str:
    if control is None:
        return ""
    return "; ".join(f"{n}: {control.text(n)}" for n in SOA_FIELDS[:2] if control.text(n))


def _soa(old: Need | None, new: Need | None) -> list[SoaChange]:
    shown = new or old
    if shown is None:
        return []
    if old is None or new is None:
        # A control added or removed is one decision taken or dropped, not three fields.
        return [SoaChange(shown.id, shown.title, "decision", _decision(old), _decision(new))]
    return [
        SoaChange(shown.id, shown.title, name, old.text(name), new.text(name))
        for name in SOA_FIELDS
        if old.text(name) != new.text(name)
    ]


def _scored(scores: tuple[int | None, int | None]) -> tuple[int | None, int | None] | None:
    """A stage's scores; None when the risk is not scored at that stage at all."""
    return None if scores == (None, None) else scores


def _risk(old: Need | None, new: Need | None) -> list[RiskChange]:
    shown = new or old
    if shown is None:
        return []
    changes = []
    for stage in STAGES:
        before = _scored(RiskRow(old, ()).scores(stage)) if old else None
        after = _scored(RiskRow(new, ()).scores(stage)) if new else None
        if before != after:
            changes.append(RiskChange(shown.id, shown.title, stage, before, after))
    return changes


def _documents(old: ReleaseSide, new: ReleaseSide) -> dict[str, Any]:
    before = {d.id: d for d in old.documents}
    after = {d.id: d for d in new.documents}
    revised = []
    superseded = []
    for ident in sorted(before.keys() & after.keys()):
        was, now = before[ident], after[ident]
        if was.version != now.version:
            revised.append(Revised(ident, now.title, was.version, now.version, now.change_reason))
        # The older release's version in force is one the newer carries superseded.
        extra = set(now.superseded) - set(was.superseded)
        if was.version != now.version:
            extra.add(was.version)
        superseded += [
            Superseded(ident, v, now.version)
            for v in sorted(extra, key=Version.parse)
            if v != now.version
        ]
    return {
        "added": tuple(
            DocumentEntry(i, after[i].title, after[i].version)
            for i in sorted(after.keys() - before.keys())
        ),
        "withdrawn": tuple(
            DocumentEntry(i, before[i].title, before[i].version)
            for i in sorted(before.keys() - after.keys())
        ),
        "revised": tuple(revised),
        "superseded": tuple(superseded),
    }


def signer_changes(
    history: RegistryHistory, old: datetime, new: datetime
) -> tuple[tuple[SignerChange, ...], tuple[SignerChange, ...]]:
    """Signers registered in force at `new` and not at `old`; signers whose revocation
    (as the latest revision dates it: a revocation is recorded after the fact) falls
    after `old` and at or before `new`."""
    before, after, latest = history.in_force_at(old), history.in_force_at(new), history.latest
    known = {s.fingerprint for s in before.signers} if before else set()
    added = tuple(
        SignerChange(s.fingerprint, s.name, s.roles, format_utc(s.valid_from))
        for s in sorted(after.signers if after else (), key=lambda s: s.fingerprint)
        if s.fingerprint not in known
    )
    revoked = tuple(
        SignerChange(s.fingerprint, s.name, s.roles, format_utc(s.revoked_at), s.revoked_reason)
        for s in sorted(latest.signers if latest else (), key=lambda s: s.fingerprint)
        if s.revoked_at is not None and old < s.revoked_at <= new
    )
    return added, revoked


def compare_releases(
    old: ReleaseSide,
    new: ReleaseSide,
    signers: tuple[tuple[SignerChange, ...], tuple[SignerChange, ...]] = ((), ()),
) -> ReleaseDiff:
    """The differences from `old` to `new`."""
    before, after = _items(old), _items(new)
    changed = []
    soa: list[SoaChange] = []
    risks: list[RiskChange] = []
    for ident in sorted(before.keys() | after.keys()):
        was = before[ident][0] if ident in before else None
        now = after[ident][0] if ident in after else None
        if was is not None and now is not None:
            differences = _differences(was, now)
            if differences:
                changed.append(
                    ItemChange(
                        ident, now.need.type, now.need.title, after[ident][1].id, differences
                    )
                )
        was_need = was.need if was else None
        now_need = now.need if now else None
        if CONTROL in {n.type for n in (was_need, now_need) if n}:
            soa += _soa(was_need if was_need and was_need.type == CONTROL else None,
                        now_need if now_need and now_need.type == CONTROL else None)  # fmt: skip
        if RISK in {n.type for n in (was_need, now_need) if n}:
            risks += _risk(was_need if was_need and was_need.type == RISK else None,
                           now_need if now_need and now_need.type == RISK else None)  # fmt: skip
    return ReleaseDiff(
        old=old.name,
        new=new.name,
        old_commit=old.commit,
        new_commit=new.commit,
        **_documents(old, new),
        items_added=tuple(
            ItemEntry(i, after[i][0].need.type, after[i][0].need.title, after[i][1].id)
            for i in sorted(after.keys() - before.keys())
        ),
        items_changed=tuple(changed),
        items_removed=tuple(
            ItemEntry(i, before[i][0].need.type, before[i][0].need.title, before[i][1].id)
            for i in sorted(before.keys() - after.keys())
        ),
        soa=tuple(soa),
        risks=tuple(risks),
        signers_added=signers[0],
        signers_revoked=signers[1],
    )
