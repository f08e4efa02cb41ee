"""The validation report's views: the IQ environment, the trace matrix, the OQ results
(rendered by sphinx-test-reports) and the deviations with their signed dispositions.

Each directive names its results file with `:file:`, relative to the page (or from the
docs folder with a leading "/"), as an image is named: so the page's content hash
(`services/content.py`) binds the file's bytes, and new results un-approve the report.
"""

from __future__ import annotations

import os
from collections.abc import Set
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx_test_reports.directives.test_file import TestFileDirective

from qms.errors import QmsError
from qms.model.findings import FindingCode
from qms.model.oq_results import OqResults, Outcome
from qms.model.timeutil import format_utc
from qms.model.validation_report import trace_rows
from qms.services.deviations import deviation_report
from qms.services.validation_files import read_iq_record, read_oq_results
from qms_sphinx.graph import graph_of
from qms_sphinx.settings import settings
from qms_sphinx.tables import scrolling, table

logger = logging.getLogger(__name__)

# The id of the test-file need the OQ results become (test-report ids: test_reports.py).
RESULTS_ID = "TF_OQ"


class validation_placeholder(nodes.General, nodes.Element):  # noqa: N801 - docutils naming
    """Placeholder for a view of the validation results, filled once every need is known."""


def _resolve(directive: SphinxDirective, target: str) -> Path:
    """`target` as services/content.py resolves an included file: from the docs folder
    when it starts with "/", else from the page's folder."""
    env = directive.env
    base = Path(env.srcdir) if target.startswith("/") else Path(env.doc2path(env.docname)).parent
    return (base / target.lstrip("/")).resolve()


class _ResultsDirective(SphinxDirective):
    """A view of one results file, named with `:file:`."""

    has_content = False
    option_spec = {"file": directives.unchanged_required}  # noqa: RUF012 - docutils API
    view = ""

    def run(self) -> list[nodes.Node]:
        target = self.options.get("file", "")
        if not target:
            logger.warning(
                f"{{{self.name}}} names its results file with :file:",
                location=(self.env.docname, self.lineno),
                type="qms",
                subtype=FindingCode.VALIDATION_RESULTS,
            )
            return []
        path = _resolve(self, target)
        self.env.note_dependency(str(path))
        validation_pages(self.env).add(self.env.docname)
        node = validation_placeholder(view=self.view, path=str(path), shown=target)
        self.set_source_info(node)
        return [node]


class IqEnvironmentDirective(_ResultsDirective):
    """``{qms-iq-environment}``: the installed product and its environment, from the IQ
    record, with each IQ check."""

    view = "iq"


class TraceMatrixDirective(_ResultsDirective):
    """``{qms-trace-matrix}``: each user requirement, its GAMP priority, the OQ tests that
    verified it (positive, negative) and their result, from the OQ's JUnit XML."""

    view = "trace"


class DeviationsDirective(_ResultsDirective):
    """``{qms-deviations}``: each failed, errored or skipped OQ test with QA's verified
    disposition; an undisposed one is a warning at the directive's line."""

    view = "deviations"


