"""`qms install-hook`: refuse commits that break document control, before they happen."""

from __future__ import annotations

import argparse
import sys

from qms.cli.context import Context
from qms.services.hook import install_hook


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
    hook = install_hook(ctx.config(), args.force)
    sys.stdout.write(f"pre-commit hook installed at {hook}\n")
    return 0
