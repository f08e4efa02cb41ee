"""`qms check`: validate the handbook and report every problem at its location."""

from __future__ import annotations

import argparse
import difflib
import sys

from qms.cli.context import Context
from qms.cli.output import add_verbose_option, plural, print_findings, print_json, sphinx_log
from qms.cli.progress import progress_bar
from qms.clock import now
from qms.errors import QmsError
from qms.model.findings import Finding, FindingCode, code_named
from qms.services.check import full_check, quick_check

EXPLAIN_ALL = "all"


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
        "only, no Sphinx read). Every finding of qms carries a code (in --json, and as "
        "[qms.CODE] in Sphinx's log): 'qms check --explain CODE' says what it means and what "
        "to do, 'qms check --explain all' lists every code.",
    )
    parser.add_argument("--json", action="store_true", help="print findings as JSON")
    parser.add_argument(
        "--quick", action="store_true", help="front matter and ids only (no Sphinx read)"
    )
    parser.add_argument(
        "--explain",
        metavar="CODE",
        help="say what a finding code means and what to do ('all' for every code); checks nothing",
    )
    add_verbose_option(parser)
    parser.set_defaults(handler=run)


def explain(name: str, as_json: bool) -> int:
    """Print one code (or every code) with its explanation."""
    if name == EXPLAIN_ALL:
        codes = list(FindingCode)
    else:
        found = code_named(name)
        if found is None:
            close = difflib.get_close_matches(name, [str(c) for c in FindingCode], n=1)
            guess = f" (did you mean '{close[0]}'?)" if close else ""
            raise QmsError(
                f"unknown finding code {name!r}{guess}",
                f"'qms check --explain {EXPLAIN_ALL}' lists every code",
            )
        codes = [found]
    entries = [{"code": str(c), "explanation": c.explanation} for c in codes]
    if as_json:
        print_json({"codes": entries} if name == EXPLAIN_ALL else entries[0])
    else:
        for entry in entries:
            print(f"{entry['code']}: {entry['explanation']}")
    return 0


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Run the checks and report (or explain a finding code)."""
    if args.explain is not None:
        return explain(args.explain, args.json)
    config = ctx.config()
    notices: tuple[Finding, ...] = ()
    if args.quick:
        findings = quick_check(config, now())
    else:
        with progress_bar(enabled=not (args.json or args.verbose)) as bar:
            checked = full_check(config, now(), progress=sphinx_log(args.verbose), phases=bar)
        findings, notices = checked.findings, checked.notices
    if args.json:
        print_json(
            {
                "ok": not findings,
                "findings": [f.as_dict() for f in findings],
                "notices": [f.as_dict() for f in notices],
            }
        )
    else:
        print_findings([*findings, *notices])
        counted = f" ({plural(len(notices), 'notice')})" if notices else ""
        if findings:
            sys.stderr.write(f"qms check: {plural(len(findings), 'problem')} found{counted}\n")
        else:
            sys.stderr.write(f"qms check: no problems found{counted}\n")
    return 1 if findings else 0
