"""`qms training`: the matrix, overdue training, a person's record, and signing training."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from qms.cli.context import Context
from qms.cli.output import (
    add_cache_option,
    add_format_option,
    plural,
    print_findings,
    print_json,
    print_table,
)
from qms.cli.signing import add_signing_options, user_keys
from qms.clock import now, today
from qms.errors import QmsError
from qms.model.findings import Finding
from qms.model.training_record import SESSION_FORMS
from qms.services.traceability import render
from qms.services.training_sign import (
    Filed,
    acknowledge,
    attest_session,
    import_completions,
    import_roster,
)
from qms.services.training_view import TrainingView, matrix_rows, person_record, training_view

FORMATS = ("text", "csv", "json", "markdown")
COLUMNS = ("employee", "name", "document", "version", "state", "due", "completed_on")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `qms training` and its subcommands."""
    parser = commands.add_parser(
        "training",
        help="training on the handbook: who must read what, by when, and proof they did",
        description=(
            "Training requirements by role come from [tool.qms.training], approved with the "
            "signing policy; the staff roster is signed by HR; every completion is a signed "
            "record bound to a document version's approved content. States (done, due, "
            "overdue) are derived from verified records only."
        ),
    )
    sub = parser.add_subparsers(dest="training_command", metavar="COMMAND")
    _status(sub)
    _overdue(sub)
    _record(sub)
    _ack(sub)
    _session(sub)
    _import(sub)
    roster = sub.add_parser("roster", help="the staff roster (HR)")
    roster_sub = roster.add_subparsers(dest="roster_command", metavar="COMMAND")
    imp = roster_sub.add_parser(
        "import",
        help="replace the roster with an HR export (CSV), signed by you as HR",
        description=(
            "Columns: employee,name,role,from,until,keys (one row per role held; until and "
            "keys may be empty; keys lists fingerprints separated by spaces). The whole "
            "export is refused if any row is bad, every bad row named; nobody may be "
            "dropped (a leaver gets an until date). Signed by a holder of the hr role."
        ),
        epilog="Example: qms training roster import hr-export.csv --key HR-FINGERPRINT",
    )
    imp.add_argument("csv", type=Path, metavar="CSV")
    add_signing_options(imp, "your key (you hold the hr role)")
    imp.set_defaults(handler=_run_roster_import)
    parser.set_defaults(handler=lambda args, ctx: _usage(parser))
    roster.set_defaults(handler=lambda args, ctx: _usage(roster))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _on_option(parser: argparse.ArgumentParser) -> None:
    """--on, and --no-cache: the options of every command that verifies and judges."""
    parser.add_argument(
        "--on",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="judge on this day (default: today, UTC)",
    )
    add_cache_option(parser)


def _status(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "status",
        help="the training matrix: each person x each document their roles must read",
        epilog="Example: qms training status --role production-operator --format csv",
    )
    parser.add_argument("--person", metavar="EMPLOYEE", default="", help="one employee number")
    parser.add_argument("--role", default="", help="people holding this role")
    parser.add_argument("--document", metavar="DOC-ID", default="", help="one document")
    _on_option(parser)
    add_format_option(parser, FORMATS)
    parser.add_argument(
        "--csv", dest="format", action="store_const", const="csv", help="--format csv"
    )
    parser.set_defaults(handler=_run_status)


