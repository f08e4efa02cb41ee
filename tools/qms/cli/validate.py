"""`qms validate`: qualification of the installed tool (IQ, OQ), deviations and the report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qms.cli.context import Context
from qms.cli.output import print_findings, print_json, write_file
from qms.cli.progress import progress_bar
from qms.cli.signing import add_signing_options, user_keys
from qms.clock import now
from qms.errors import NotAHandbookError, QmsError
from qms.model.deviation import Decision
from qms.model.oq_results import Outcome
from qms.services.deviation_sign import dispose
from qms.services.validate_iq import qualify_installation
from qms.services.validate_oq import run_oq, shipped_suite
from qms.services.validate_report import ValidationReport, validation_report
from qms.services.validation_files import iq_record_path, oq_junit_path


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the command group."""
    parser = commands.add_parser(
        "validate",
        help="qualify the installed qms-handbook (IQ, OQ), dispose of deviations, report",
        description="Qualify the installed product for use in a validated (GxP) setting.",
    )
    sub = parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    iq = sub.add_parser(
        "iq",
        help="check and record the installation: versions, installed files, gpg",
        description=(
            "Installation qualification: record the versions of Python, Sphinx, "
            "sphinx-needs, myst-parser, GitPython, python-gnupg, pytest, sphinx-test-reports, "
            "gpg and git; check the "
            "SHA-256 of every installed file of qms-handbook against the RECORD pip wrote; "
            "and have gpg create a throwaway ed25519 key, sign and verify in a temporary "
            "GnuPG home. Exit 0 when every check passes, 1 when any fails. Inside a "
            "handbook the record is written to docs/validation/_results/iq.json, where the "
            "validation report reads it; elsewhere only with --output."
        ),
    )
    iq.add_argument("--json", action="store_true", help="print the record as JSON")
    iq.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write the JSON record to FILE (default: the handbook's "
        "docs/validation/_results/iq.json)",
    )
    iq.set_defaults(handler=run_iq)
    oq = sub.add_parser(
        "oq",
        help="run the operational qualification shipped with qms; write JUnit XML",
        description=(
            "Operational qualification: run the OQ test suite shipped inside qms-handbook "
            "(the package qms.oq: each test names the user requirements it verifies) with "
            "pytest, in this process, against the installed product, in temporary git "
            "repositories and GnuPG homes. The JUnit XML results (each case with its node "
            "id, requirements and check as properties) go to "
            "docs/validation/_results/oq-junit.xml, where the validation report reads them. "
            "Every failed, errored or skipped test is a deviation that QA disposes of with "
            "'qms validate disposition'. Exit 0 when every test passed, 1 when one failed."
        ),
        epilog="Example: qms validate oq && git add docs/validation/_results && git commit",
    )
    oq.add_argument(
        "--suite", type=Path, metavar="DIR", help="run the tests in DIR instead (default: qms.oq)"
    )
    oq.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="write the JUnit XML to FILE (default: docs/validation/_results/oq-junit.xml)",
    )
    oq.add_argument("--json", action="store_true", help="print the summary as JSON")
    oq.set_defaults(handler=run_oq_command)
    disposition = sub.add_parser(
        "disposition",
        help="sign QA's disposition of one OQ deviation (a failed or skipped test)",
        description=(
            "Dispose of one deviation of the OQ results: a test that failed, errored or was "
            "skipped. The signed statement (qms-deviation/1) names the test and the SHA-256 "
            "of the committed results file, so a new OQ run needs new dispositions. "
            "'accepted': the deviation does not affect the intended use, and the reason says "
            "why; 'corrected': its cause was corrected, and the reason says how (a change "
            "request, a CAPA). Only a registered signer of the qa role counts; the "
            "validation report shows each deviation with its disposition."
        ),
        epilog=(
            "Example: qms validate disposition 'test_timestamps.py::test_tsa_down' "
            "--decision accepted --reason 'No TSA is used at Corvane (SOP-QMS-001); "
            "trusted time is off'"
        ),
    )
    disposition.add_argument("test_id", metavar="TEST", help="the test's node id, as oq prints it")
    disposition.add_argument(
        "--decision", required=True, choices=[str(d) for d in Decision], help="what QA decided"
    )
    disposition.add_argument("--reason", required=True, help="why (accepted) or how (corrected)")
    disposition.add_argument(
        "--results",
        type=Path,
        metavar="FILE",
        help="the OQ results (default: docs/validation/_results/oq-junit.xml)",
    )
    add_signing_options(disposition, "your key (you hold the qa role)")
    disposition.set_defaults(handler=run_disposition)
    report = sub.add_parser(
        "report",
        help="check the trace, read the IQ and OQ results, build the validation report",
        description=(
            "Prepare the validation report for release: check that every user requirement "
            "has an OQ test and every test marker names a requirement (with --suite, or the "
            "shipped qms.oq), read the IQ record and the OQ results from "
            "docs/validation/_results/, judge each deviation's signed disposition, and build "
            "the pages (as 'qms build': every warning is a problem). Exit 0 when the report "
            "is ready for approval and release as the 'validation' set, and say how; 1 while "
            "an IQ check failed, a deviation is undisposed or a page has a warning."
        ),
        epilog="Example: qms validate iq && qms validate oq; qms validate report",
    )
    report.add_argument(
        "--suite", type=Path, metavar="DIR", help="the OQ suite whose markers are traced"
    )
    report.add_argument(
        "--out", type=Path, metavar="DIR", help="where the pages go (default: <build_dir>/html)"
    )
    report.add_argument("--json", action="store_true", help="print the outcome as JSON")
    report.set_defaults(handler=run_report)


