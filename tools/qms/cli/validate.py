"""`qms validate`: qualification of the installed tool; first `iq`, the installation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qms.cli.context import Context
from qms.cli.output import write_file
from qms.clock import now
from qms.errors import QmsError
from qms.services.validate_iq import qualify_installation


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the command group."""
    parser = commands.add_parser(
        "validate",
        help="qualify the installed qms-handbook (IQ)",
        description="Qualify the installed product for use in a validated (GxP) setting.",
    )
    sub = parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    iq = sub.add_parser(
        "iq",
        help="check and record the installation: versions, installed files, gpg",
        description=(
            "Installation qualification: record the versions of Python, Sphinx, "
            "sphinx-needs, myst-parser, GitPython, python-gnupg, gpg and git; check the "
            "SHA-256 of every installed file of qms-handbook against the RECORD pip wrote; "
            "and have gpg create a throwaway ed25519 key, sign and verify in a temporary "
            "GnuPG home. Exit 0 when every check passes, 1 when any fails. Needs no handbook."
        ),
    )
    iq.add_argument("--json", action="store_true", help="print the record as JSON")
    iq.add_argument(
        "--output", type=Path, metavar="FILE", help="also write the JSON record to FILE"
    )
    iq.set_defaults(handler=run_iq)


def run_iq(args: argparse.Namespace, _ctx: Context) -> int:
    """Run the IQ, print the checks, write the record if asked; failures one per line."""
    record = qualify_installation(now())
    try:
        text = record.to_json()
    except ValueError as exc:
        raise QmsError(f"the IQ record is not valid: {exc}", "report this as a bug") from exc
    if args.output is not None:
        write_file(args.output, text)
    if args.json:
        sys.stdout.write(text)
    else:
        product = record.product
        sys.stdout.write(
            f"{product.distribution} {product.version} ({product.kind} install), "
            f"IQ at {record.as_dict()['performed_at']}\n"
        )
        width = max(len(check.id) for check in record.checks)
        for check in record.checks:
            verdict = "PASS" if check.passed else "FAIL"
            sys.stdout.write(f"{verdict}  {check.id.ljust(width)}  {check.detail}\n")
    for line in record.failure_lines():
        sys.stderr.write(f"qms validate iq: FAIL {line}\n")
    return 0 if record.passed else 1
