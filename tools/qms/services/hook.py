"""The git pre-commit hook that runs 'qms check --quick': installing it, or refusing to."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from qms.adapters.files import write_atomic
from qms.adapters.git import Repository
from qms.config import QmsConfig
from qms.errors import RefusedError

MARKER = "# Installed by 'qms install-hook'"


def install_hook(config: QmsConfig, force: bool = False) -> Path:
    """Write .git/hooks/pre-commit for this handbook; `force` replaces someone else's hook."""
    hook = Repository(config.root).hooks_dir / "pre-commit"
    if hook.exists() and MARKER not in hook.read_text(errors="replace") and not force:
        raise RefusedError(f"{hook} exists and is not ours", "pass --force to replace it")
    # The interpreter running now, so the hook finds this qms whatever PATH says.
    command = shlex.join([sys.executable, "-m", "qms", "--root", str(config.root), "check",
                          "--quick"])  # fmt: skip
    write_atomic(hook, f"#!/bin/sh\n{MARKER}: keep document control intact.\nexec {command}\n"
                 .encode())  # fmt: skip
    hook.chmod(0o755)
    return hook