def _default_output(ctx: Context, what: str) -> Path | None:
    """Where a result goes by default: the handbook's results folder (None outside one)."""
    try:
        config = ctx.config()
    except NotAHandbookError:
        return None
    return iq_record_path(config) if what == "iq" else oq_junit_path(config)


def run_iq(args: argparse.Namespace, ctx: Context) -> int:
    """Run the IQ, print the checks, write the record; failures one per line."""
    record = qualify_installation(now())
    try:
        text = record.to_json()
    except ValueError as exc:
        raise QmsError(f"the IQ record is not valid: {exc}", "report this as a bug") from exc
    output = args.output or _default_output(ctx, "iq")
    if output is not None:
        write_file(output, text)
        sys.stderr.write(f"qms validate iq: record written to {output}\n")
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


def run_oq_command(args: argparse.Namespace, ctx: Context) -> int:
    """Run the OQ, write the JUnit XML, print the summary; exit 1 when a test failed."""
    suite = args.suite or shipped_suite()
    out = args.out or _default_output(ctx, "oq")
    if out is None:
        raise QmsError(
            "not in a handbook: nowhere to write the OQ results",
            "pass --out FILE, or run it inside the handbook (or with --root DIR)",
        )
    with progress_bar(enabled=not args.json) as bar:
        run = run_oq(suite, out, lambda done, total: bar("OQ tests", done, total))
    results = run.results
    if args.json:
        print_json(
            {
                "ok": not run.failed,
                "results": str(run.path),
                "sha256": results.sha256,
                "counts": {str(o): results.count(o) for o in Outcome},
                "deviations": [
                    {"test": c.test_id, "outcome": str(c.outcome), "message": c.message}
                    for c in results.deviations
                ],
            }
        )
    else:
        for case in results.deviations:
            sys.stdout.write(f"{str(case.outcome).upper()}  {case.test_id}  {case.message}\n")
        sys.stdout.write(f"qms validate oq: {results.summary()}; results in {run.path}\n")
    if results.deviations:
        sys.stderr.write(
            f"qms validate oq: {len(results.deviations)} deviation(s) to dispose of with "
            "'qms validate disposition TEST --decision accepted|corrected --reason ...'\n"
        )
    return 1 if run.failed else 0


def run_disposition(args: argparse.Namespace, ctx: Context) -> int:
    """Sign the disposition."""
    config = ctx.config()
    done = dispose(
        config,
        args.results or oq_junit_path(config),
        args.test_id,
        Decision(args.decision),
        args.reason,
        user_keys(args),
        args.key,
        now(),
    )
    statement = done.disposition
    sys.stdout.write(
        f"{statement.test_id}: {statement.decision}, signed by {statement.signer_name} "
        f"({statement.signer_role}); {done.path.name} committed {done.commit[:12]}\n"
    )
    return 0


def run_report(args: argparse.Namespace, ctx: Context) -> int:
    """Check, read, build; say what stands in the way, or how to release."""
    config = ctx.config()
    suite = args.suite
    if suite is None:
        try:
            suite = shipped_suite()
        except QmsError:
            suite = None  # no shipped suite: the trace is checked by the build alone
    outdir = (args.out or config.build_path / "html").resolve()
    with progress_bar(enabled=not args.json) as bar:
        report = validation_report(config, suite, outdir, bar)
    if args.json:
        print_json(_report_data(report))
    else:
        _print_report(report)
    return 0 if report.ready else 1


def _report_data(report: ValidationReport) -> dict[str, object]:
    return {
        "ready": report.ready,
        "iq": {"passed": report.iq_passed, "version": report.iq_version},
        "oq": {str(o): report.results.count(o) for o in Outcome},
        "requirements": len(report.trace),
        "untested": list(report.untested),
        "undisposed": [d.case.test_id for d in report.deviations.undisposed],
        "findings": [f.as_dict() for f in report.findings],
        "documents": list(report.documents),
        "site": str(report.outdir / "index.html"),
    }


def _print_report(report: ValidationReport) -> None:
    out = sys.stdout
    iq = "passed" if report.iq_passed else "FAILED"
    out.write(f"IQ: qms-handbook {report.iq_version}, {iq}\n")
    out.write(f"OQ: {report.results.summary()}\n")
    tested = sum(1 for row in report.trace if row.tests)
    out.write(f"Trace: {len(report.trace)} requirements, {tested} with OQ results\n")
    if not report.trace:
        out.write("  no user requirement (urs need) is recorded in the handbook\n")
    for urs_id in report.untested:
        out.write(f"  not tested: {urs_id} (no OQ result names it)\n")
    undisposed = report.deviations.undisposed
    out.write(f"Deviations: {len(report.deviations.deviations)}, {len(undisposed)} undisposed\n")
    for deviation in undisposed:
        out.write(f"  undisposed: {deviation.case.test_id} ({deviation.case.outcome})\n")
    print_findings([*report.findings, *report.deviations.findings])
    if not report.ready:
        sys.stderr.write(
            "qms validate report: not ready for release; fix what is listed above "
            f"(pages in {report.outdir})\n"
        )
        return
    ids = " ".join(report.documents) or "the validation documents"
    out.write(
        f"Ready. Next: have {ids} approved (qms approve ID --meaning ...); then QA releases "
        "the validation set: qms release create NAME --set validation; qms release sign NAME "
        "(each release role); qms release publish NAME --to DIR\n"
    )
