"""Run one measured step in this process and print its time and peak memory as JSON."""

from __future__ import annotations

import json
import resource
import sys
import time


def main(argv: list[str]) -> int:
    """`child sphinx ARGS...` or `child qms ARGS...`."""
    tool, args = argv[0], argv[1:]
    start = time.perf_counter()
    if tool == "sphinx":
        from sphinx.cmd.build import build_main

        code = build_main(args)
    else:
        from qms.cli.main import main as qms_main

        code = qms_main(args)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stdout.write(json.dumps({"code": code, "seconds": seconds, "peak_mb": peak_kb / 1024}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
