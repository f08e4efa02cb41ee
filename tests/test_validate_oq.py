"""`qms validate oq`, deviations and their signed dispositions: real pytest, git, gpg and Sphinx.

The OQ runs on temporary suites here (the shipped qms.oq is the OQ's own): a tiny conftest
records the requirement properties as the shipped one does.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import git
import pytest

from qms.adapters.gpg import UserKeys
from qms.config import load_config
from qms.model.deviation import Decision, Disposition
from qms.model.installation import Check, IqRecord, Product
from qms.model.oq_results import OqResults
from qms.model.requirement_markers import Check as MarkerCheck
from qms.model.requirement_markers import Marker
from qms.model.traceability import Need
from qms.model.validation_report import TraceRow, trace_rows
from qms.services.deviations import DeviationReport, deviation_report
from qms.services.layout import SignatureLayout
from qms.services.signed_files import write_signed
from qms.services.validate_report import ValidationReport, trace_findings
from qms.services.validation_files import oq_junit_path, read_oq_results
from tests.conftest import ROOTS
from tests.signing_repo import SITE_PAGES, Team, as_, commit_all, make_signing_repo, qms, team

__all__ = ["team"]

CONFTEST = """
import pytest


@pytest.fixture(autouse=True)
def _requirements(request, record_property):
    marker = request.node.get_closest_marker("requirement")
    if marker is not None:
        for ident in marker.args:
            record_property("requirement", ident)
        record_property("check", marker.kwargs.get("check", "positive"))
"""

TESTS = """
import pytest


@pytest.mark.requirement("URS-SIG-001")
def test_bound_to_content():
    assert "content".encode() == b"content"


@pytest.mark.requirement("URS-SIG-001", "URS-SIG-002", check="negative")
def test_altered_content_refused():
    assert sum([1, 1]) == 3, "the altered statement was accepted"


@pytest.mark.requirement("URS-TIM-003")
@pytest.mark.skip(reason="no time-stamping authority reachable")
def test_tsa_down():
    pass
"""

PASSING = """
import pytest


@pytest.mark.requirement("URS-SIG-001")
def test_bound_to_content():
    assert "content".encode() == b"content"
"""

FAILED = "test_oq_demo.py::test_altered_content_refused"
SKIPPED = "test_oq_demo.py::test_tsa_down"

REPORT = """\
---
id: VAL-QMS-002
title: Validation Report
type: validation
version: "0.1"
owner: Head of Quality Assurance
classification: internal
review_months: 12
---

## Environment

```{qms-iq-environment}
:file: _results/iq.json
```

## Trace matrix

```{qms-trace-matrix}
:file: _results/oq-junit.xml
```

## OQ results

```{qms-oq-results} Operational qualification
:file: _results/oq-junit.xml
```

## Deviations

