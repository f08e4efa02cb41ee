"""`qms diff`: a redline of a document between two versions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qms.cli.context import Context
from qms.cli.output import DOC_ID_HELP, write_file
from qms.clock import now
from qms.services.redline import document_redline

_COLOURS = {"-": "\x1b[31m", "+": "\x1b[32m", "@": "\x1b[36m"}
_RESET = "\x1b[0m"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = commands.add_parser(
        "diff",
        help="redline of a document between two versions",
        description=(
            "Show what changed in DOC-ID between two versions, by default between the last "
            "approved version and the working copy. --html writes a self-contained page with "
            "insertions and deletions marked, to attach to a change request. Both list the "
            "traceable items the change modifies and every link of another document to them: "
            "those links become suspect once the change is in (see 'qms impact')."
        ),
        epilog="Example: qms diff SOP-ITO-002 --from 1.0 --html cc-2026-0142-redline.html",
    )
    parser.add_argument("document_id", metavar="DOC-ID", help=DOC_ID_HELP)
    parser.add_argument("--from", dest="old", metavar="VERSION", help="default: last approved")
    parser.add_argument("--to", dest="new", metavar="VERSION", help="default: working copy")
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write an HTML redline")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the redline; write the HTML file when asked."""
    result = document_redline(ctx.config(), args.document_id, now(), args.old, args.new)
    lines = result.unified()
    colour = sys.stdout.isatty()
    for line in lines:
        code = _COLOURS.get(line[:1], "") if colour and not line.startswith(("---", "+++")) else ""
        reset = _RESET if code else ""
        sys.stdout.write(f"{code}{line}{reset}\n")
    sys.stdout.write("\n" + "\n".join(result.impact_lines()) + "\n")
    if args.html:
        write_file(args.html, result.html_page())
        sys.stderr.write(f"qms diff: redline written to {args.html}\n")
    return 0
