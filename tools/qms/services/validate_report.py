"""`qms validate report`: the trace checked, the IQ and OQ results read, the deviations and
the report's pages built, and what remains before QA releases the validation set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qms.config import QmsConfig
from qms.model.findings import Finding, FindingCode
from qms.model.oq_results import OqResults
from qms.model.requirement_markers import Marker, markers_in
from qms.model.tool_version import VALIDATION_SET
from qms.model.traceability import Need
from qms.model.validation_report import URS, TraceRow, trace_rows
from qms.services.deviations import DeviationReport, deviation_report
from qms.services.handbook import load_handbook
from qms.services.sphinx_run import Progress, run_sphinx
from qms.services.traceability import load_graph
from qms.services.validation_files import (
    iq_record_path,
    oq_junit_path,
    read_iq_record,
    read_oq_results,
)


@dataclass(frozen=True)
class ValidationReport:
    """What the report will show, and what stands in the way of releasing it."""

    iq_passed: bool
    iq_version: str
    results: OqResults
    trace: tuple[TraceRow, ...]
    deviations: DeviationReport
    findings: tuple[Finding, ...]  # trace problems, then the build's warnings
    outdir: Path
    documents: tuple[str, ...]  # the ids of the documents the validation set selects

    @property
    def untested(self) -> tuple[str, ...]:
        """The requirements no OQ result names."""
        return tuple(row.urs_id for row in self.trace if not row.tests)

    @property
    def ready(self) -> bool:
        """Whether QA can approve and release it: IQ passed, requirements recorded and each
        one with OQ results, every deviation disposed of, no warning on any page."""
        return (
            self.iq_passed
            and bool(self.trace)
            and not self.untested
            and not self.findings
            and not self.deviations.undisposed
        )


def suite_markers(suite: Path) -> tuple[tuple[Marker, ...], tuple[Finding, ...]]:
    """The requirement markers of the OQ suite's test modules, read without importing them.

    Integration note: the URS service (services/validation_trace.py) holds the trace
    rules; this reads the markers only to name requirements the suite does not test.
    """
    markers: list[Marker] = []
    problems: list[Finding] = []
    for path in sorted(suite.glob("test_*.py")):
        found = markers_in(path.read_text(encoding="utf-8"), path.name)
        markers += found.markers
        problems += [Finding(p.path, p.line, p.message, FindingCode.QMS) for p in found.problems]
    return tuple(markers), tuple(problems)


def trace_findings(needs: Sequence[Need], markers: Sequence[Marker]) -> tuple[Finding, ...]:
    """A requirement no test names, and a marker naming no requirement."""
    known = {n.id for n in needs if n.type == URS}
    named = {r for m in markers for r in m.requirements}
    found = [
        Finding(f"{n.docname}.md", n.lineno, f"{n.id} has no OQ test", FindingCode.QMS)
        for n in needs
        if n.type == URS and n.id not in named
    ]
    found += [
        Finding(
            m.path, m.line, f"{m.test} names {r}, which is no user requirement", FindingCode.QMS
        )
        for m in markers
        for r in m.requirements
        if r not in known
    ]
    return tuple(found)


def validation_report(
    config: QmsConfig, suite: Path | None, outdir: Path, phases: Progress | None = None
) -> ValidationReport:
    """Check the trace (against `suite`, when given), read the IQ record and the OQ
    results, judge the deviations and build the pages into `outdir`."""
    chosen = config.document_set(VALIDATION_SET)  # a usage error naming the sets if missing
    iq = read_iq_record(iq_record_path(config))
    results = read_oq_results(oq_junit_path(config))
    graph = load_graph(config).graph
    needs = list(graph.needs.values())
    problems: tuple[Finding, ...] = ()
    if suite is not None:
        markers, unreadable = suite_markers(suite)
        problems = unreadable + trace_findings(needs, markers)
    build = run_sphinx(config, "html", outdir, fresh=False, progress=None, phases=phases)
    return ValidationReport(
        iq_passed=bool(iq["passed"]),
        iq_version=str(iq["product"]["version"]),
        results=results,
        trace=trace_rows(needs, results),
        deviations=deviation_report(config, results),
        findings=(*problems, *build.findings),
        outdir=outdir,
        documents=tuple(d.id for d in load_handbook(config).documents if chosen.selects(d)),
    )
