"""`qms check`: validate the handbook and report every problem at its location."""

from __future__ import annotations

import argparse
import sys

from qms.cli.context import Context
from qms.cli.output import add_verbose_option, plural, print_findings, print_json, sphinx_log
from qms.cli.progress import progress_bar
from qms.clock import now
from qms.services.check import full_check, quick_check


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = commands.add_parser(
        "check",
        help="validate front matter, ids and traceability; exit 1 on any problem",
        description=(
            "Validate every controlled document: front matter (fields, types, allowed "
            "values), unique ids, and everything the site build enforces, such as "
            "sphinx-needs fields and links. Problems are printed as 'path:line: message'. "
            "On a terminal a progress bar shows how far the Sphinx read is; -v prints "
            "Sphinx's own log instead."
        ),
        epilog="Example: qms check --quick   (in a pre-commit hook: front matter and ids "
        "only, no Sphinx read)",
    )
    parser.add_argument("--json", action="store_true", help="print findings as JSON")
    parser.add_argument(
        "--quick", action="store_true", help="front matter and ids only (no Sphinx read)"
    )
    add_verbose_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Run the checks and report."""
    config = ctx.config()
    if args.quick:
        findings = quick_check(config, now())
    else:
        with progress_bar(enabled=not (args.json or args.verbose)) as bar:
            findings = full_check(config, now(), progress=sphinx_log(args.verbose), phases=bar)
    if args.json:
        print_json({"ok": not findings, "findings": [f.as_dict() for f in findings]})
    else:
        print_findings(findings)
        if findings:
            sys.stderr.write(f"qms check: {plural(len(findings), 'problem')} found\n")
        else:
            sys.stderr.write("qms check: no problems found\n")
    return 1 if findings else 0
