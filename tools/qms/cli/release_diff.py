"""`qms release diff OLD NEW`: what changed between two signed releases."""

from __future__ import annotations

import argparse
import sys

from qms.cli.context import Context
from qms.cli.output import print_json, print_table
from qms.model.release_diff_table import sections
from qms.services.release.diff import release_diff


def add_diff_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `release diff`."""
    diff = sub.add_parser(
        "diff",
        help="compare two signed releases",
        description=(
            "Verify both releases' manifests and signatures, then list the documents added, "
            "revised, superseded and withdrawn, the items added, changed and removed, the "
            "SoA decisions and risk scores that changed, and the signers added or revoked. "
            "Offline: only the committed manifests and git history are read."
        ),
    )
    diff.add_argument("old", metavar="OLD", help="the earlier release, e.g. 2026-06")
    diff.add_argument("new", metavar="NEW", help="the later release, e.g. 2026-12")
    diff.add_argument("--json", action="store_true", help="print the comparison as JSON")
    diff.set_defaults(handler=run_diff)


def run_diff(args: argparse.Namespace, ctx: Context) -> int:
    """Compare and print."""
    diff = release_diff(ctx.config(), args.old, args.new)
    if args.json:
        print_json(diff.as_dict())
        return 0
    out = sys.stdout
    out.write(
        f"Release {diff.old} (commit {diff.old_commit[:12]}) -> release {diff.new} "
        f"(commit {diff.new_commit[:12]}); both manifests verified\n"
    )
    for section in sections(diff):
        if not section.rows:
            out.write(f"\n{section.empty}\n")
            continue
        out.write(f"\n{section.title} ({len(section.rows)})\n")
        print_table(section.headers, section.rows)
    return 0
