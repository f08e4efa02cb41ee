"""Document status, derived from verified approvals and dates; never declared by authors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from qms.model.document import Document


class Status(StrEnum):
    """The lifecycle states a reader can see."""

    DRAFT = "draft"
    NOT_APPROVED = "not approved"
    IN_REVIEW = "in review"
    APPROVED = "approved"
    EFFECTIVE = "effective"
    SUPERSEDED = "superseded"
    RETIRED = "retired"


@dataclass(frozen=True)
class Evidence:
    """What verification established about one document version.

    `meanings` holds the signature meanings (authored, reviewed, approved) whose
    records verified against the document's current content. `stale` is true when
    some record verified for this id and version but over different content: the
    document was edited after it was signed.
    """

    meanings: frozenset[str] = frozenset()
    stale: bool = False
    superseded: bool = False
    retired: bool = False
    # The effectiveness gate: the share of affected people who must be trained before
    # the version counts as in force (0: no gate), and (trained, affected) so far.
    gate: float = 0.0
    trained: tuple[int, int] = (0, 0)
    # Risk owner roles the document names whose signature is still missing (approval
    # rule `risk_owners`, ISO/IEC 27001 6.1.3 e): until none is, it stays in review.
    awaiting_owners: tuple[str, ...] = ()


NO_EVIDENCE = Evidence()


@dataclass(frozen=True)
class DerivedStatus:
    """A status plus the one-line reason a reader is shown for it."""

    status: Status
    reason: str
    # The risk owner roles whose signature the document still awaits (see Evidence).
    awaiting_owners: tuple[str, ...] = ()


def derive_status(
    document: Document,
    evidence: Evidence,
    required: Sequence[str],
    today: date,
) -> DerivedStatus:
    """The single place where a document's status is decided."""
    if evidence.retired:
        return DerivedStatus(Status.RETIRED, "withdrawn from use")
    if evidence.superseded:
        return DerivedStatus(Status.SUPERSEDED, "a later version is effective")
    if evidence.stale and not evidence.meanings:
        return DerivedStatus(
            Status.NOT_APPROVED,
            f"content changed after it was signed; version {document.version} needs "
            "a version bump and new signatures",
        )
    missing = [meaning for meaning in required if meaning not in evidence.meanings]
    if evidence.awaiting_owners:
        missing.append("risk owners " + ", ".join(evidence.awaiting_owners))
    owners = evidence.awaiting_owners
    if not evidence.meanings:
        return DerivedStatus(Status.DRAFT, "no verified signatures", owners)
    if missing:
        return DerivedStatus(Status.IN_REVIEW, "awaiting " + ", ".join(missing), owners)
    if document.effective is None:
        return DerivedStatus(Status.APPROVED, "approved; no effective date set")
    if document.effective > today:
        return DerivedStatus(Status.APPROVED, f"approved; effective from {document.effective}")
    done, affected = evidence.trained
    if evidence.gate and affected and done < evidence.gate * affected:
        return DerivedStatus(
            Status.APPROVED,
            f"approved; effective once {evidence.gate:.0%} of the affected staff are trained "
            f"({done} of {affected} so far)",
        )
    return DerivedStatus(Status.EFFECTIVE, "approved and in force")


def add_months(start: date, months: int) -> date:
    """`start` plus whole calendar months, clamped to the end of shorter months."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {start}")  # unreachable for valid dates


def next_review(document: Document) -> date | None:
    """When the periodic review is due: effective date plus the review interval."""
    if document.effective is None:
        return None
    return add_months(document.effective, document.review_months)
