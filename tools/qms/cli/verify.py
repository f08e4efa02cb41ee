"""`qms verify`: check every signature and the registry, hermetically."""

from __future__ import annotations

import argparse
import re
import sys

from qms.cli.context import Context
from qms.cli.output import add_cache_option, print_findings, print_json, print_table
from qms.cli.progress import counter, progress_bar
from qms.clock import now, today
from qms.errors import QmsError
from qms.model.approval_rules import DocumentVerdict
from qms.services.validated_version import validated_version_change
from qms.services.verify import verify_selected
from qms.services.verify_report import VerifyReport, verify_report
from qms.services.witness import witness_verify

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
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="DIR_OR_URL",
        help="also check against the published releases at DIR_OR_URL (the 'release "
        "publish' target or one release, as a folder or an http(s) address): every "
        "signature file a release attests must still be here (repeat for several)",
    )
    parser.add_argument(
        "--accept-rollback",
        action="store_true",
        help="this branch went back on purpose (with --reason): record it, and take HEAD "
        "as the new high-water mark",
    )
    parser.add_argument("--reason", default="", help="why the rollback was deliberate")
    add_cache_option(parser)
    parser.epilog = (
        "Each clone keeps a high-water mark in its git folder: after a clean verify, what "
        "the branch held. A later verify fails when a signature file it saw is gone or "
        "changed, or when the branch was rewritten. Examples: qms verify pol-acc-001 --json; "
        "qms verify --witness /srv/handbook; qms verify --accept-rollback --reason "
        "'CC-2026-0160: reverted a mistaken registry change'"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Verify and report."""
    config = ctx.config()
    if args.reason and not args.accept_rollback:
        raise QmsError("--reason goes with --accept-rollback", "add --accept-rollback, or drop it")
    with progress_bar(enabled=not args.json) as bar:
        _, verification = verify_selected(
            config, args.ids, now(), counter(bar, "verifying"), cache=args.cache
        )
    witnessed = witness_verify(
        config,
        verification.findings,
        args.witness,
        now(),
        full=not args.ids,
        accept=args.accept_rollback,
        reason=args.reason,
    )
    report = verify_report(config, verification, witnessed, today())
    change = validated_version_change(config)
    if args.json:
        data = report.as_dict()
        data["version_change"] = None if change is None else change.as_dict()
        print_json(data)
    else:
        _print_text(report)
    if change is not None:
        # [tool.qms.validation] on_version_change: "fail" makes it a failure, else a warning.
        kind = "FAIL" if change.fail else "warning"
        sys.stderr.write(f"qms verify: {kind}: {change.message}\n")
    return 1 if report.findings or (change is not None and change.fail) else 0


def _print_text(report: VerifyReport) -> None:
    verification, witnessed = report.verification, report.witnessed
    print_table(
        ["ID", "VERSION", "STATUS", "SIGNATURES"],
        [
            [
                d.row.document.id,
                str(d.row.document.version),
                str(d.row.status.status).upper(),
                "; ".join(
                    f"{s['meaning']} {s['name']} {s['signed_at']}"
                    + (f" ({s['note']})" if s["note"] else "")
                    + f", {s['time_source']}"
                    for s in d.signatures
                )
                or "-",
            ]
            for d in report.documents
        ],
    )
    for d in report.documents:
        if d.row.awaiting:
            sys.stdout.write(d.row.awaiting + "\n")
    if verification.line_endings:  # the fix first, then the files it concerns
        sys.stdout.write(verification.line_endings + "\n")
    print_findings(
        verification.registry.findings
        + verification.registry.migrations.findings
        + verification.altered
    )
    print_findings(witnessed.findings)
    accepted = witnessed.accepted
    if accepted is not None:
        sys.stderr.write(
            f"qms verify: rollback of branch {accepted.branch} accepted and recorded "
            f"({len(accepted.lost)} item(s) lost): {accepted.reason}\n"
        )
        sys.stderr.writelines(f"qms verify:   lost: {item}\n" for item in accepted.lost)
    if witnessed.high_water is not None and witnessed.high_water.branch is None:
        sys.stderr.write(
            "qms verify: note: HEAD is detached, so this clone's high-water mark was not checked\n"
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
        if not report.findings
        else f"{len(report.findings)} failures ('qms verify --json' has each file and the full "
        "detail)"
    )
    sys.stderr.write(f"qms verify: {verdict_line}\n")
