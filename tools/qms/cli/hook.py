"""`qms install-hook`: refuse commits that break document control, before they happen."""

from __future__ import annotations

import argparse
import shlex
import sys

from qms.adapters.files import write_atomic
from qms.adapters.git import Repository
from qms.cli.context import Context
from qms.errors import RefusedError

MARKER = "# Installed by 'qms install-hook'"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = commands.add_parser(
        "install-hook",
        help="install the git pre-commit hook that runs 'qms check --quick'",
        description=(
            "Install .git/hooks/pre-commit so that every commit runs 'qms check --quick': "
            "front matter, ids, and change control (a changed approved document needs a "
            "version bump and a change reason; versions never go backwards; ids are never "
            "reused). Bypassing it (git commit --no-verify) does not bypass 'qms verify'."
        ),
    )
    parser.add_argument("--force", action="store_true", help="replace another pre-commit hook")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Write the hook."""
    config = ctx.config()
    hook = Repository(config.root).hooks_dir / "pre-commit"
    if hook.exists() and MARKER not in hook.read_text(errors="replace") and not args.force:
        raise RefusedError(f"{hook} exists and is not ours", "pass --force to replace it")
    command = shlex.join([sys.executable, "-m", "qms", "--root", str(config.root), "check",
                          "--quick"])  # fmt: skip
    write_atomic(hook, f"#!/bin/sh\n{MARKER}: keep document control intact.\nexec {command}\n"
                 .encode())  # fmt: skip
    hook.chmod(0o755)
    sys.stdout.write(f"pre-commit hook installed at {hook}\n")
    return 0