def _overdue(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "overdue",
        help="training past its due date (--strict: exit 1 on any, for a scheduled CI job)",
        epilog="Example: qms training overdue --strict",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when anything is overdue")
    _on_option(parser)
    add_format_option(parser, FORMATS)
    parser.set_defaults(handler=_run_overdue)


def _record(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "record",
        help="one person's complete training history (ISO 27001 7.2 competence evidence)",
        epilog="Example: qms training record E1042 --json",
    )
    parser.add_argument("employee", metavar="EMPLOYEE")
    _on_option(parser)
    add_format_option(parser, FORMATS)
    parser.set_defaults(handler=_run_record)


def _ack(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "ack",
        help="sign that you read and understood the current version of documents",
        description=(
            "Signs, with your own key, one record naming each document's id, current "
            "version and approved content digest. HR lists the key's fingerprint for you "
            "on the roster; it need not be in the signer registry, and is kept under "
            "signatures/training/keys/, never published."
        ),
        epilog="Example: qms training ack SOP-HR-001 POL-ISMS-001",
    )
    parser.add_argument("documents", nargs="+", metavar="DOC-ID")
    add_signing_options(parser, "your own key")
    parser.set_defaults(handler=_run_ack)


def _session(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "session",
        help="attest, as trainer, a classroom or on-the-job session",
        epilog=(
            "Example: qms training session SOP-GMP-004 --attendee E1001 --attendee E1002 "
            "--form classroom --title 'Line clearance' --date 2026-11-20"
        ),
    )
    parser.add_argument("documents", nargs="+", metavar="DOC-ID")
    parser.add_argument("--attendee", action="append", required=True, metavar="EMPLOYEE")
    parser.add_argument("--form", required=True, choices=SESSION_FORMS)
    parser.add_argument("--title", required=True)
    parser.add_argument("--date", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
    add_signing_options(parser, "your key (you hold the trainer role)")
    parser.set_defaults(handler=_run_session)


def _import(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "import",
        help="sign the completions of a learning-system export (CSV) as training coordinator",
        description=(
            "Columns: employee,document_id,version,completed_on. The whole export is refused "
            "if any row names an unknown person, document or version, every bad row named."
        ),
        epilog="Example: qms training import lms-2026-11.csv --system 'Cornerstone LMS'",
    )
    parser.add_argument("csv", type=Path, metavar="CSV")
    parser.add_argument("--system", required=True, help="the learning system it came from")
    add_signing_options(parser, "your key (you hold the training-coordinator role)")
    parser.set_defaults(handler=_run_import)


def _today(args: argparse.Namespace) -> date:
    return args.on or today()


def _view(args: argparse.Namespace, ctx: Context) -> TrainingView:
    config = ctx.config()
    if config.training is None:
        raise QmsError(
            "no training requirements are configured",
            "add [tool.qms.training] to pyproject.toml (see the README, For staff and trainers)",
        )
    return training_view(config, _today(args), now(), cache=args.cache)


def _print_rows(rows: list[dict[str, str]], fmt: str, columns: tuple[str, ...]) -> None:
    if fmt == "json":
        print_json(rows)
    elif fmt == "text":
        print_table(columns, [[row[c] for c in columns] for row in rows])
    else:
        sys.stdout.write(render(rows, fmt))


def _findings(view_findings: tuple[Finding, ...]) -> int:
    if view_findings:
        print_findings(view_findings, sys.stderr)
        sys.stderr.write(
            f"qms: {plural(len(view_findings), 'training record or roster problem')}; "
            "what they claim does not count\n"
        )
        return 1
    return 0


def _run_status(args: argparse.Namespace, ctx: Context) -> int:
    view = _view(args, ctx)
    rows = matrix_rows(view, args.person, args.role, args.document, _today(args))
    _print_rows(rows, args.format, COLUMNS)
    return _findings(view.findings)


def _run_overdue(args: argparse.Namespace, ctx: Context) -> int:
    view = _view(args, ctx)
    on = _today(args)
    rows = [r for r in matrix_rows(view, on=on) if r["state"] == "overdue"]
    if rows or args.format != "text":
        _print_rows(rows, args.format, COLUMNS[:-1])
    code = _findings(view.findings)
    if args.format == "text":
        counted = plural(len(rows), "overdue training") if rows else "no training overdue"
        sys.stderr.write(f"{counted} on {on.isoformat()}\n")
    return 1 if (args.strict and rows) or code else 0


def _run_record(args: argparse.Namespace, ctx: Context) -> int:
    view = _view(args, ctx)
    record = person_record(view, args.employee, _today(args))
    if args.format == "json":
        print_json(record.as_dict())
        return _findings(view.findings)
    if args.format != "text":
        sys.stdout.write(render(record.completions, args.format))
        return _findings(view.findings)
    person = record.person
    sys.stdout.write(f"{person.name} ({person.employee})\n")
    for spell in person.spells:
        until = spell.end.isoformat() if spell.end else "today"
        sys.stdout.write(f"  role {spell.role}: {spell.start.isoformat()} to {until}\n")
    sys.stdout.write("\nCompleted\n")
    history = ("completed_on", "document", "version", "method", "record")
    print_table(history, [[h[c] for c in history] for h in record.completions])
    sys.stdout.write("\nRequired now\n")
    print_table(COLUMNS[2:], [[r[c] for c in COLUMNS[2:]] for r in record.required])
    return _findings(view.findings)


def _report(filed: Filed, what: str) -> int:
    sys.stdout.write(
        f"{what}: {plural(filed.count, 'completion')} signed by {filed.signer}; "
        f"{filed.path.name} committed {filed.commit[:12]}\n"
    )
    return 0


def _run_ack(args: argparse.Namespace, ctx: Context) -> int:
    config = ctx.config()
    ids = [d.upper() for d in args.documents]
    filed = acknowledge(config, ids, user_keys(args), args.key, now())
    return _report(filed, "acknowledged")


def _run_session(args: argparse.Namespace, ctx: Context) -> int:
    config = ctx.config()
    filed = attest_session(
        config, [d.upper() for d in args.documents], args.attendee, args.form, args.title,
        args.date, user_keys(args), args.key, now(),
    )  # fmt: skip
    return _report(filed, "session attested")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QmsError(f"{path} is not UTF-8 text", "export the CSV as UTF-8") from exc


def _run_import(args: argparse.Namespace, ctx: Context) -> int:
    config = ctx.config()
    filed = import_completions(
        config, _read(args.csv), str(args.csv), args.system, user_keys(args), args.key,
        now(),
    )  # fmt: skip
    return _report(filed, "imported")


def _run_roster_import(args: argparse.Namespace, ctx: Context) -> int:
    config = ctx.config()
    filed = import_roster(config, _read(args.csv), str(args.csv), user_keys(args), args.key, now())
    sys.stdout.write(
        f"roster: {plural(filed.count, 'person')}, approved by {filed.signer}; "
        f"committed {filed.commit[:12]}\n"
    )
    return 0
