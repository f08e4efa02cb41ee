"""`qms approve`: sign the current version of a document with your own key."""

from __future__ import annotations

import argparse
import sys

from qms.cli.context import Context
from qms.cli.output import DOC_ID_HELP
from qms.cli.signing import add_signing_options, user_keys
from qms.clock import now
from qms.model.approval import MEANING_ORDER, Meaning
from qms.model.timeutil import format_utc
from qms.services.approve import Approval, approve


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = commands.add_parser(
        "approve",
        help="sign a document version (authored, reviewed or approved)",
        description=(
            "Sign the current version of DOC-ID with your GnuPG key. The signature covers a "
            "statement holding the document's SHA-256, the meaning, your printed name, role "
            "and the UTC time; it is written under signatures/approvals/ and committed. "
            "Signatures follow the order authored, reviewed, approved, and the approver of "
            "a version is never its author or reviewer."
        ),
        epilog="Example: qms approve POL-ACC-001 --meaning reviewed --comment 'Checked MFA scope'",
    )
    parser.add_argument("document_id", metavar="DOC-ID", help=DOC_ID_HELP)
    parser.add_argument(
        "--meaning",
        required=True,
        choices=[str(m) for m in MEANING_ORDER],
        help="what your signature means",
    )
    parser.add_argument("--comment", default="", help="recorded in the signed statement")
    add_signing_options(
        parser,
        "your signing key (default: your only registered secret key that may still sign; "
        "holding several, approve lists them to choose from)",
    )
    parser.set_defaults(handler=run)


def sign(args: argparse.Namespace, ctx: Context, retire: str | None = None) -> Approval:
    """Sign DOC-ID as the arguments say: an approval, or with `retire` a retirement."""
    return approve(
        ctx.config(),
        args.document_id,
        Meaning(args.meaning),
        user_keys(args),
        args.key,
        args.comment,
        now=now(),
        retire=retire,
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Sign and report."""
    config = ctx.config()
    result = sign(args, ctx)
    statement = result.statement
    sys.stdout.write(
        f"{statement.document_id} {statement.version}: {statement.meaning} by "
        f"{statement.signer_name} ({config.role_title(statement.role)}) at "
        f"{format_utc(statement.signed_at)}, key {statement.signer_fingerprint}; "
        f"committed {result.commit[:12]}\n"
    )
    return 0
