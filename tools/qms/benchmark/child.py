"""Run one measured step in this process and print its time and peak memory as JSON."""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any


def _timed(spent: list[float], step: Callable[..., Any]) -> Callable[..., Any]:
    """`step`, adding the seconds each call takes to `spent`."""

    def run(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return step(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    return run


def main(argv: list[str]) -> int:
    """`child sphinx ARGS...`, `child qms ARGS...` or `child history ROOT`.

    For history, the time of `services/metric_history.py` `metric_history` alone (what a
    build's dashboard adds), with the number of points it reads, as `points`.

        For qms, the time spent in `services/training.py` `load_training` (the roster and
        every training record read, verified with gpg and judged: the part a plain gpg loop
        compares with) is reported apart, as `training_records_s`.
    """
    tool, args = argv[0], argv[1:]
    spent: list[float] = []
    start = time.perf_counter()
    points = -1
    if tool == "history":
        from pathlib import Path

        from qms.services.metric_history import metric_history

        found = metric_history(Path(args[0]), {"monthly", "quarterly"})
        points = sum(len(p) for p in found.past.values()) if found else 0
        code = 0
    elif tool == "sphinx":
        from sphinx.cmd.build import build_main

        code = build_main(args)
    else:
        from qms.cli.main import main as qms_main
        from qms.services import training

        training.load_training = _timed(spent, training.load_training)
        code = qms_main(args)
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
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
