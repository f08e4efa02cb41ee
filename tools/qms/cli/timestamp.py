"""`qms timestamp --missing`: have a TSA stamp the signatures that carry no token yet."""

from __future__ import annotations

import argparse
import sys

from qms.cli.context import Context
from qms.cli.output import print_json
from qms.cli.progress import progress_bar
from qms.errors import QmsError
from qms.model.timeutil import format_utc
from qms.services.handbook import display_path
from qms.services.later_stamps import stamp_missing

NO_LATER_THAN = "proves only that the signature existed no later than"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = commands.add_parser(
        "timestamp",
        help="stamp existing signatures with a TSA's time (proves only 'no later than')",
        description=(
            "Ask the TSA of [tool.qms.timestamps] for a token over each detached signature "
            "under signatures/ that has none, file it beside the signature as .later.tsr and "
            "commit. Such a token proves only that the signature existed no later than the "
            "TSA's time; the signature's own time stays as the signer claimed it."
        ),
        epilog="Example: qms timestamp --missing",
    )
    parser.add_argument(
        "--missing", action="store_true", help="stamp every signature without a token"
    )
    parser.add_argument("--json", action="store_true", help="print what was stamped as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Stamp and report."""
    if not args.missing:
        raise QmsError("say what to stamp", "pass --missing")
    config = ctx.config()
    with progress_bar() as bar:
        result = stamp_missing(config, progress=bar)
    rows = [
        {
            "signature": display_path(config.root, s.signature),
            "tsa": s.authority,
            "no_later_than": format_utc(s.time),
        }
        for s in result.stamped
    ]
    if args.json:
        print_json({"stamped": rows, "committed": result.commit or None})
        return 0
    if not rows:
        sys.stdout.write("qms timestamp: every signature carries a token already\n")
        return 0
    for row in rows:
        sys.stdout.write(
            f"{row['signature']}: {NO_LATER_THAN} {row['no_later_than']} (TSA {row['tsa']})\n"
        )
    sys.stdout.write(f"qms timestamp: {len(rows)} stamped; committed {result.commit[:12]}\n")
    return 0
