"""User requirements traced to the OQ suite's markers: each gap a located finding and warning."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from sphinx.testing.util import SphinxTestApp

from qms.model.findings import FindingCode
from qms.model.gamp import Level, risk_priority
from qms.model.need_source import parse_items
from qms.model.requirement_markers import markers_in
from qms.model.traceability import Graph, Need
from qms.model.validation_trace import SuiteMarkers, UrsItem, trace, urs_items, urs_risk
from qms.model.vocabulary import SERVES, URS
from qms.services.catalogues import load_catalogues
from qms.services.validation_trace import suite_markers, trace_of
from tests.conftest import REPO, HandbookFactory
from tests.signing_repo import run
from tests.sphinx_helpers import warnings

# Every requirement verified as its priority asks: URS-T-001 (high) both ways, by two tests.
COMPLETE = """\
import pytest


@pytest.mark.requirement("URS-T-001")
def test_signature_counts_for_its_content():
    pass


@pytest.mark.requirement("URS-T-001", check="negative")
def test_signature_over_altered_content_refused():
    pass


class TestStatus:
    @pytest.mark.requirement("URS-T-002", "URS-T-003")
    def test_reviews_and_superseded(self):
        pass
"""

# URS-T-001 only positive, URS-T-002 untested, an unknown id, an unreadable marker.
GAPS = """\
import pytest

REQUIREMENT = "URS-T-003"


@pytest.mark.requirement("URS-T-001")
def test_signature_counts_for_its_content():
    pass


@pytest.mark.requirement("URS-T-003", "URS-T-009")
def test_superseded_marked():
    pass


@pytest.mark.requirement(REQUIREMENT, check="negative")
def test_named_by_a_variable():
    pass
