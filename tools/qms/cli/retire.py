"""`qms retire`: sign the withdrawal of an approved document from use."""

from __future__ import annotations

import argparse
import json
import sys

from qms.cli.approve import sign
from qms.cli.context import Context
from qms.cli.output import DOC_ID_HELP
from qms.cli.signing import add_signing_options
from qms.model.approval import MEANING_ORDER
from qms.model.timeutil import format_utc


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = commands.add_parser(
        "retire",
        help="sign the withdrawal of an approved document (authored, reviewed, approved)",
        description=(
            "Withdraw the approved version of DOC-ID from use with your GnuPG key. A "
            "retirement takes the signatures its type's approval takes, in the same order "
            "and with the same segregation of duties; once all verify, the document is "
            "RETIRED: it leaves the navigation, the register's current section and every "
            "new release, and its page stays readable as an archive copy. Its id is never "
            "reused. The statements are written under signatures/retirements/ and committed."
        ),
        epilog=(
            "Example: qms retire SOP-ITO-007 --meaning authored --reason 'Replaced by "
            "SOP-ITO-003 2.0'; the reviewer and approver then sign with --meaning reviewed "
            "and --meaning approved (the reason is taken from the request)."
        ),
    )
    parser.add_argument("document_id", metavar="DOC-ID", help=DOC_ID_HELP)
    parser.add_argument(
        "--meaning",
        required=True,
        choices=[str(m) for m in MEANING_ORDER],
        help="what your signature means: authored requests the retirement",
    )
    parser.add_argument(
        "--reason", default="", help="why it is withdrawn (required to request the retirement)"
    )
    parser.add_argument("--comment", default="", help="recorded in the signed statement")
    parser.add_argument("--json", action="store_true", help="print the statement as JSON")
    add_signing_options(parser, "your signing key (as for qms approve)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Sign and report."""
    config = ctx.config()
    result = sign(args, ctx, retire=args.reason)
    statement = result.statement
    if args.json:
        json.dump({**statement.as_dict(), "committed": result.commit}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(
        f"{statement.document_id} {statement.version}: retirement {statement.meaning} by "
        f"{statement.signer_name} ({config.role_title(statement.role)}) at "
        f"{format_utc(statement.signed_at)} ({statement.retirement_reason}); "
        f"committed {result.commit[:12]}\n"
    )
    return 0
