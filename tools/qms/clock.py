"""The clock, read by front ends only: services and the model are given `now` and `on`."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime


def now() -> datetime:
    """This moment, in UTC."""
    return datetime.now(tz=UTC)


def today() -> date:
    """The date status is judged on: SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC).date()
    return now().date()
