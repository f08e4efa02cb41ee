"""`qms verify`: check every signature and the registry, hermetically."""

from __future__ import annotations

import argparse
import re
import sys

from qms.cli.context import Context
from qms.cli.output import print_findings, print_json, print_table
from qms.cli.progress import counter, progress_bar
from qms.model.approval_rules import DocumentVerdict
from qms.services.handbook import today
from qms.services.verify import verify_selected

# Fingerprints and commit ids in one-line findings: the long key id (as gpg shows it) and
# git's short id are unambiguous; --json keeps them whole.
_FINGERPRINT = re.compile(r"\b[0-9A-F]{24}([0-9A-F]{16})\b")
_COMMIT = re.compile(r"\b([0-9a-f]{12})[0-9a-f]{28}\b")


def failure_lines(verdict: DocumentVerdict) -> list[str]:
    """One short line per failed signature: document and version first, then who, then why.

    e.g. "POL-ACC-001 2.0: reviewed by Marco Bianchi: signed after Marco Bianchi's key
    was revoked at 2026-03-01T00:00:00Z (Left)". The record's file is in --json.
    """
    lines = []
    for judged in verdict.verdicts:
        if judged.valid:
            continue
        record, statement = judged.record, judged.record.statement
        who = (
            f"{statement.meaning} by {statement.signer_name}"
            if statement is not None
            else record.path.rsplit("/", 1)[-1]
        )
        text = f"{verdict.document.id} {record.folder_version}: {who}: {judged.problem}"
        lines.append(_COMMIT.sub(r"\1", _FINGERPRINT.sub(r"\1", text)))
    return lines


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
            "registry that is not properly approved. Each signature that does not count is "
            "one line, document first ('POL-ACC-001 2.0: reviewed by NAME: why'); --json "
            "adds the record's file and the full fingerprints."
        ),
        epilog="Example: qms verify pol-acc-001 --json   (one document, for a script)",
    )
    parser.add_argument("ids", nargs="*", metavar="DOC-ID", help="only these documents (any case)")
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
                "migrations": [f.as_dict() for f in verification.registry.migrations.findings],
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
        print_findings(
            verification.registry.findings
            + verification.registry.migrations.findings
            + verification.altered
        )
        for verdict in verification.verdicts:
            sys.stdout.writelines(line + "\n" for line in failure_lines(verdict))
        if verification.history_unchecked:
            sys.stderr.write(
                "qms verify: note: rewritten history and committed changes to signature "
                f"files were not checked: {verification.history_unchecked}\n"
            )
        verdict_line = (
            "all signatures verify"
            if not findings
            else f"{len(findings)} failures ('qms verify --json' has each file and the full detail)"
        )
        sys.stderr.write(f"qms verify: {verdict_line}\n")
    return 1 if findings else 0
