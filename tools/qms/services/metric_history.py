"""The history of computed KPIs and of the risk profile: the branch's state at the end of
each ended period, recomputed from git and kept per commit and day.

Which commit stands for a period, and the day it is judged on, come only from the
history of the commit being built (`model/metrics.py` `history_points`), never from the
clock: one commit always draws the same charts. A point not kept yet is counted from the
commit's files without Sphinx (`services/metric_points.py`) and kept in
`.git/qms/metrics/`, per commit, day and set; every later build reads it back.
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from qms.adapters.git import Repository, open_repository
from qms.errors import QmsError
from qms.model.findings import Finding, FindingCode
from qms.model.metrics import HistoryPoint, head_period, history_points
from qms.model.release import DocumentSet
from qms.services.metric_points import PointCounter
from qms.services.metrics import Known, cached, keep

# The risk profile is drawn per quarter, whatever the KPIs' frequencies.
PROFILE_FREQUENCY = "quarterly"


@dataclass(frozen=True)
class PastState:
    """One period's point: the commit standing for it and what was counted there."""

    point: HistoryPoint
    values: Mapping[str, float | None]
    profile: Mapping[str, tuple[int, ...]] | None


@dataclass(frozen=True)
class History:
    """Per frequency, the ended periods' states, oldest first, and the period still running
    at the commit being built."""

    commit: str
    past: Mapping[str, tuple[PastState, ...]]
    running: Mapping[str, str]


def _end_of_day(on: date) -> datetime:
    return datetime.combine(on, time(23, 59, 59), UTC)


def compute_points(
    repo: Repository,
    points: Sequence[tuple[str, date]],
    handbook: str = ".",
    document_set: DocumentSet | None = None,
) -> None:
    """Count each (commit, day) and keep it, oldest first along the branch (`points` are
    first-parent commits): each point reads and judges again only what changed since the
    one before (`services/metric_points.py`).

    `handbook` is the handbook's folder from the top of the repository. A commit that
    holds no readable handbook is kept as such (no values), so it is not tried again.
    """
    order = {commit: index for index, (commit, _) in enumerate(repo.first_parent_log())}
    ordered = sorted(points, key=lambda p: (-order.get(p[0], -1), p[1], p[0]))
    if not ordered:
        return
    with tempfile.TemporaryDirectory(prefix="qms-history-") as scratch:
        counter = PointCounter(repo, handbook, Path(scratch), document_set)
        for commit, on in ordered:
            try:
                known = counter.count(commit, on, _end_of_day(on))
            except QmsError as error:
                problem = Finding("", None, f"{commit[:10]}: {error}", FindingCode.METRIC)
                known = Known((), (), {}, (problem,), None)
            keep(repo, commit, on, known, scope_of(document_set))


def scope_of(document_set: DocumentSet | None) -> str:
    """What a history point is kept as: the whole handbook's, or one set's."""
    return "history" if document_set is None else f"history-set-{document_set.name}"


def metric_history(
    root: Path, frequencies: Collection[str], document_set: DocumentSet | None = None
) -> History | None:
    """The history for each of `frequencies` (and the quarterly risk profile) of the
    repository holding `root`, counted over the documents of `document_set` when given
    (a release set's build: what it may not show, it does not count); None outside git
    or before the first commit."""
    repo = open_repository(root)
    chain = repo.first_parent_log() if repo is not None else ()
    if repo is None or not chain:
        return None
    wanted = sorted({*frequencies, PROFILE_FREQUENCY})
    points = {f: history_points(chain, f) for f in wanted}
    keys = {(p.commit, p.on) for found in points.values() for p in found}
    scope = scope_of(document_set)
    missing = {key for key in keys if cached(repo, *key, scope) is None}
    if missing:
        handbook = repo.relative_path(root) or "."
        compute_points(repo, sorted(missing), handbook, document_set)
    kept = {key: cached(repo, *key, scope) for key in keys}
    if any(known is None for known in kept.values()):
        raise QmsError(
            "the history of the computed KPIs was counted but not kept in .git/qms/metrics",
            "check that the repository's git folder is writable",
        )
    past = {
        f: tuple(
            PastState(p, known.computed, known.profile)
            for p in found
            for known in [kept[(p.commit, p.on)]]
            if known is not None
        )
        for f, found in points.items()
    }
    return History(chain[0][0], past, {f: head_period(chain, f) for f in wanted})
