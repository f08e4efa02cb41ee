"""`qms new` and `qms bump`: start a document, raise its version with a reason."""

from __future__ import annotations

import argparse
import sys

from qms.cli.context import Context
from qms.cli.output import DOC_ID_HELP
from qms.model.document import DocumentType
from qms.services.authoring import bump, new_document


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `new` and `bump`."""
    new = commands.add_parser(
        "new",
        help="create a draft document with the next free id",
        description=(
            "Create a draft (version 0.1) in the folder of its type, with complete front "
            "matter and the sections that type of document has. Ids are never reused: the "
            "next free number counts every id ever used in git history."
        ),
        epilog="Example: qms new --type procedure --area BCK --title 'Backup and Restore'",
    )
    new.add_argument("--type", required=True, choices=[str(t) for t in DocumentType])
    new.add_argument("--title", required=True)
    new.add_argument("--owner", default="ISMS Manager", help="a role (default: ISMS Manager)")
    new.add_argument("--area", default="", help="area code in the id, e.g. ACC for SOP-ACC-001")
    new.set_defaults(handler=run_new)

    raise_version = commands.add_parser(
        "bump",
        help="raise a document's version and record the change reason",
        description=(
            "Raise the version (1.2 -> 1.3, or 2.0 with --major) and set change_reason. "
            "A document changed after approval needs this before it can be committed; "
            "signatures never carry over to the new version. A reason naming a CAPA or a "
            "change request (CAPA-2026-0031: ..., CC-2026-0142: ...) is checked: it must "
            "exist in the handbook as a capa or change item; with [tool.qms] "
            'change_reference = "required" a reason must name one.'
        ),
        epilog="Example: qms bump SOP-ITO-002 --reason 'CC-2026-0142: immutable LIMS backups'",
    )
    raise_version.add_argument("document_id", metavar="DOC-ID", help=DOC_ID_HELP)
    raise_version.add_argument("--reason", required=True, help="what changed and why")
    raise_version.add_argument(
        "--major", action="store_true", help="a change of meaning, scope or responsibilities"
    )
    raise_version.set_defaults(handler=run_bump)


def run_new(args: argparse.Namespace, ctx: Context) -> int:
    """Create the draft."""
    config = ctx.config()
    created = new_document(config, DocumentType(args.type), args.title, args.owner, args.area)
    shown = created.path.relative_to(config.root)
    sys.stdout.write(f"{created.document_id} created at {shown} (version 0.1, draft)\n")
    return 0


def run_bump(args: argparse.Namespace, ctx: Context) -> int:
    """Raise the version."""
    result = bump(ctx.config(), args.document_id, args.reason, args.major)
    sys.stdout.write(f"{result.document.id}: version {result.old} -> {result.new}\n")
    return 0
