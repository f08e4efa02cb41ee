"""Run one measured step in this process and print its time and peak memory as JSON."""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any


def _timed(
    spent: list[float], step: Callable[..., Any], returned: list[Any] | None = None
) -> Callable[..., Any]:
    """`step`, adding the seconds each call takes to `spent` (and what it returned to
    `returned`, when given)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            result = step(*args, **kwargs)
            if returned is not None:
                returned.append(result)
            return result
        finally:
            spent.append(time.perf_counter() - start)

    return run


def main(argv: list[str]) -> int:
    """`child sphinx ARGS...` or `child qms ARGS...`.

    For qms, two parts are reported apart:
    - the time spent in `services/training.py` `load_training` (the roster and every
      training record read, verified with gpg and judged: the part a plain gpg loop
      compares with), as `training_records_s`;
    - the time spent in `services/metric_history.py` `metric_history` (what a build's
      dashboard adds: the history of its computed KPIs), as `history_s`, with the number
      of points it drew, as `points`.
    """
    tool, args = argv[0], argv[1:]
    spent: list[float] = []
    history: list[float] = []
    start = time.perf_counter()
    points = -1
    if tool == "sphinx":
        from sphinx.cmd.build import build_main

        code = build_main(args)
    else:
        from qms.cli.main import main as qms_main
        from qms.services import metric_history, training

        training.load_training = _timed(spent, training.load_training)
        drawn: list[Any] = []
        metric_history.metric_history = _timed(history, metric_history.metric_history, drawn)
        code = qms_main(args)
        if drawn:
            points = sum(len(p) for h in drawn if h is not None for p in h.past.values())
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    # gpg's processes too: on a shared machine, processor time compares runs that wall
    # time does not.
    spawned = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + spawned.ru_utime + spawned.ru_stime
    result = {"code": code, "seconds": seconds, "cpu_s": cpu, "peak_mb": own.ru_maxrss / 1024}
    if spent:
        result["training_records_s"] = sum(spent)
    if points >= 0:
        result["points"] = points
        result["history_s"] = sum(history)
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
