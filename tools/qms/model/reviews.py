"""Periodic reviews: which documents are overdue, or due within a window, on a given date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from qms.model.document import Document
from qms.model.status import next_review


@dataclass(frozen=True)
class DueReview:
    """One document whose periodic review is overdue or falls due within the window."""

    days: int  # until the review is due; negative when overdue
    id: str
    title: str
    due: date
    owner: str

    @property
    def overdue(self) -> bool:
        """Whether the review date has passed."""
        return self.days < 0

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {
            "id": self.id,
            "title": self.title,
            "due": self.due.isoformat(),
            "owner": self.owner,
            "days": self.days,
            "state": "overdue" if self.overdue else "due",
        }


@dataclass(frozen=True)
class Reviews:
    """The reviews due on `on` within `within` days, soonest (most overdue) first."""

    on: date
    within: int
    due: tuple[DueReview, ...]

    @property
    def overdue(self) -> tuple[DueReview, ...]:
        """The reviews whose date has passed."""
        return tuple(review for review in self.due if review.overdue)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {
            "date": self.on.isoformat(),
            "within_days": self.within,
            "reviews": [review.as_dict() for review in self.due],
        }


def due_reviews(documents: Iterable[Document], on: date, within: int) -> Reviews:
    """The documents whose review (effective date plus review_months) is due by `on + within`."""
    due = []
    for document in documents:
        review = next_review(document)
        if review is None:
            continue
        days = (review - on).days
        if days <= within:
            due.append(DueReview(days, document.id, document.title, review, document.owner))
    due.sort(key=lambda r: (r.days, r.id, r.title, r.due, r.owner))
    return Reviews(on, within, tuple(due))
