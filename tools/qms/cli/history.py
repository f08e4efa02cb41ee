"""`qms history` and `qms reviews`: what happened to a document, and what is due."""

from __future__ import annotations

import argparse
import sys

from qms.cli.context import Context
from qms.cli.output import (
    DOC_ID_HELP,
    TABLE_FORMATS,
    add_format_option,
    plural,
    print_json,
    print_table,
)
from qms.clock import now, today
from qms.model.timeutil import format_utc
from qms.services.change_control import audit_trail, change_control, history_json, history_rows
from qms.services.handbook import load_handbook, select
from qms.services.release import releases_of
from qms.services.reviews import reviews_due
from qms.services.traceability import render
from qms.services.training_view import training_trail

DUE_WITHIN_DAYS = 30


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `history` and `reviews`."""
    history = commands.add_parser(
        "history",
        help="every version of a document with commit, author, date, reason and approvals",
        description=(
            "List every version of DOC-ID from git, followed by id across renames and "
            "moves: the commit that introduced it, its author, the UTC date, the change "
            "reason and the verified approvals it received."
        ),
    )
    history.add_argument("document_id", metavar="DOC-ID", help=DOC_ID_HELP)
    history.add_argument("--json", action="store_true", help="print as JSON")
    history.set_defaults(handler=run_history)

    trail = commands.add_parser(
        "audit-trail",
        help="every event of a document in time order: who, when, what, why",
        description=(
            "Created, changed, version bumped, authored/reviewed/approved, released and "
            "retired events of DOC-ID from git and the verified approval records, in UTC "
            "time order. Printed as an aligned table; --format writes Markdown (for a "
            "change request or wiki), CSV (for a spreadsheet) or JSON."
        ),
        epilog="Example: qms audit-trail POL-ACC-001 --format csv > pol-acc-001-trail.csv",
    )
    trail.add_argument("document_id", metavar="DOC-ID", help=DOC_ID_HELP)
    add_format_option(trail, TABLE_FORMATS)
    trail.set_defaults(handler=run_audit_trail)

    reviews = commands.add_parser(
        "reviews",
        help=f"documents whose periodic review is overdue or due within {DUE_WITHIN_DAYS} days",
        description=(
            "The periodic review is due review_months after the effective date. Lists the "
            "documents whose review is overdue or falls due within the window. --strict "
            "exits 1 when any review is overdue, for a scheduled CI job."
        ),
        epilog="Example: qms reviews --within 90   (what falls due this quarter)",
    )
    reviews.add_argument("--json", action="store_true", help="print as JSON")
    reviews.add_argument("--strict", action="store_true", help="exit 1 when anything is overdue")
    reviews.add_argument(
        "--within",
        type=_days,
        default=DUE_WITHIN_DAYS,
        metavar="DAYS",
        help=f"how far ahead to look, in days (default {DUE_WITHIN_DAYS})",
    )
    reviews.set_defaults(handler=run_reviews)


def _when_due(days: int) -> str:
    if days < 0:
        return f"overdue by {plural(-days, 'day')}"
    return f"due in {plural(days, 'day')}" if days else "due today"


def _days(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days, e.g. 90")
    return int(text)


def _unavailable(command: str, document_id: str, reason: str, json_out: bool) -> int:
    """Say, on stderr and in --json, that without git history the command cannot run."""
    if json_out:
        key = "versions" if command == "history" else "events"
        print_json(history_json(document_id, key, [], reason))
    sys.stderr.write(
        f"qms {command}: history is unavailable: {reason}; run it in a clone of the handbook\n"
    )
    return 2


def run_history(args: argparse.Namespace, ctx: Context) -> int:
    """Print the versions of one document."""
    config = ctx.config()
    handbook = load_handbook(config)
    [document] = select(handbook.documents, [args.document_id])
    control = change_control(config, handbook, [document], now=now())
    if control.history_unavailable:
        return _unavailable("history", document.id, control.history_unavailable, args.json)
    rows = history_rows(control, document)
    if args.json:
        print_json(history_json(document.id, "versions", [row.as_dict() for row in rows]))
        return 0
    print_table(
        ["VERSION", "DATE (UTC)", "COMMIT", "AUTHOR", "APPROVALS", "CHANGE REASON"],
        [
            [
                str(row.version),
                format_utc(row.when),
                row.commit[:12],
                row.author,
                ", ".join(f"{s.meaning} {s.signer_name}" for s in row.signatures) or "-",
                row.change_reason or "-",
            ]
            for row in rows
        ],
    )
    return 0


def run_audit_trail(args: argparse.Namespace, ctx: Context) -> int:
    """Print the events of one document."""
    config = ctx.config()
    handbook = load_handbook(config)
    [document] = select(handbook.documents, [args.document_id])
    releases = releases_of(config, document.id)
    control = change_control(config, handbook, [document], now=now())
    training = training_trail(config, handbook, document, now())
    events = audit_trail(control, document, releases, config.role_title, training)
    if control.history_unavailable:
        # Signature events alone would read as a complete trail: print none.
        json_out = args.format == "json"
        return _unavailable("audit-trail", document.id, control.history_unavailable, json_out)
    if args.format != "text":
        sys.stdout.write(render(events, args.format))
        return 0
    print_table(
        ["WHEN (UTC)", "VERSION", "EVENT", "WHO", "COMMIT", "WHY"],
        [
            [
                e["when"],
                e["version"] or "-",
                e["event"],
                e["who"],
                e["commit"][:12] or "-",
                e["why"] or "-",
            ]
            for e in events
        ],
    )
    return 0


def run_reviews(args: argparse.Namespace, ctx: Context) -> int:
    """Print due and overdue periodic reviews."""
    reviews = reviews_due(ctx.config(), today(), args.within, now=now())
    if args.json:
        print_json(reviews.as_dict())
    elif not reviews.due:
        sys.stdout.write(
            f"no review due within {plural(args.within, 'day')} of {reviews.on.isoformat()} "
            "and none overdue\n"
        )
    else:
        print_table(
            ["ID", "DUE", "STATE", "OWNER", "TITLE"],
            [[r.id, r.due.isoformat(), _when_due(r.days), r.owner, r.title] for r in reviews.due],
        )
    return 1 if args.strict and reviews.overdue else 0