"""


def _suite(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_oq.py").write_text(source, encoding="utf-8")
    # Helpers of a suite are not test modules: their markers are not read.
    (folder / "conftest.py").write_text('MARK = "URS-NOWHERE-1"\n', encoding="utf-8")
    return folder


def _item(need_id: str, priority: Level | None, line: int) -> UrsItem:
    return UrsItem(need_id, priority, "docs/urs.md", line)


ITEMS = (
    _item("URS-T-001", Level.HIGH, 16),
    _item("URS-T-002", Level.LOW, 27),
    _item("URS-T-003", Level.MEDIUM, 38),
)


def test_a_complete_suite_traces_every_requirement_both_ways_where_high(tmp_path: Path) -> None:
    traced = trace_of(ITEMS, _suite(tmp_path / "oq", COMPLETE))
    assert traced.findings == ()
    high = traced.of("URS-T-001")
    assert high is not None and high.two_sided
    assert [t.node_id for t in high.positive] == [
        "test_oq.py::test_signature_counts_for_its_content"
    ]
    assert [t.node_id for t in high.negative] == [
        "test_oq.py::test_signature_over_altered_content_refused"
    ]
    low = traced.of("URS-T-002")
    assert low is not None
    assert [t.node_id for t in low.tests] == ["test_oq.py::TestStatus::test_reviews_and_superseded"]
    assert traced.of("URS-T-404") is None


def test_each_gap_is_a_finding_where_it_is_fixed(tmp_path: Path) -> None:
    suite = _suite(tmp_path / "oq", GAPS)
    test_file = str(suite / "test_oq.py")
    found = [(f.path, f.line, f.code) for f in trace_of(ITEMS, suite).findings]
    assert sorted(found) == sorted(
        [
            ("docs/urs.md", 16, FindingCode.URS_ONE_SIDED),  # high: positive only
            ("docs/urs.md", 27, FindingCode.URS_UNTESTED),
            (test_file, 11, FindingCode.URS_UNKNOWN),  # URS-T-009
            (test_file, 16, FindingCode.URS_MARKER),  # REQUIREMENT is not a literal
        ]
    )


def test_one_test_marked_both_ways_is_not_two_independent_tests() -> None:
    source = textwrap.dedent(
        """\
        import pytest

        @pytest.mark.requirement("URS-T-001")
        @pytest.mark.requirement("URS-T-001", check="negative")
        def test_both():
            pass
        """
    )
    read = markers_in(source, "oq/test_x.py")
    traced = trace(ITEMS[:1], SuiteMarkers(tuple(("test_x.py", m) for m in read.markers)))
    assert [(f.line, f.code) for f in traced.findings] == [(16, FindingCode.URS_ONE_SIDED)]
    assert "a second, different test" in traced.findings[0].message
    # Medium and low priorities need one test, of either kind.
    lower = trace(ITEMS[1:], SuiteMarkers())
    assert [f.code for f in lower.findings] == [FindingCode.URS_UNTESTED] * 2


def test_a_missing_suite_marks_nothing_and_a_non_utf8_module_is_unreadable(
    tmp_path: Path,
) -> None:
    assert suite_markers(tmp_path / "absent") == SuiteMarkers()
    suite = tmp_path / "oq"
    suite.mkdir()
    (suite / "test_latin1.py").write_bytes(b"# caf\xe9\n")
    [problem] = suite_markers(suite).problems
    assert (problem.path, problem.line) == (str(suite / "test_latin1.py"), 1)
    assert "UTF-8" in problem.message


def _need(need_id: str, severity: str, probability: str, detectability: str) -> Need:
    fields: tuple[tuple[str, str], ...] = (("severity", severity), ("probability", probability))
    fields += (("detectability", detectability),) if detectability else ()
    return Need(need_id, URS, need_id, "urs", 5, fields, ((SERVES, ("ISO27001-9-1",)),))


def test_the_priority_is_computed_from_the_three_judgements() -> None:
    graph = Graph.build(
        [
            _need("URS-A-001", "high", "medium", "low"),
            _need("URS-A-002", "low", "medium", "medium"),
            _need("URS-A-003", "high", "medium", ""),  # not assessed yet
        ]
    )
    items = urs_items(graph, {"URS-A-001": ("docs/urs.md", 9)})
    assert [(i.id, i.priority, i.path, i.line) for i in items] == [
        ("URS-A-001", Level.HIGH, "docs/urs.md", 9),
        ("URS-A-002", Level.LOW, "urs", 5),
        ("URS-A-003", None, "urs", 5),
    ]
    risk = urs_risk(graph.needs["URS-A-001"])
    assert risk is not None and (risk.risk_class, risk.priority) == (1, Level.HIGH)


def _handbook(make_handbook: HandbookFactory, suite_source: str) -> Path:
    repo = make_handbook("validation", 'site_pages = ["index", "frameworks/*"]\n')
    _suite(repo / "oq", suite_source)
    with (repo / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write('qms_oq_suite = "oq"\n')
    return repo


def test_the_build_and_qms_check_report_each_gap_at_its_place(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _handbook(make_handbook, GAPS)
    code, out, err = run(capsys, "--root", str(repo), "check", "--json")
    assert code == 1, out + err
    found = sorted((f["path"], f["line"], f["code"]) for f in json.loads(out)["findings"])
    assert found == [
        ("docs/urs.md", 16, "qms.urs-one-sided"),
        ("docs/urs.md", 27, "qms.urs-untested"),
        ("oq/test_oq.py", 11, "qms.urs-unknown"),
        ("oq/test_oq.py", 16, "qms.urs-marker"),
    ]
    code, out, err = run(capsys, "--root", str(repo), "build")
    assert code == 1
    assert "qms build: 4 warnings" in err
    assert "urs.md:27: URS-T-002: no test of the OQ suite verifies this requirement" in out + err


def test_a_traced_handbook_builds_clean_and_shows_the_computed_priority(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _handbook(make_handbook, COMPLETE)
    code, _, err = run(capsys, "--root", str(repo), "build")
    assert code == 0, err
    html = (repo / "_build/html/urs.html").read_text(encoding="utf-8")
    table = html[html.index("qms-urs-risks") :]
    row = table[table.index("URS-T-001") : table.index("URS-T-002")]
    cells = [c.split("</p>")[0] for c in row.split("<p>")[1:]]
    assert cells[:6] == ["Electronic signatures", "high", "medium", "low", "1", "high"]


def test_the_example_urs_assesses_every_requirement_and_serves_catalogue_items() -> None:
    path = REPO / "docs/validation/val-qms-001.md"
    items = [i for i in parse_items(str(path), path.read_text(encoding="utf-8")) if i.type == URS]
    assert len(items) >= 40
    catalogues = load_catalogues(REPO / "docs/_catalogues", REPO)
    known = {r.id for c in catalogues.catalogues for r in c.requirements}
    priorities = []
    for item in items:
        levels = [Level(item.field(f)) for f in ("severity", "probability", "detectability")]
        priorities.append(risk_priority(*levels))
        assert item.field("area") and item.body.strip(), item.id
        assert item.targets(SERVES) and set(item.targets(SERVES)) <= known, item.id
    assert set(priorities) == set(Level)  # the assessment tells requirements apart


@pytest.mark.sphinx(
    "html", testroot="validation", freshenv=True, confoverrides={"qms_oq_suite": "no-suite"}
)
def test_without_a_suite_every_requirement_is_a_typed_located_warning(app: SphinxTestApp) -> None:
    app.build()
    assert warnings(app) == [
        f"urs.md:{line}: WARNING: {need}: no test of the OQ suite verifies this requirement; "
        f"mark one with @pytest.mark.requirement('{need}') [qms.urs-untested]"
        for need, line in (("URS-T-001", 16), ("URS-T-002", 27), ("URS-T-003", 38))
    ]


def test_each_trace_code_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    for code in ("urs-untested", "urs-one-sided", "urs-unknown", "urs-marker"):
        status, out, _ = run(capsys, "check", "--explain", f"qms.{code}")
        assert status == 0
        assert out.startswith(f"{code}: ")
        assert "test" in out.split(": ", 1)[1]
