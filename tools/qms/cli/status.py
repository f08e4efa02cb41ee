"""`qms status`: every controlled document with its derived status and next review."""

from __future__ import annotations

import argparse
import sys

from qms.cli.context import Context
from qms.cli.output import print_findings, print_json, print_table
from qms.cli.progress import counter, progress_bar
from qms.clock import now, today
from qms.services.verify import verify_selected


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = commands.add_parser(
        "status",
        help="list documents with version, derived status and next review",
        description=(
            "List every controlled document with its version, its status as derived "
            "from verified signatures (never from a field an author typed) and the date "
            "its periodic review falls due."
        ),
    )
    parser.add_argument("ids", nargs="*", metavar="DOC-ID", help="only these documents (any case)")
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the status table; documents with invalid front matter are reported apart."""
    config = ctx.config()
    with progress_bar(enabled=not args.json) as bar:
        handbook, verification = verify_selected(config, args.ids, now(), counter(bar, "verifying"))
    on = today()
    rows = [row for row, _ in verification.rows(config, on)]
    if args.json:
        print_json(
            {
                "date": on.isoformat(),
                "documents": [row.as_dict() for row in rows],
                "findings": [f.as_dict() for f in handbook.findings],
            }
        )
    else:
        print_table(
            ["ID", "VERSION", "STATUS", "NEXT REVIEW", "TITLE"],
            [
                [
                    row.document.id,
                    str(row.document.version),
                    str(row.status.status).upper(),
                    row.next_review.isoformat() if row.next_review else "-",
                    row.document.title,
                ]
                for row in rows
            ],
        )
        for row in rows:
            if row.awaiting:
                print(row.awaiting)
        if handbook.findings:
            sys.stderr.write("qms status: these documents could not be read:\n")
            print_findings(handbook.findings, sys.stderr)
    return 1 if handbook.findings else 0
