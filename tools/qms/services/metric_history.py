"""The history of computed KPIs and of the risk profile: the branch's state at the end of
each ended period, recomputed from git and kept per commit and day.

Which commit stands for a period, and the day it is judged on, come only from the
history of the commit being built (`model/metrics.py` `history_points`), never from the
clock: one commit always draws the same charts. A point not kept yet is counted in a
child process (a Sphinx read inside a Sphinx build would share its global state) with a
fixed hash seed, time zone and locale, which keeps it in `.git/qms/metrics/`; every
later build reads it back. The points missing are counted in one clone that moves from
commit to commit, so each reads again only what changed (`compute_points`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from qms.adapters.git import Repository, open_repository
from qms.config import load_config
from qms.errors import QmsError
from qms.model.findings import Finding, FindingCode
from qms.model.metrics import HistoryPoint, head_period, history_points
from qms.services.metrics import Known, cached, keep, known_here

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
    repo: Repository, points: Sequence[tuple[str, date]], handbook: str = "."
) -> None:
    """Count each (commit, day) in one clone, oldest commit first, and keep it.

    The clone moves from commit to commit, so Sphinx reads again only the documents that
    changed, and gpg is asked only about signatures this run has not seen (the clone's own
    cache of verified signatures, which starts empty). `handbook` is the handbook's folder
    from the top of the repository. A commit that holds no readable handbook is kept as
    such (no values), so it is not tried again.
    """
    ordered = sorted(points, key=lambda p: (repo.commit_time(p[0]), p[1], p[0]))
    if not ordered:
        return
    with tempfile.TemporaryDirectory(prefix="qms-history-") as scratch:
        tree, kept = Path(scratch) / "at", Path(scratch) / "kept"
        clone = repo.clone_at(ordered[0][0], tree)
        for commit, on in ordered:
            clone.check_out(commit)
            try:
                known = known_here(load_config(tree / handbook), on, _end_of_day(on), kept)
            except QmsError as error:
                problem = Finding("", None, f"{commit[:10]}: {error}", FindingCode.METRIC)
                known = Known((), (), {}, (problem,), None)
                # What a failed read left is not carried to the next commit.
                shutil.rmtree(kept, ignore_errors=True)
            keep(repo, commit, on, known)


def _compute_in_child(root: Path, points: Collection[tuple[str, date]]) -> None:
    """Count the points not kept yet in one child process (see the module's docstring)."""
    environment = {**os.environ, "PYTHONHASHSEED": "0", "TZ": "UTC", "LC_ALL": "C.UTF-8"}
    job = {"root": str(root), "points": [[c, on.isoformat()] for c, on in sorted(points)]}
    # Our own interpreter and module, no shell.
    done = subprocess.run(
        [sys.executable, "-P", "-m", "qms.services.metric_history"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environment,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise QmsError(
            f"the history of the computed KPIs could not be counted ({last})",
            "run 'qms metrics --at COMMIT' for one of its commits to see why",
        )


def metric_history(root: Path, frequencies: Collection[str]) -> History | None:
    """The history for each of `frequencies` (and the quarterly risk profile) of the
    repository holding `root`; None outside git or before the first commit."""
    repo = open_repository(root)
    chain = repo.first_parent_log() if repo is not None else ()
    if repo is None or not chain:
        return None
    wanted = sorted({*frequencies, PROFILE_FREQUENCY})
    points = {f: history_points(chain, f) for f in wanted}
    keys = {(p.commit, p.on) for found in points.values() for p in found}
    missing = {key for key in keys if cached(repo, *key) is None}
    if missing:
        _compute_in_child(root, missing)
    kept: dict[tuple[str, date], Known | None] = {key: cached(repo, *key) for key in keys}
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


def main() -> int:
    """The child: read {"root", "points": [[commit, day]...]} on stdin, count and keep each."""
    job = json.loads(sys.stdin.read())
    repo = open_repository(Path(job["root"]))
    if repo is None:
        sys.stderr.write(f"{job['root']} is not under git\n")
        return 1
    points = [(str(c), date.fromisoformat(day)) for c, day in job["points"]]
    compute_points(repo, points, repo.relative_path(Path(job["root"])) or ".")
    return 0


if __name__ == "__main__":
    sys.exit(main())
