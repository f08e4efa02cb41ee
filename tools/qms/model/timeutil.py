"""UTC timestamps as the approval records write them: 2026-11-30T12:00:00Z."""

from __future__ import annotations

from datetime import UTC, datetime


def format_utc(moment: datetime) -> str:
    """An aware datetime as second-precision UTC text with a Z suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def display_utc(moment: datetime) -> str:
    """How every page shows a moment: 2026-11-30 12:00:00 UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def parse_utc(text: str) -> datetime:
    """Parse an ISO 8601 time that names its offset; raise ValueError otherwise."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; write it in UTC, like 2026-01-15T09:30:00Z")
    return moment.astimezone(UTC)


def from_epoch(seconds: int | str) -> datetime:
    """A Unix timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(int(seconds), tz=UTC)
