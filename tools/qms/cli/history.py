"""`qms history` and `qms reviews`: what happened to a document, and what is due."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from qms.cli.context import Context
from qms.cli.output import print_json, print_table
from qms.model.status import next_review
from qms.model.timeutil import format_utc
from qms.services.change_control import audit_trail, change_control, history_rows
from qms.services.handbook import load_handbook, select, today
from qms.services.release import releases_of
from qms.services.traceability import FORMATS, render

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
    history.add_argument("document_id", metavar="DOC-ID")
    history.add_argument("--json", action="store_true", help="print as JSON")
    history.set_defaults(handler=run_history)

    trail = commands.add_parser(
        "audit-trail",
        help="every event of a document in time order: who, when, what, why",
        description=(
            "Created, changed, version bumped, authored/reviewed/approved and retired events "
            "of DOC-ID from git and the verified approval records, in UTC time order."
        ),
    )
    trail.add_argument("document_id", metavar="DOC-ID")
    trail.add_argument("--format", choices=FORMATS, default="md", help="default: md")
    trail.set_defaults(handler=run_audit_trail)

    reviews = commands.add_parser(
        "reviews",
        help=f"documents whose periodic review is overdue or due within {DUE_WITHIN_DAYS} days",
        description=(
            "The periodic review is due review_months after the effective date. --strict "
            "exits 1 when any review is overdue, for CI."
        ),
    )
    reviews.add_argument("--json", action="store_true", help="print as JSON")
    reviews.add_argument("--strict", action="store_true", help="exit 1 when anything is overdue")
    reviews.set_defaults(handler=run_reviews)


def run_history(args: argparse.Namespace, ctx: Context) -> int:
    """Print the versions of one document."""
    config = ctx.config()
    handbook = load_handbook(config)
    [document] = select(handbook.documents, [args.document_id])
    control = change_control(config, handbook, [document])
    rows: list[dict[str, Any]] = [
        {
            "version": str(row.version),
            "commit": row.commit,
            "author": row.author,
            "date": format_utc(row.when),
            "path": row.path,
            "change_reason": row.change_reason,
            "approved": row.approved,
            "signatures": [
                {
                    "meaning": str(s.meaning),
                    "name": s.signer_name,
                    "signed_at": format_utc(s.signed_at),
                }
                for s in row.signatures
            ],
        }
        for row in history_rows(control, document)
    ]
    if args.json:
        print_json({"id": document.id, "versions": rows})
        return 0
    print_table(
        ["VERSION", "DATE (UTC)", "COMMIT", "AUTHOR", "APPROVALS", "CHANGE REASON"],
        [
            [
                row["version"],
                row["date"],
                row["commit"][:12],
                row["author"],
                ", ".join(f"{s['meaning']} {s['name']}" for s in row["signatures"]) or "-",
                row["change_reason"] or "-",
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
    control = change_control(config, handbook, [document])
    events = audit_trail(control, document, releases, config.role_title)
    sys.stdout.write(render(events, args.format))
    return 0


def run_reviews(args: argparse.Namespace, ctx: Context) -> int:
    """Print due and overdue periodic reviews."""
    handbook = load_handbook(ctx.config())
    on = today()
    due: list[tuple[int, str, str, date, str]] = []
    for document in handbook.documents:
        review = next_review(document)
        if review is None:
            continue
        days = (review - on).days
        if days <= DUE_WITHIN_DAYS:
            due.append((days, document.id, document.title, review, document.owner))
    due.sort()
    overdue = [row for row in due if row[0] < 0]
    if args.json:
        print_json(
            {
                "date": on.isoformat(),
                "reviews": [
                    {"id": i, "title": t, "due": d.isoformat(), "owner": o, "days": n,
                     "state": "overdue" if n < 0 else "due"}
                    for n, i, t, d, o in due
                ],
            }
        )  # fmt: skip
    else:
        print_table(
            ["ID", "DUE", "STATE", "OWNER", "TITLE"],
            [
                [i, d.isoformat(), f"overdue by {-n} days" if n < 0 else f"due in {n} days", o, t]
                for n, i, t, d, o in due
            ],
        )
    return 1 if args.strict and overdue else 0
