"""`qms verify`: check every signature and the registry, hermetically."""

from __future__ import annotations

import argparse
import sys

from qms.cli.context import Context
from qms.cli.output import print_findings, print_json, print_table
from qms.cli.progress import counter, progress_bar
from qms.services.handbook import today
from qms.services.verify import verify_selected


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = commands.add_parser(
        "verify",
        help="verify approvals and the signer registry; exit 1 on any failure",
        description=(
            "Verify every approval record and the signer registry with a temporary GnuPG "
            "home built only from signatures/keys/ (never your keyring), and print each "
            "document's derived status. Fails on bad signatures, statements that do not "
            "match the current content or were copied, unknown or unauthorised signers, "
            "signatures after revocation or expiry, broken segregation of duties, and a "
            "registry that is not properly approved."
        ),
    )
    parser.add_argument("ids", nargs="*", metavar="DOC-ID", help="only these documents")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Verify and report."""
    config = ctx.config()
    with progress_bar(enabled=not args.json) as bar:
        _, verification = verify_selected(config, args.ids, counter(bar, "verifying"))
    rows = []
    for row, verdict in verification.rows(config, today()):
        signatures = [
            {**v.record.statement.signer_summary(), "note": v.note}
            for v in verdict.signatures
            if v.record.statement is not None
        ]
        rows.append((row, signatures, verdict.findings))
    findings = verification.findings
    if args.json:
        latest = verification.registry.history.latest
        print_json(
            {
                "ok": not findings,
                "registry": {
                    "revision": latest.revision if latest else None,
                    "trusted": verification.registry.trusted,
                    "findings": [f.as_dict() for f in verification.registry.findings],
                },
                "altered": [f.as_dict() for f in verification.altered],
                "history_unchecked": verification.history_unchecked or None,
                "documents": [
                    {**row.as_dict(), "signatures": sigs, "findings": [f.as_dict() for f in fs]}
                    for row, sigs, fs in rows
                ],
            }
        )
    else:
        print_table(
            ["ID", "VERSION", "STATUS", "SIGNATURES"],
            [
                [
                    row.document.id,
                    str(row.document.version),
                    str(row.status.status).upper(),
                    "; ".join(
                        f"{s['meaning']} {s['name']} {s['signed_at']}"
                        + (f" ({s['note']})" if s["note"] else "")
                        for s in sigs
                    )
                    or "-",
                ]
                for row, sigs, _ in rows
            ],
        )
        print_findings(findings)
        if verification.history_unchecked:
            sys.stderr.write(
                "qms verify: note: rewritten history and committed changes to signature "
                f"files were not checked: {verification.history_unchecked}\n"
            )
        verdict_line = "all signatures verify" if not findings else f"{len(findings)} failures"
        sys.stderr.write(f"qms verify: {verdict_line}\n")
    return 1 if findings else 0
