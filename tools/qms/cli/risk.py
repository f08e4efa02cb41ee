"""`qms risk`: signed acceptance of residual risk by its owner, and each risk's status."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from qms.cli.context import Context
from qms.cli.output import plural, print_findings, print_json, print_table
from qms.cli.signing import add_signing_options, user_keys
from qms.clock import now, today
from qms.services.risk_accept import accept_risk
from qms.services.risk_acceptance import acceptance_status

COLUMNS = ("id", "current_score", "state", "accepted_by", "accepted_role", "until",
           "accepted_score")  # fmt: skip


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `qms risk` and its subcommands."""
    parser = commands.add_parser(
        "risk",
        help="risk owners accept residual risk by signature (ISO 27001 6.1.3 f)",
        description=(
            "A risk acceptance is a signed statement bound to the risk's id, its current "
            "residual likelihood and impact, the register's version and a date until which "
            "it holds. Who may accept which score is [tool.qms.risk_acceptance], approved "
            "with the signing policy (absent it, the role the risk's risk_owner names). An "
            "acceptance lapses when the score rises above the accepted one, when its date "
            "passes, or when its signer's role no longer allows the current score. Status "
            "comes from verified signatures only; the risk's 'acceptance' field is free text."
        ),
    )
    sub = parser.add_subparsers(dest="risk_command", metavar="COMMAND")
    accept = sub.add_parser(
        "accept",
        help="sign that you accept a risk's current residual score until a review date",
        description=(
            "Signs and commits signatures/risks/acceptances/RSK-ID/<time>--<key>.json. You "
            "must be a registered signer holding a role that may accept the risk's current "
            "score: the level of [tool.qms.risk_acceptance] the score falls in, or a higher "
            "one. Nothing is written when anything is refused."
        ),
        epilog="Example: qms risk accept RSK-022 --until 2027-10-14 --comment 'paper fallback'",
    )
    accept.add_argument("risk", metavar="RSK-ID", help="the risk's id, e.g. RSK-022")
    accept.add_argument(
        "--until",
        required=True,
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the review date: the acceptance lapses after it",
    )
    accept.add_argument("--comment", default="", help="why the residual risk is accepted")
    add_signing_options(accept, "your key (you hold a role that may accept the score)")
    accept.set_defaults(handler=_run_accept)
    status = sub.add_parser(
        "status",
        help="each risk: needs acceptance?, accepted by whom, until when, at which score",
        description=(
            "States: accepted (a signed acceptance holds), lapsed, missing (the risk needs "
            "acceptance: treatment accept, a current score above the threshold, or an "
            "inherent score above it without a mitigating control), not needed."
        ),
        epilog="Example: qms risk status --strict   (exit 1 on any risk missing or lapsed)",
    )
    status.add_argument("--json", action="store_true", help="print the rows as JSON")
    status.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 on any risk that needs acceptance and lacks it",
    )
    status.add_argument(
        "--on", type=date.fromisoformat, metavar="YYYY-MM-DD", help="judge on this day"
    )
    status.set_defaults(handler=_run_status)
    parser.set_defaults(handler=lambda args, ctx: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _run_accept(args: argparse.Namespace, ctx: Context) -> int:
    accepted = accept_risk(
        ctx.config(), args.risk, args.until, user_keys(args), args.key, now(), args.comment
    )
    acceptance = accepted.acceptance
    sys.stdout.write(
        f"accepted: {acceptance.risk_id} at score {acceptance.score} until {acceptance.until} "
        f"by {acceptance.signer_name} ({acceptance.signer_role}); "
        f"{accepted.path.name} committed {accepted.commit[:12]}\n"
    )
    return 0


def _run_status(args: argparse.Namespace, ctx: Context) -> int:
    on = args.on or today()
    facts = acceptance_status(ctx.config(), on)
    rows = [s.as_dict() for s in facts.statuses]
    if args.json:
        print_json(rows)
    else:
        print_table(COLUMNS, [["" if r[c] is None else str(r[c]) for c in COLUMNS] for r in rows])
    if facts.findings:
        print_findings(facts.findings, sys.stderr)
    lacking = [s for s in facts.statuses if s.risk.needs_acceptance and not s.valid]
    if not args.json:
        counted = (
            plural(len(lacking), "risk") + " without a valid acceptance"
            if lacking
            else ("every risk that needs acceptance has a valid one")
        )
        sys.stderr.write(f"{counted} on {on.isoformat()}\n")
    return 1 if facts.findings or (args.strict and lacking) else 0
