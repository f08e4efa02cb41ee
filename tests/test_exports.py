"""qms soa and qms risks: row counts, columns and consistency with the site."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from qms.model.csvcells import csv_text, neutralise
from qms.model.traceability import Graph, Need, coverage
from tests.conftest import HandbookFactory
from tests.signing_repo import run

SETTINGS = 'site_pages = ["index", "frameworks/*", "matrix"]\n'
SOA_COLUMNS = ["annex_a", "title", "decision", "justification", "status", "controls",
               "procedures", "evidence", "risks"]  # fmt: skip
RISK_COLUMNS = ["id", "title", "asset", "threat", "vulnerability", "likelihood", "impact",
                "inherent_score", "treatment", "current_likelihood", "current_impact",
                "current_score", "residual_likelihood", "residual_impact", "residual_score",
                "owner", "controls", "acceptance", "acceptance_state", "accepted_by",
                "accepted_role", "accepted_at", "until", "accepted_score",
                "lapse_reason"]  # fmt: skip


@pytest.fixture
def repo(make_handbook: HandbookFactory) -> Path:
    return make_handbook("traceability", SETTINGS)


def test_soa_csv_has_a_header_and_one_row_per_annex_a_control(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--root", str(repo), "soa")
    assert (code, err) == (0, "")
    assert out.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert rows[0] == SOA_COLUMNS
    assert [row[0] for row in rows[1:]] == ["A.5.15", "A.8.13", "A.8.28"]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["decision"] == "applicable"
    assert first["procedures"] == "PRC-ACC-01"
    assert first["evidence"] == "EVD-ACC-01"
    assert first["risks"] == "RSK-001"
    excluded = dict(zip(rows[0], rows[3], strict=True))
    assert excluded["decision"] == "excluded" and excluded["justification"].startswith("All ")


def test_soa_json_and_markdown(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "soa.json"
    assert (
        run(capsys, "--root", str(repo), "soa", "--format", "json", "--output", str(target))[0] == 0
    )
    data = json.loads(target.read_text(encoding="utf-8"))
    assert len(data) == 3 and list(data[0]) == SOA_COLUMNS
    code, out, _ = run(capsys, "--root", str(repo), "soa", "--format", "md")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "| " + " | ".join(SOA_COLUMNS) + " |"
    assert len(lines) == 2 + 3


def test_risk_export_scores(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--root", str(repo), "risks", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [r["id"] for r in rows] == ["RSK-001", "RSK-002", "RSK-003"]
    assert list(rows[0]) == RISK_COLUMNS
    assert (rows[0]["inherent_score"], rows[0]["residual_score"]) == (20, 10)
    # No current residual of its own: the current scores are the target's.
    assert [rows[0][k] for k in ("current_likelihood", "current_impact", "current_score")] == [
        rows[0]["residual_likelihood"], rows[0]["residual_impact"], 10,
    ]  # fmt: skip
    # Nothing signed: RSK-001 (current 10, above the threshold 8) and RSK-003 (treatment
    # accept) lack their acceptance, whatever RSK-003 types.
    assert [r["acceptance_state"] for r in rows] == ["missing", "not needed", "missing"]
    assert rows[2]["accepted_by"] == "" and rows[2]["accepted_score"] is None
    assert rows[0]["controls"] == ["CTL-5-15"]
    assert rows[2]["acceptance"].startswith("Accepted by Facilities Manager Basel")


def test_export_of_a_broken_handbook_exits_1(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("trace-unimplemented", SETTINGS)
    code, out, err = run(capsys, "--root", str(repo), "soa", "--format", "json")
    assert code == 1
    assert len(json.loads(out)) == 3
    assert "applicable control has no implementing procedure" in err


def need(need_id: str, need_type: str, **fields: object) -> Need:
    links = tuple((k, tuple(v)) for k, v in fields.items() if isinstance(v, list))
    values = tuple((k, v) for k, v in fields.items() if not isinstance(v, list))
    return Need(need_id, need_type, need_id, "doc", 1, values, links)


def test_coverage_arithmetic() -> None:
    annex = [need(f"A-{n}", "requirement", kind="annex-a", catalogue="a", position=n)
             for n in range(4)]  # fmt: skip
    graph = Graph.build(
        [
            *annex,
            need("C-0", "control", applicable="yes", implements=["A-0"]),
            need("C-1", "control", applicable="yes", implements=["A-1"]),  # no procedure
            need("C-2", "control", applicable="no", justification="n/a", implements=["A-2"]),
            need("P-0", "procedure", implements=["C-0"]),
            need("R-0", "requirement", kind="regulatory", catalogue="r", maps_to=["A-0"]),
            need("R-1", "requirement", kind="regulatory", catalogue="r", maps_to=["A-1", "A-3"]),
            need("R-2", "requirement", kind="regulatory", catalogue="r", maps_to=["A-2"]),
            need("R-3", "requirement", kind="regulatory", catalogue="r", maps_to=[]),
        ]
    )
    annex_cov = coverage(graph, "a")
    # A-0 covered, A-2 excluded with a decision; A-1 lacks a procedure, A-3 a decision.
    assert (len(annex_cov.covered), annex_cov.total, annex_cov.percent) == (2, 4, 50.0)
    assert [(n.id, why) for n, why in annex_cov.gaps] == [
        ("A-1", "applicable but no procedure implements it"),
        ("A-3", "no decision"),
    ]
    regulatory = coverage(graph, "r")
    assert [n.id for n in regulatory.covered] == ["R-0"]
    assert regulatory.percent == 25.0
    assert dict((n.id, why) for n, why in regulatory.gaps) == {
        "R-1": "no mapped Annex A control is implemented by a procedure",
        "R-2": "no mapped Annex A control is implemented by a procedure",
        "R-3": "mapped to no Annex A control",
    }


def test_formula_cells_are_text_in_every_csv_export(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # OWASP CSV injection: a title a spreadsheet would run must arrive as text.
    hostile = '=HYPERLINK("http://evil.example","x")'
    risks = repo / "docs" / "risks.md"
    text = risks.read_text(encoding="utf-8")
    risks.write_text(
        text.replace("Shared accounts on the EBR system", hostile)
        .replace(":threat: Unattributable", ":threat: +cmd|' /C calc'!A0 Unattributable")
        .replace(":asset: Electronic", ":asset: @SUM(1+1) Electronic"),
        encoding="utf-8",
    )
    soa = repo / "docs" / "soa.md"
    soa.write_text(
        soa.read_text(encoding="utf-8").replace(":justification: All", ":justification: -2+3 All"),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "--root", str(repo), "risks")
    assert code == 0
    assert '"\'=HYPERLINK(""http://evil.example"",""x"")"' in out
    risk = dict(zip(*list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))[:2], strict=True))
    assert risk["title"] == "'" + hostile
    assert risk["threat"].startswith("'+cmd")
    assert risk["asset"].startswith("'@SUM")
    code, out, _ = run(capsys, "--root", str(repo), "soa")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert rows[3][3] == "'-2+3 All software is bought and configured; none is written in-house."
    # No cell of either export starts with a character that opens a formula.
    assert not any(
        cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row
    )


def test_csv_is_written_only_through_the_neutralising_helper() -> None:
    # Training, CAPA and metrics exports to come must use csv_text too.
    code = Path(__file__).parent.parent
    writers = [
        path.relative_to(code).as_posix()
        for folder in ("tools", "extensions")
        for path in sorted((code / folder).rglob("*.py"))
        # The shipped OQ suite is tests, not product: it reads CSV exports to check them.
        if "qms/oq/" not in path.as_posix()
        and re.search(r"^\s*(import csv|from csv import)", path.read_text(encoding="utf-8"), re.M)
    ]
    assert writers == ["tools/qms/model/csvcells.py"]


@pytest.mark.parametrize(
    ("cell", "written"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\tx", "'\tx"), ("\rx", "'\rx"), ("a=1", "a=1"), ("", ""), ("'=x", "'=x")],
)  # fmt: skip
def test_neutralise_follows_owasp(cell: str, written: str) -> None:
    assert neutralise(cell) == written
    text = csv_text(["h"], [[cell]])
    assert list(csv.reader(io.StringIO(text.lstrip("\ufeff")))) == [["h"], [written]]
    assert text.endswith(f'"{written}"\r\n')