class OqResultsDirective(SphinxDirective):
    """``{qms-oq-results}``: the OQ's JUnit XML as sphinx-test-reports' test-file, with a
    need per suite and per test case (its own renderer: none is written here)."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = {  # noqa: RUF012 - docutils API
        "file": directives.unchanged_required,
        "id": directives.unchanged_required,
    }

    def run(self) -> list[nodes.Node]:
        target = self.options.get("file", "")
        path = _resolve(self, target) if target else None
        if path is None or not path.is_file():
            logger.warning(
                f"no OQ results at {target or '(no :file:)'}; run 'qms validate oq'",
                location=(self.env.docname, self.lineno),
                type="qms",
                subtype=FindingCode.VALIDATION_RESULTS,
            )
            return []
        self.env.note_dependency(str(path))
        # sphinx-test-reports reads a relative path from its tr_rootdir (the confdir): the
        # need records that path, the same on every machine.
        relative = os.path.relpath(path, Path(self.config.tr_rootdir).resolve())
        options: dict[str, Any] = {
            "id": self.options.get("id", RESULTS_ID),
            "file": Path(relative).as_posix(),
            "auto_suites": None,
            "auto_cases": None,
        }
        title = self.arguments[0] if self.arguments else "OQ results"
        directive = TestFileDirective(
            self.config.tr_file[0],
            [title],
            options,
            self.content,
            self.lineno,
            self.content_offset,
            self.block_text,
            self.state,
            self.state_machine,
        )
        return directive.run()


def validation_pages(env: BuildEnvironment) -> set[str]:
    """Docnames of pages showing validation views: dispositions are signed statements no
    source records, so these pages are rewritten on every build."""
    found: set[str] | None = getattr(env, "qms_validation_pages", None)
    if found is None:
        found = set()
        env.qms_validation_pages = found  # type: ignore[attr-defined]
    return found


def _warn(node: validation_placeholder, message: str, code: FindingCode) -> None:
    logger.warning(message, location=node, type="qms", subtype=code)


def _results(node: validation_placeholder) -> OqResults | None:
    try:
        return read_oq_results(Path(node["path"]))
    except QmsError as exc:
        _warn(node, str(exc), FindingCode.VALIDATION_RESULTS)
        return None


def render_iq(node: validation_placeholder) -> list[nodes.Node]:
    """The IQ record as tables: product, environment, checks."""
    try:
        record = read_iq_record(Path(node["path"]))
    except QmsError as exc:
        _warn(node, str(exc), FindingCode.VALIDATION_RESULTS)
        return [nodes.paragraph("", f"No IQ record at {node['shown']}.")]
    product = record["product"]
    for check in record["checks"]:
        if not check["passed"]:
            message = f"IQ check {check['id']} failed: {check['detail']}"
            _warn(node, message, FindingCode.VALIDATION_RESULTS)
    summary = (
        f"Installation qualification of {product['distribution']} {product['version']} "
        f"({product['install']} install) performed at {record['performed_at']}: "
        + ("every check passed." if record["passed"] else "a check FAILED.")
    )
    rows: list[list[str]] = [
        ["qms-handbook", product["version"]],
        ["installed from", product["install"] + (f", wheel SHA-256 {product['wheel_sha256']}"
                                                 if product["wheel_sha256"] else "")],
        *([name, value] for name, value in sorted(record["environment"].items())),
    ]  # fmt: skip
    checks = [
        [check["id"], "pass" if check["passed"] else "FAIL", check["detail"]]
        for check in record["checks"]
    ]
    return [
        nodes.paragraph("", summary),
        scrolling(table(("Component", "Version"), rows, ["qms-iq-environment"])),
        scrolling(table(("IQ check", "Result", "Found"), checks, ["qms-iq-checks"])),
    ]


def render_trace(app: Sphinx, node: validation_placeholder) -> list[nodes.Node]:
    """The trace matrix: requirement, priority, tests with their checks, result."""
    results = _results(node)
    rows = trace_rows(graph_of(app).needs.values(), results)
    if not rows:
        return [nodes.paragraph("", "No user requirement (urs) is recorded in this handbook.")]
    body: list[list[str]] = []
    for row in rows:
        tests = "; ".join(
            f"{test.test_id} ({', '.join(test.checks) or 'positive'}): {test.outcome}"
            for test in row.tests
        )
        body.append([row.urs_id, row.title, row.priority, tests or "none", row.result])
    tested = sum(1 for row in rows if row.tests)
    passed = sum(1 for row in rows if row.result == "passed")
    summary = f"{len(rows)} requirements; {tested} verified by OQ tests, {passed} passed."
    headers = ("Requirement", "Statement", "GAMP priority", "OQ tests (check): result", "Result")
    return [
        nodes.paragraph("", summary),
        scrolling(table(headers, body, ["qms-trace-matrix"]), wide=True),
    ]


def render_deviations(app: Sphinx, node: validation_placeholder) -> list[nodes.Node]:
    """Each deviation with its verified disposition; undisposed ones warned where shown."""
    results = _results(node)
    if results is None:
        return [nodes.paragraph("", f"No OQ results at {node['shown']}.")]
    report = deviation_report(settings(app), results)
    for finding in report.findings:
        logger.warning(finding.message, location=finding.path, type="qms", subtype=finding.code)
    if not report.deviations:
        return [nodes.paragraph("", "No deviation: every OQ test passed.")]
    rows: list[list[str]] = []
    for deviation in report.deviations:
        case, disposition = deviation.case, deviation.disposition
        if disposition is None:
            _warn(
                node,
                f"undisposed OQ deviation {case.test_id} ({case.outcome}): no verified "
                "disposition by QA; sign one with 'qms validate disposition'",
                FindingCode.DEVIATION,
            )
            answer = "UNDISPOSED"
        else:
            answer = (
                f"{disposition.decision} by {disposition.signer_name} "
                f"({disposition.signer_role}) at {format_utc(disposition.signed_at)}: "
                f"{disposition.reason}"
            )
        rows.append([case.test_id, str(case.outcome), case.message or "-", answer])
    counts = ", ".join(
        f"{results.count(o)} {o}" for o in (Outcome.FAILED, Outcome.ERROR, Outcome.SKIPPED)
    )
    open_ = len(report.undisposed)
    summary = f"{len(report.deviations)} deviations ({counts}); {open_} without a disposition."
    headers = ("OQ test", "Outcome", "Message", "Disposition (signed by QA)")
    return [
        nodes.paragraph("", summary),
        scrolling(table(headers, rows, ["qms-deviations"]), wide=True),
    ]


def fill(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each placeholder with its view."""
    for node in list(doctree.findall(validation_placeholder)):
        view = node["view"]
        if view == "iq":
            node.replace_self(render_iq(node))
        elif view == "trace":
            node.replace_self(render_trace(app, node))
        else:
            node.replace_self(render_deviations(app, node))


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """Forget a page; re-reading it records it again."""
    validation_pages(env).discard(docname)


def merge(app: Sphinx, env: BuildEnvironment, docnames: Set[str], other: BuildEnvironment) -> None:
    """Take over the pages a parallel reader found."""
    validation_pages(env).update(n for n in validation_pages(other) if n in docnames)


def rewrite(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Every page with a validation view, to be written again."""
    return sorted(name for name in validation_pages(env) if name in env.found_docs)


def setup(app: Sphinx) -> None:
    """Register the directives and their events."""
    app.add_node(validation_placeholder)
    app.add_directive("qms-iq-environment", IqEnvironmentDirective)
    app.add_directive("qms-trace-matrix", TraceMatrixDirective)
    app.add_directive("qms-deviations", DeviationsDirective)
    app.add_directive("qms-oq-results", OqResultsDirective)
    app.connect("doctree-resolved", fill)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-updated", rewrite)
