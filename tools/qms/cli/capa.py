"""`qms capa`: the CAPA log with derived states, and signing a closure or an effectiveness check."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from qms.cli.context import Context
from qms.cli.output import plural, print_findings, print_json, print_table
from qms.cli.signing import add_signing_options, user_keys
from qms.clock import now, today
from qms.errors import QmsError
from qms.model.capa import Act, CapaState, Result
from qms.services.capa import capa_log, log_data, log_table
from qms.services.capa_sign import Signed, import_states, sign_capa
from qms.services.traceability import load_graph, render

COLUMNS = ("id", "state", "owner", "next_due", "title")
STATES = ", ".join(f"'{state}'" for state in CapaState)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `qms capa` and its subcommands."""
    parser = commands.add_parser(
        "capa",
        help="the CAPA log: states derived from signed closures, verifications and dates",
        description=(
            "CAPAs are capa needs in the handbook (source, owner, root cause, effectiveness "
            "check) with dated action needs; their state is never typed. It is derived from "
            "the actions' due and done dates, the check's due date and two signed "
            f"statements, a closure and an effectiveness verification. States: {STATES}. "
            "Who may sign is [tool.qms.capa] (GxP-relevant CAPAs: gxp_roles only), part of "
            "the signing policy."
        ),
        epilog=(
            "Examples: qms capa --strict (exit 1 on an overdue action or check, for a "
            "scheduled CI job); qms capa close CAPA-2026-0031; qms capa verify "
            "CAPA-2026-0031 --result effective"
        ),
    )
    _list_options(parser)
    sub = parser.add_subparsers(dest="capa_command", metavar="COMMAND")
    close = sub.add_parser(
        "close",
        help="sign that a CAPA's actions are implemented (every action has ':done:')",
        description=(
            "Signs a qms-capa/1 closure of the CAPA with your registered key, as the first "
            "role of [tool.qms.capa] close_roles (gxp_roles for a GxP-relevant CAPA) you "
            "hold, and commits it. Refused, with nothing written, when an action is not "
            "done, the CAPA is already closed, or you hold none of those roles."
        ),
        epilog="Example: qms capa close CAPA-2026-0031 --comment 'reminders live since June'",
    )
    close.add_argument("capa_id", metavar="CAPA-ID")
    close.add_argument("--comment", default="", help="what the closure rests on")
    add_signing_options(close, "your key (you hold a closing role)")
    close.set_defaults(handler=_run_sign(Act.CLOSE))
    verify = sub.add_parser(
        "verify",
        help="sign the result of a closed CAPA's effectiveness check",
        description=(
            "Signs a qms-capa/1 verification: the day of the check, the CAPA's criterion "
            "and what the check found. Refused, with nothing written, when the CAPA is not "
            "closed, is already verified, or the check is dated before the closure or after "
            "today. A CAPA that was not effective is followed by a new CAPA."
        ),
        epilog="Example: qms capa verify CAPA-2026-0031 --result effective --on 2026-12-15",
    )
    verify.add_argument("capa_id", metavar="CAPA-ID")
    verify.add_argument("--result", required=True, choices=[str(r) for r in Result])
    verify.add_argument(
        "--on",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the day the check was made (default: today, UTC)",
    )
    verify.add_argument("--comment", default="", help="the evidence the check looked at")
    add_signing_options(verify, "your key (you hold a verifying role)")
    verify.set_defaults(handler=_run_sign(Act.VERIFY))
    imp = sub.add_parser(
        "import",
        help="sign the CAPA states of an external eQMS export (CSV) as QA",
        description=(
            "The integration point for CAPA kept in an eQMS: columns capa_id,state,due "
            "(state: open, closed, effective, not-effective; due: the next action's date "
            "while open, the effectiveness check's once closed, may be empty). A finding "
            "names such a CAPA with ':external_capa: ID'; the log counts it, overdue "
            "derived from due. The whole export is refused if any row is bad, every bad row "
            "named. Signed by a holder of [tool.qms.capa] import_roles; the latest import "
            "that counts is the eQMS's state."
        ),
        epilog="Example: qms capa import eqms-capa-2026-11.csv --system 'Veeva Vault QMS'",
    )
    imp.add_argument("csv", type=Path, metavar="CSV")
    imp.add_argument("--system", required=True, help="the eQMS it came from")
    add_signing_options(imp, "your key (you hold an import role, QA)")
    imp.set_defaults(handler=_run_import)
    parser.set_defaults(handler=_run_list)


def _list_options(parser: argparse.ArgumentParser) -> None:
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", dest="format", action="store_const", const="json")
    shape.add_argument("--csv", dest="format", action="store_const", const="csv")
    parser.set_defaults(format="text")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when an action or a check is overdue"
    )
    parser.add_argument(
        "--on",
        dest="list_on",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="judge on this day (default: today, UTC)",
    )


def _run_list(args: argparse.Namespace, ctx: Context) -> int:
    config = ctx.config()
    on = args.list_on or today()
    run = load_graph(config)
    log = capa_log(config, run.graph, on)
    if args.format == "json":
        print_json(log_data(log))
    elif args.format == "csv":
        sys.stdout.write(render(log_table(log), "csv"))
    else:
        print_table(COLUMNS, [[row[c] for c in COLUMNS] for row in log_table(log)])
    findings = (*run.findings, *log.registry_findings, *log.findings)
    if findings:
        print_findings(findings, sys.stderr)
        sys.stderr.write(
            f"qms: {plural(len(findings), 'problem')}; a CAPA signature named there does "
            "not count\n"
        )
    if args.format == "text" or (args.strict and log.overdue):
        counted = plural(len(log.overdue), "CAPA") + " overdue" if log.overdue else "none overdue"
        total = len(log.rows) + len(log.external)
        sys.stderr.write(f"{plural(total, 'CAPA')}, {counted} on {on.isoformat()}\n")
    return 1 if findings or (args.strict and log.overdue) else 0


def _run_import(args: argparse.Namespace, ctx: Context) -> int:
    try:
        text = args.csv.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QmsError(f"{args.csv} is not UTF-8 text", "export the CSV as UTF-8") from exc
    signed = import_states(
        ctx.config(), text, str(args.csv), args.system, user_keys(args), args.key, now()
    )
    sys.stdout.write(
        f"imported: {plural(signed.count, 'CAPA state')} from {args.system}, signed by "
        f"{signed.signer} as {signed.role}; committed {signed.commit[:12]}\n"
    )
    return 0


def _run_sign(act: Act) -> Callable[[argparse.Namespace, Context], int]:
    def run(args: argparse.Namespace, ctx: Context) -> int:
        config = ctx.config()
        signed: Signed = sign_capa(
            config,
            args.capa_id.upper(),
            act,
            user_keys(args),
            args.key,
            now(),
            result=Result(args.result) if act is Act.VERIFY else None,
            checked_on=args.on if act is Act.VERIFY else None,
            comment=args.comment,
        )
        what = "closed" if act is Act.CLOSE else f"effectiveness check ({args.result})"
        sys.stdout.write(
            f"{args.capa_id.upper()} {what}: signed by {signed.signer} as {signed.role}; "
            f"{signed.path.name} committed {signed.commit[:12]}\n"
        )
        return 0

    return run
