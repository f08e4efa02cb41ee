"""`qms impact`: suspect links (an upstream item changed since its document's approval) and
their signed assessments."""

from __future__ import annotations

import argparse
import sys

from qms.cli.context import Context
from qms.cli.output import plural, print_findings, print_json, print_table
from qms.cli.signing import add_signing_options, user_keys
from qms.clock import now
from qms.model.fingerprints import short
from qms.model.impact import Decision
from qms.services.impact import impact_status
from qms.services.impact_assess import assess_link

COLUMNS = ("document", "item", "link", "upstream", "approved", "recorded", "now", "where")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `qms impact` and `qms impact assess`."""
    parser = commands.add_parser(
        "impact",
        help="list suspect links: upstream items changed since their document was approved",
        description=(
            "Each approval records the fingerprint of every item its document links to "
            "upstream (what its controls implement or mitigate, what its procedures and "
            "evidence implement or demonstrate). A link is suspect when the upstream item's "
            "fingerprint now differs; whitespace and line endings do not count. It stays "
            "suspect until the document is approved again or a reviewer signs an assessment "
            "('qms impact assess'). Approvals before qms-approval/3 record no fingerprints: "
            "they are computed from git at the approval's commit, and a note says so."
        ),
        epilog="Example: qms impact --strict   (exit 1 on any suspect link: a merge gate)",
    )
    parser.add_argument("--json", action="store_true", help="print suspect and cleared links")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any suspect link")
    parser.set_defaults(handler=_run_list)
    sub = parser.add_subparsers(dest="impact_command", metavar="COMMAND")
    assess = sub.add_parser(
        "assess",
        help="sign an impact assessment of one suspect link",
        description=(
            "Signs and commits signatures/impact/DOC-ID/<time>--<key>.json, binding the "
            "upstream fingerprint recorded at the document's approval and the current one: "
            "a later edit of the upstream item makes the link suspect again. You must be a "
            "registered signer holding a role that may review the downstream document."
        ),
        epilog=(
            "Example: qms impact assess PRC-ACC-03 CTL-5-16 --decision no-change "
            "--ref CC-2027-0012 --reason 'joiner steps unaffected by the new review cycle'"
        ),
    )
    assess.add_argument("item", metavar="DOWNSTREAM-ITEM", help="e.g. PRC-ACC-03")
    assess.add_argument("upstream", metavar="UPSTREAM-ITEM", help="e.g. CTL-5-16")
    assess.add_argument(
        "--decision",
        required=True,
        choices=[str(d) for d in Decision],
        help="no-change: the downstream item stays right; change: it must be revised",
    )
    assess.add_argument(
        "--ref", default="", help="the change request or record (needed for change)"
    )
    assess.add_argument("--reason", required=True, help="why, in one or two sentences")
    add_signing_options(assess, "your key (you hold a role that may review the document)")
    assess.set_defaults(handler=_run_assess)


def _run_list(args: argparse.Namespace, ctx: Context) -> int:
    impact = impact_status(ctx.config(), now())
    suspect = impact.suspect
    if args.json:
        print_json(impact.as_dict())
    else:
        rows = [
            [
                s.link.document_id,
                s.link.item,
                s.link.link,
                s.link.upstream,
                s.baseline.version if s.baseline else "",
                short(s.recorded),
                short(s.current) or "(removed)",
                f"{s.link.path}:{s.link.line}",
            ]
            for s in suspect
        ]
        if rows:
            print_table(COLUMNS, rows)
        for note in impact.notes:
            sys.stderr.write(f"note: {note}\n")
        cleared = sum(1 for s in impact.links if s.state == "cleared")
        sys.stderr.write(
            f"{plural(len(suspect), 'suspect link')}, {plural(cleared, 'cleared link')} "
            "by assessment\n"
        )
    if impact.findings:
        print_findings(impact.findings, sys.stderr)
    return 1 if impact.findings or (args.strict and suspect) else 0


def _run_assess(args: argparse.Namespace, ctx: Context) -> int:
    done = assess_link(
        ctx.config(),
        args.item,
        args.upstream,
        Decision(args.decision),
        args.ref,
        args.reason,
        user_keys(args),
        args.key,
        now(),
    )
    a = done.assessment
    sys.stdout.write(
        f"assessed: {a.item} → {a.upstream} ({a.document_id}): {a.decision} by "
        f"{a.signer_name} ({a.signer_role}); {done.path.name} committed {done.commit[:12]}\n"
    )
    return 0
