"""`qms change`: the change requests with the document versions naming them and their state."""

from __future__ import annotations

import argparse

from qms.cli.context import Context
from qms.cli.output import print_json, print_table
from qms.clock import now
from qms.model.change_requests import ChangeState
from qms.services.change_requests import change_log

STATES = ", ".join(f"'{state}'" for state in ChangeState)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `qms change`."""
    parser = commands.add_parser(
        "change",
        help="the change requests: documents affected, versions naming them, derived state",
        description=(
            "Change requests are change needs in the handbook (CC-YYYY-NNNN: requester, "
            "owner, the documents it affects). A version names one at the start of its "
            "change_reason (qms bump --reason 'CC-2026-0142: ...'). The state is never "
            "typed: it follows from the verified approvals of the versions naming it. "
            f"States: {STATES}."
        ),
        epilog="Example: qms change --json",
    )
    parser.add_argument("--json", action="store_true", help="print JSON, for scripts")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the change control log."""
    rows = change_log(ctx.config(), now=now())
    if args.json:
        print_json([row.as_dict() for row in rows])
        return 0
    print_table(
        ("id", "state", "versions", "title"),
        [
            (row.need.id, str(row.state),
             ", ".join(f"{n.label} ({n.status})" for n in row.named_by) or "none yet",
             row.need.title)
            for row in rows
        ],
    )  # fmt: skip
    return 0
