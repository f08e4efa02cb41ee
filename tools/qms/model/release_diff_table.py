"""A release comparison as titled tables: what the terminal and the auditor page both show."""

from __future__ import annotations

from dataclasses import dataclass

from qms.model.release_diff import ReleaseDiff, RiskChange


@dataclass(frozen=True)
class Section:
    """One titled table; `empty` is what a reader sees when it has no rows."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str


def _scores(scores: tuple[int | None, int | None] | None) -> str:
    if scores is None:
        return "-"
    product = RiskChange.product(scores)
    likelihood, impact = ("?" if s is None else str(s) for s in scores)
    return f"{likelihood}x{impact}" + (f" = {product}" if product is not None else "")


def sections(diff: ReleaseDiff) -> tuple[Section, ...]:
    """The comparison's tables, in reading order."""
    return (
        Section(
            "Documents added",
            ("Document", "Title", "Version"),
            tuple((d.id, d.title, d.version) for d in diff.added),
            "No document added.",
        ),
        Section(
            "Documents revised",
            ("Document", "Title", "From", "To", "Change reason"),
            tuple(
                (d.id, d.title, d.old_version, d.new_version, d.change_reason or "-")
                for d in diff.revised
            ),
            "No document revised.",
        ),
        Section(
            "Versions superseded",
            ("Document", "Version", "Superseded by"),
            tuple((s.id, s.version, s.in_force) for s in diff.superseded),
            "No version superseded.",
        ),
        Section(
            "Documents withdrawn",
            ("Document", "Title", "Last version"),
            tuple((d.id, d.title, d.version) for d in diff.withdrawn),
            "No document withdrawn.",
        ),
        Section(
            "Items added",
            ("Item", "Type", "Title", "Document"),
            tuple((i.id, i.type, i.title, i.document) for i in diff.items_added),
            "No item added.",
        ),
        Section(
            "Items changed",
            ("Item", "Type", "Title", "Document", "Changed"),
            tuple(
                (i.id, i.type, i.title, i.document, ", ".join(i.changed))
                for i in diff.items_changed
            ),
            "No item changed.",
        ),
        Section(
            "Items removed",
            ("Item", "Type", "Title", "Document"),
            tuple((i.id, i.type, i.title, i.document) for i in diff.items_removed),
            "No item removed.",
        ),
        Section(
            "SoA decisions changed",
            ("Control", "Title", "Field", "Before", "After"),
            tuple((s.id, s.title, s.field, s.old or "-", s.new or "-") for s in diff.soa),
            "No SoA decision changed.",
        ),
        Section(
            "Risk scores changed",
            ("Risk", "Title", "Stage", "Before", "After"),
            tuple((r.id, r.title, r.stage, _scores(r.old), _scores(r.new)) for r in diff.risks),
            "No risk score changed.",
        ),
        Section(
            "Signers added",
            ("Name", "Roles", "Registered from", "Key"),
            tuple((s.name, ", ".join(s.roles), s.at, s.fingerprint) for s in diff.signers_added),
            "No signer added.",
        ),
        Section(
            "Signers revoked",
            ("Name", "Roles", "Revoked at", "Reason", "Key"),
            tuple(
                (s.name, ", ".join(s.roles), s.at, s.reason, s.fingerprint)
                for s in diff.signers_revoked
            ),
            "No signer revoked.",
        ),
    )