```{qms-deviations}
:file: _results/oq-junit.xml
```
"""


def write_suite(folder: Path, tests: str = TESTS) -> Path:
    folder.mkdir(parents=True)
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "test_oq_demo.py").write_text(tests)
    return folder


@pytest.fixture
def handbook(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    root = make_signing_repo(tmp_path, team, capsys, ROOTS / "test-capa")
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    head, rest = text.split("\n", 1)
    pyproject.write_text(f"{head}\n{SITE_PAGES}{rest}")
    commit_all(root, "Pages outside document control")
    return root


def test_oq_writes_junit_with_node_ids_and_requirements_and_fails_on_a_failed_test(
    handbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path / "suite")
    code, out, err = qms(capsys, handbook, "validate", "oq", "--suite", str(suite))
    assert code == 1, out + err
    assert "qms validate oq: 1 passed, 1 failed, 0 errors, 1 skipped" in out
    assert f"FAILED  {FAILED}  AssertionError: the altered statement was accepted" in out
    assert "2 deviation(s) to dispose of" in err
    path = oq_junit_path(load_config(handbook))
    cases = {
        case.get("name"): {(p.get("name"), p.get("value")) for p in case.iter("property")}
        for case in ET.parse(path).getroot().iter("testcase")
    }
    assert cases["test_altered_content_refused"] >= {
        ("nodeid", FAILED),
        ("requirement", "URS-SIG-001"),
        ("requirement", "URS-SIG-002"),
        ("check", "negative"),
    }
    assert ("check", "positive") in cases["test_bound_to_content"]
    # A test skipped before its fixtures run still names its requirement.
    assert ("requirement", "URS-TIM-003") in cases["test_tsa_down"]
    results = read_oq_results(path)
    assert [c.test_id for c in results.deviations] == [FAILED, SKIPPED]
    assert results.case(FAILED) is not None
    assert results.case(FAILED).requirements == ("URS-SIG-001", "URS-SIG-002")  # type: ignore[union-attr]
    # Nothing of the handbook's own pytest settings reached the run: no cache was written.
    assert not (suite / ".pytest_cache").exists()


def test_oq_with_every_test_passing_exits_0_and_json_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path / "suite", PASSING)
    out_file = tmp_path / "out" / "junit.xml"
    code, out, err = qms(
        capsys, tmp_path, "validate", "oq", "--suite", str(suite), "--out", str(out_file), "--json"
    )
    assert code == 0, out + err
    data = json.loads(out)
    assert data["ok"] is True and data["counts"]["passed"] == 1 and data["deviations"] == []
    assert Path(data["results"]) == out_file and out_file.is_file()


def test_oq_outside_a_handbook_needs_out_and_a_missing_suite_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path / "suite")
    code, _, err = qms(capsys, tmp_path, "validate", "oq", "--suite", str(suite))
    assert code == 2 and "pass --out FILE" in err
    code, _, err = qms(capsys, tmp_path, "validate", "oq", "--suite", str(tmp_path / "none"),
                       "--out", str(tmp_path / "x.xml"))  # fmt: skip
    assert code == 2 and "no OQ suite at" in err and len(err.strip().splitlines()) == 1


def test_iq_inside_a_handbook_writes_its_record_to_the_results_folder(
    handbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = qms(capsys, handbook, "validate", "iq")
    record = handbook / "docs" / "validation" / "_results" / "iq.json"
    assert f"record written to {record}" in err
    data = json.loads(record.read_text())
    assert data["format"] == "qms-iq/1" and data["product"]["distribution"] == "qms-handbook"
    # This checkout is an editable install, which the IQ refuses to qualify.
    assert code == 1 and data["passed"] is False


def _results_committed(handbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    suite = write_suite(tmp_path / "suite")
    code, _, err = qms(capsys, handbook, "validate", "oq", "--suite", str(suite))
    assert code == 1, err
    commit_all(handbook, "OQ results")
    return oq_junit_path(load_config(handbook))


def test_a_disposition_counts_only_when_signed_by_qa(
    handbook: Path, tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _results_committed(handbook, tmp_path, capsys)
    config = load_config(handbook)
    # The reviewer holds no qa role: refused, nothing written.
    code, _, err = qms(capsys, handbook, "validate", "disposition", FAILED, "--decision",
                       "accepted", "--reason", "seen", *as_(team.reviewer))  # fmt: skip
    assert code == 1 and "qa role" in err
    assert not SignatureLayout.of(config).deviations.exists()
    # A disposition the reviewer signed anyway (bypassing the command) does not count.
    results = read_oq_results(path)
    moment = datetime.now(tz=UTC).replace(microsecond=0)
    forged = Disposition(FAILED, results.sha256, "failed", Decision.ACCEPTED, "looks fine",
                         team.reviewer.name, team.reviewer.fingerprint, "qa", moment)  # fmt: skip
    layout = SignatureLayout.of(config)
    target = layout.deviation_file(results.sha256, FAILED, moment, team.reviewer.fingerprint)
    write_signed(layout, target, forged.to_bytes(), moment, UserKeys(team.reviewer.home),
                 team.reviewer.fingerprint, timestamps=None)  # fmt: skip
    commit_all(handbook, "A disposition by a reviewer")
    report = deviation_report(config, results)
    assert [d.case.test_id for d in report.undisposed] == [FAILED, SKIPPED]
    assert len(report.findings) == 1 and FAILED in report.findings[0].message
    # QA's disposition counts, bound to these results and this test.
    code, out, err = qms(capsys, handbook, "validate", "disposition", FAILED, "--decision",
                         "corrected", "--reason", "CC-2026-0241: fixed the fixture",
                         *as_(team.approver))  # fmt: skip
    assert code == 0, err
    assert f"{FAILED}: corrected, signed by {team.approver.name} (qa)" in out
    report = deviation_report(config, results)
    disposed = {d.case.test_id: d.disposition for d in report.deviations}
    counted = disposed[FAILED]
    assert counted is not None and counted.signer_name == team.approver.name
    assert disposed[SKIPPED] is None
    # Signed once: a second disposition of the same deviation is refused.
    code, _, err = qms(capsys, handbook, "validate", "disposition", FAILED, "--decision",
                       "accepted", "--reason", "again", *as_(team.approver))  # fmt: skip
    assert code == 1 and "already disposed of" in err
    # A passed test has nothing to dispose of.
    code, _, err = qms(capsys, handbook, "validate", "disposition",
                       "test_oq_demo.py::test_bound_to_content", "--decision", "accepted",
                       "--reason", "x", *as_(team.approver))  # fmt: skip
    assert code == 1 and "passed: there is no deviation" in err
    # New results (another run) carry no disposition over.
    path.write_bytes(path.read_bytes().replace(b"qms-oq", b"qms-oq-2"))
    assert all(
        d.disposition is None for d in deviation_report(config, read_oq_results(path)).deviations
    )


def test_the_report_shows_deviations_and_warns_until_each_is_disposed_of(
    handbook: Path, tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _results_committed(handbook, tmp_path, capsys)
    report = handbook / "docs" / "validation" / "val-qms-002.md"
    report.write_text(REPORT)
    iq = path.parent / "iq.json"
    code, _, err = qms(capsys, handbook, "validate", "iq", "--output", str(iq))
    index = handbook / "docs" / "index.md"
    index.write_text(
        index.read_text().replace("matrix\n```", "matrix\nvalidation/val-qms-002\n```")
    )
    commit_all(handbook, "Validation report")
    site = tmp_path / "site"
    code, out, err = qms(capsys, handbook, "build", "--fresh", "--out", str(site))
    assert code == 1
    line = REPORT.splitlines().index("```{qms-deviations}") + 1
    where = f"docs/validation/val-qms-002.md:{line}"
    assert f"{where}: undisposed OQ deviation {FAILED} (failed)" in out + err
    assert f"{where}: undisposed OQ deviation {SKIPPED} (skipped)" in out + err
    # This checkout's IQ failed (not a wheel install): named where the record is shown.
    iq_line = REPORT.splitlines().index("```{qms-iq-environment}") + 1
    assert f"val-qms-002.md:{iq_line}: IQ check install failed: " in out + err
    page = (site / "validation" / "val-qms-002.html").read_text()
    assert "UNDISPOSED" in page and "the altered statement was accepted" in page
    # sphinx-test-reports rendered the cases as needs, with their result.
    assert "test_altered_content_refused" in page and 'id="TF_OQ"' in page
    # The trace matrix takes the results of each requirement from the JUnit XML.
    assert "URS-SIG-002" not in page or "deviation" in page
    for test_id in (FAILED, SKIPPED):
        code, _, err = qms(capsys, handbook, "validate", "disposition", test_id, "--decision",
                           "accepted", "--reason", "Assessed under CC-2026-0241",
                           *as_(team.approver))  # fmt: skip
        assert code == 0, err
    code, out, err = qms(capsys, handbook, "build", "--out", str(site))
    assert "undisposed OQ deviation" not in out + err
    page = (site / "validation" / "val-qms-002.html").read_text()
    assert "UNDISPOSED" not in page and f"accepted by {team.approver.name} (qa)" in page
    # With a passing IQ record the report builds clean (as under -W).
    _passing_iq(iq)
    commit_all(handbook, "The IQ of the released wheel")
    code, out, err = qms(capsys, handbook, "build", "--out", str(site))
    assert code == 0, out + err
    assert git.Repo(handbook).is_dirty() is False


def test_the_report_content_hash_binds_its_results_files(
    handbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from qms.services.content import document_content
    from qms.services.handbook import load_handbook

    path = _results_committed(handbook, tmp_path, capsys)
    (path.parent / "iq.json").write_text("{}\n")
    (handbook / "docs" / "validation" / "val-qms-002.md").write_text(REPORT)
    config = load_config(handbook)
    document = next(d for d in load_handbook(config).documents if d.id == "VAL-QMS-002")
    before = dict(document_content(config, document).includes)
    assert set(before) == {
        "docs/validation/_results/iq.json",
        "docs/validation/_results/oq-junit.xml",
    }
    path.write_bytes(path.read_bytes().replace(b"qms-oq", b"qms-oq-2"))
    after = dict(document_content(config, document).includes)
    assert (
        after["docs/validation/_results/oq-junit.xml"]
        != before["docs/validation/_results/oq-junit.xml"]
    )


VALIDATION_SET = """
[tool.qms.sets.validation]
title = "Validation package"
types = ["validation"]
"""


def _passing_iq(path: Path) -> None:
    """An IQ record whose every check passed (this checkout's own IQ refuses its editable
    install): the input of the report, written as the IQ writes one."""
    record = IqRecord(
        datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
        Product("qms-handbook", "0.1.0", "wheel", None),
        {"python": "3.11.7", "gpg": "2.2.40"},
        (Check("install", True, "installed from an index"),),
    )
    path.write_text(record.to_json())


def test_validate_report_is_ready_only_when_every_deviation_is_disposed_of(
    handbook: Path, tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _results_committed(handbook, tmp_path, capsys)
    with (handbook / "pyproject.toml").open("a") as handle:
        handle.write(VALIDATION_SET)
    (handbook / "docs" / "validation" / "val-qms-002.md").write_text(REPORT)
    _passing_iq(path.parent / "iq.json")
    index = handbook / "docs" / "index.md"
    toctree = index.read_text().replace("matrix\n```", "matrix\nvalidation/val-qms-002\n```")
    index.write_text(toctree)
    commit_all(handbook, "Validation report")
    suite = tmp_path / "suite"
    code, out, err = qms(capsys, handbook, "validate", "report", "--suite", str(suite))
    assert code == 1
    assert "OQ: 1 passed, 1 failed, 0 errors, 1 skipped" in out
    assert f"  undisposed: {FAILED} (failed)" in out and "not ready for release" in err
    # The markers name requirements this handbook does not hold: each is located.
    assert "test_oq_demo.py:5: test_bound_to_content names URS-SIG-001" in out + err
    for test_id in (FAILED, SKIPPED):
        code, _, err = qms(capsys, handbook, "validate", "disposition", test_id, "--decision",
                           "accepted", "--reason", "Assessed", *as_(team.approver))  # fmt: skip
        assert code == 0, err
    code, out, err = qms(capsys, handbook, "validate", "report", "--json")
    data = json.loads(out)
    assert data["undisposed"] == [] and data["documents"] == ["VAL-QMS-002"]
    # Still not ready: this handbook records no user requirement to trace.
    assert code == 1 and data["ready"] is False and data["requirements"] == 0, out + err
    code, out, _ = qms(capsys, handbook, "validate", "report")
    assert "no user requirement (urs need) is recorded" in out
    # With requirements, each with OQ results, the same report is ready.
    built = validation_report_of(data, read_oq_results(path))
    assert built.ready and not replace(built, iq_passed=False).ready
    row = TraceRow("URS-DOC-004", "Reviews listed", "low", ())
    assert not replace(built, trace=(*built.trace, row)).ready


def validation_report_of(data: dict[str, object], results: OqResults) -> ValidationReport:
    """A report as `validation_report` returns it, with requirements the results name."""
    case = results.cases[0]
    trace = (TraceRow(case.requirements[0], "Bound to content", "high", (case,)),)
    return ValidationReport(
        iq_passed=True,
        iq_version="0.1.0",
        results=results,
        trace=trace,
        deviations=DeviationReport(results, (), ()),
        findings=(),
        outdir=Path(str(data["site"])).parent,
        documents=("VAL-QMS-002",),
    )


def test_trace_findings_name_an_untested_requirement_and_an_unknown_marker() -> None:
    needs = [
        Need("URS-SIG-001", "urs", "Bound to content", "validation/val-qms-001", 12),
        Need("URS-SIG-002", "urs", "Altered content", "validation/val-qms-001", 20),
    ]
    markers = [
        Marker(("URS-SIG-001", "URS-XXX-009"), MarkerCheck.NEGATIVE, "test_a", "test_sig.py", 7),
    ]
    found = [f.render() for f in trace_findings(needs, markers)]
    assert found == [
        "validation/val-qms-001.md:20: URS-SIG-002 has no OQ test",
        "test_sig.py:7: test_a names URS-XXX-009, which is no user requirement",
    ]
    rows = trace_rows(needs, None)
    assert [(r.urs_id, r.priority, r.result) for r in rows] == [
        ("URS-SIG-001", "unrated", "not tested"),
        ("URS-SIG-002", "unrated", "not tested"),
    ]
    # The priority is computed from the GAMP judgements, never read from a field.
    judged = (("severity", "high"), ("probability", "medium"), ("detectability", "low"))
    rated = Need("URS-SIG-003", "urs", "Manifestation", "validation/val-qms-001", 30, judged)
    assert trace_rows([rated], None)[0].priority == "high"
    rated = replace(rated, fields=(("severity", "low"), ("probability", "low"),
                                   ("detectability", "high")))  # fmt: skip
    assert trace_rows([rated], None)[0].priority == "low"
