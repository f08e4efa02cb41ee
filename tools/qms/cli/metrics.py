"""`qms metrics`: the KPIs (ISO 27001 9.1) with value, target, state and trend."""

from __future__ import annotations

import argparse
import sys

from qms.cli.context import Context
from qms.cli.output import plural, print_findings, print_json, print_table
from qms.clock import now, today
from qms.model.csvcells import csv_text
from qms.model.findings import FindingCode
from qms.model.metrics import RED
from qms.services.metrics import MetricRow, MetricsReport, metrics_report

COLUMNS = ("KPI", "VALUE", "TARGET", "STATE", "TREND", "PERIOD", "OWNER", "TITLE")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = commands.add_parser(
        "metrics",
        help="list the KPIs with current value, target, red/amber/green state and trend",
        description=(
            "List every KPI (metric need) with its latest value, its target, its state "
            "(green at or better than the amber threshold, red worse than the red one, "
            "amber between) and a trend arrow (the last result against the one before: "
            "↑ better, ↓ worse, → the same). Manual KPIs take their results from "
            "docs/_metrics/<kpi-id>.yaml; computed KPIs are counted from the handbook at "
            "the commit, and kept per commit in the clone's git folder."
        ),
        epilog=(
            "Examples: qms metrics; qms metrics --at v2026.3 --json; "
            "qms metrics --strict (in a scheduled CI job: exit 1 on any red KPI or "
            "missing result)."
        ),
    )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the report as JSON")
    shape.add_argument(
        "--csv", action="store_true", help="print one row per KPI as CSV (UTF-8, header row)"
    )
    parser.add_argument(
        "--at",
        metavar="RELEASE|COMMIT",
        default="",
        help="the KPIs as they were at a release tag or commit (default: the working tree)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 on any red KPI or any missing result for an ended period",
    )
    parser.set_defaults(handler=run)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _cells(row: MetricRow) -> list[str]:
    metric = row.metric
    unit = "" if metric.unit in ("count",) else metric.unit
    target = f"{'≥' if metric.direction == 'higher' else '≤'} {_number(metric.target)}{unit}"
    value = _number(row.value) + (unit if row.value is not None else "")
    return [metric.id, value, target, row.state.upper(), row.trend or "-",
            row.period or "-", metric.owner, metric.title]  # fmt: skip


def _csv(report: MetricsReport) -> str:
    headers = ["id", "title", "value", "unit", "target", "amber", "red", "direction", "state",
               "trend", "period", "owner", "source", "missing"]  # fmt: skip
    rows = (
        [r.metric.id, r.metric.title, _number(r.value), r.metric.unit, _number(r.metric.target),
         _number(r.metric.amber), _number(r.metric.red), r.metric.direction, r.state,
         r.trend, r.period, r.metric.owner, r.metric.source, "; ".join(r.missing)]
        for r in report.rows
    )  # fmt: skip
    return csv_text(headers, rows)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the report; with --strict, exit 1 on a red KPI or a missing result."""
    report = metrics_report(ctx.config(), today(), now(), args.at)
    if args.json:
        print_json(report.as_dict())
    elif args.csv:
        sys.stdout.write(_csv(report))
    elif report.rows:
        print_table(list(COLUMNS), [_cells(row) for row in report.rows])
    else:
        sys.stdout.write("no KPI defined: add metric needs (see 'qms check --explain metric')\n")
    missing = [f for f in report.findings if f.code == FindingCode.METRIC_MISSING]
    broken = [f for f in report.findings if f.code != FindingCode.METRIC_MISSING]
    if broken:
        print_findings(broken, sys.stderr)
    red = [row for row in report.rows if row.state == RED]
    if args.strict and (missing or red):
        print_findings(missing, sys.stderr)
        for row in red:
            sys.stderr.write(f"{row.metric.id}: red, {_cells(row)[1]} against {_cells(row)[2]}\n")
        sys.stderr.write(
            f"qms metrics: {plural(len(red), 'red KPI')}, {plural(len(missing), 'missing result')}"
            "; add the results to docs/_metrics/ or act on the red KPIs\n"
        )
        return 1
    if missing and not args.json:
        sys.stderr.write(
            f"qms metrics: {plural(len(missing), 'missing result')} "
            "(run with --strict to list them and fail)\n"
        )
    return 1 if broken else 0
