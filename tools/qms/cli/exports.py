"""`qms soa` and `qms risks`: exports for auditors, consistent with the site."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qms.cli.context import Context
from qms.cli.output import add_format_option, plural, print_findings, write_file
from qms.clock import today
from qms.config import QmsConfig
from qms.model.traceability import Graph
from qms.services.risk_acceptance import risk_export
from qms.services.traceability import FORMATS, export, soa_table

Table = Callable[[QmsConfig, Graph], list[dict[str, Any]]]


def _soa(_config: QmsConfig, graph: Graph) -> list[dict[str, Any]]:
    return soa_table(graph)


def _risks(config: QmsConfig, graph: Graph) -> list[dict[str, Any]]:
    # Acceptances are judged today, as 'qms risk status' judges them.
    return risk_export(config, graph, today())


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `soa` and `risks`."""
    for name, table, what in (
        ("soa", _soa, "the Statement of Applicability: one row per Annex A control"),
        (
            "risks",
            _risks,
            "the risk register: inherent, current and target scores, and each signed "
            "acceptance (state, by whom, role, when, until, at which score, why it lapsed)",
        ),
    ):
        parser = commands.add_parser(
            name,
            help=f"export {what.split(':')[0]}",
            description=(
                f"Export {what}. The rows come from the same code as the site's tables. "
                "CSV is UTF-8 with a byte-order mark and a header row, so spreadsheets "
                "open it correctly; list cells are joined with '; '."
            ),
            epilog=f"Example: qms {name} --format markdown --output {name}.md",
        )
        add_format_option(parser, FORMATS)
        parser.add_argument("--output", type=Path, metavar="FILE", help="default: stdout")
        parser.set_defaults(handler=_runner(table))


def _runner(table: Table) -> Callable[[argparse.Namespace, Context], int]:
    def run(args: argparse.Namespace, ctx: Context) -> int:
        config = ctx.config()
        text, findings = export(config, lambda graph: table(config, graph), args.format)
        if args.output:
            write_file(args.output, text)
        else:
            sys.stdout.write(text)
        if findings:
            print_findings(findings, sys.stderr)
            sys.stderr.write(
                f"qms: the handbook has {plural(len(findings), 'problem')}; "
                "the export may be incomplete\n"
            )
            return 1
        return 0

    return run
