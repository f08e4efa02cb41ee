"""A retired document: when and why it was withdrawn, how long it is kept, links into it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from qms.model.approval_rules import DocumentVerdict, RecordVerdict
from qms.model.findings import Finding, FindingCode
from qms.model.impact import Link


@dataclass(frozen=True)
class Retirement:
    """A signed withdrawal: when its last required signature was given, its reason, until
    when the archive copy is kept (None: no retention period configured for the type),
    and the signatures themselves, oldest first."""

    at: datetime
    reason: str
    keep_until: date | None
    signatures: tuple[RecordVerdict, ...]


def keep_until(retired: date, years: int | None) -> date | None:
    """`years` after `retired`; 29 February falls on 28 February in a common year."""
    if years is None:
        return None
    try:
        return retired.replace(year=retired.year + years)
    except ValueError:
        return retired.replace(year=retired.year + years, day=28)


def retirement_of(verdict: DocumentVerdict, years: int | None) -> Retirement | None:
    """The retirement `verdict` derives, or None when the document is not retired.

    It takes effect with the last signature its type requires, so that is its date: as
    a TSA certified it where a token was filed at signing, else as the signer claimed.
    """
    signatures = verdict.retirement_signatures
    if not verdict.evidence.retired or not signatures:
        return None
    at = max(
        v.record.signature.trusted_time or v.record.statement.signed_at
        for v in signatures
        if v.record.statement
    )
    return Retirement(at, verdict.retirement_reason, keep_until(at.date(), years), signatures)


def links_into_retired(
    links: Iterable[Link],
    document_of: Callable[[str], str],
    retired: Mapping[str, Retirement],
) -> tuple[Finding, ...]:
    """One located finding per live link from a document in use to an item of a retired one.

    A retired document's own links are archive content and left alone.
    """
    found: list[Finding] = []
    for link in links:
        target = document_of(link.upstream)
        if link.document_id in retired or target not in retired:
            continue
        when = retired[target].at.date().isoformat()
        found.append(
            Finding(
                link.path,
                link.line or None,
                f"{link.item} {link.link} {link.upstream}, an item of {target}, which was "
                f"retired on {when}: link to the item that replaces it, or remove the link",
                FindingCode.RETIRED_LINK,
            )
        )
    return tuple(found)
