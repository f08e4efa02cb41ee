"""The example handbook shipped in docs/ builds cleanly, as with sphinx-build -W."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from qms.adapters.git import open_repository
from qms.config import load_config
from qms.model.timeutil import from_epoch
from qms.services.handbook import load_handbook
from qms.services.metric_points import PointCounter
from qms.services.metrics import known_here
from qms.services.sphinx_run import SphinxRun, run_sphinx
from tests.signing_repo import run

from .conftest import REPO


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> SphinxRun:
    out = tmp_path_factory.mktemp("example") / "html"
    return run_sphinx(load_config(REPO), "html", out, fresh=True, progress=None)


def test_example_builds_without_a_single_warning(site: SphinxRun) -> None:
    assert [f.render() for f in site.findings] == []
    assert not site.failed


def test_example_carries_one_lapsed_acceptance_as_a_notice_at_its_risk(site: SphinxRun) -> None:
    # resign.py leaves RSK-023 accepted at its register 1.0 score; RSK-002 lacks one.
    register = (REPO / "docs" / "registers" / "reg-isms-002.md").read_text().splitlines()
    line = register.index(":id: RSK-023")  # the directive's line, one above its id
    [notice] = site.notices
    assert (notice.path, notice.line) == ("docs/registers/reg-isms-002.md", line)
    assert notice.message.startswith(
        "RSK-023: acceptance lapsed: the current score 12 is above the accepted 6 (Thomas Brandt"
    )


def test_example_plan_is_approved_by_each_owner_of_the_risks_it_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "--root", str(REPO), "status", "--json", "PLN-ISMS-002")
    assert code == 0, err
    [plan] = json.loads(out)["documents"]
    assert (plan["status"], plan["awaiting_owners"]) == ("effective", [])
    text = (REPO / "docs" / "plans" / "pln-isms-002.md").read_text()
    named = re.search(r"^risk_owners: \[(.*)\]$", text, re.MULTILINE)
    assert named is not None and len(named.group(1).split(", ")) == 7


def test_every_document_has_a_control_block_and_is_in_the_register(site: SphinxRun) -> None:
    handbook = load_handbook(load_config(REPO))
    assert len(handbook.documents) >= 3
    register = (site.outdir / "register.html").read_text(encoding="utf-8")
    for document in handbook.documents:
        html_path = site.outdir / Path(document.path).relative_to("docs").with_suffix(".html")
        html = html_path.read_text(encoding="utf-8")
        assert re.search(r'<div class="qms-control qms-status-\w', html), document.id
        assert f'<span class="pre">{document.id}</span>' in register


def test_example_has_the_documents_the_foundation_promises() -> None:
    ids = {document.id for document in load_handbook(load_config(REPO)).documents}
    assert {"POL-ISMS-001", "POL-ISMS-002", "SOP-QMS-001"} <= ids


def test_example_soa_has_93_rows_and_no_gaps() -> None:
    from qms.model.traceability import coverage, soa_rows
    from qms.services.traceability import load_graph

    result = load_graph(load_config(REPO))
    assert [f.render() for f in result.findings] == []
    rows = soa_rows(result.graph)
    assert len(rows) == 93
    assert {row.decision for row in rows} <= {"applicable", "excluded"}
    for key, name, kind in result.graph.catalogues():
        if kind != "management-system":
            gaps = coverage(result.graph, key).gaps
            assert gaps == (), f"{name}: {[(n.id, why) for n, why in gaps]}"
    risks = [n for n in result.graph.needs.values() if n.type == "risk"]
    assert len(risks) >= 30


def test_example_training_shows_every_way_of_recording_and_every_state(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "--root", str(REPO), "verify", "--json")
    assert code == 0, err
    assert json.loads(out)["registry"]["trusted"] is True
    # Judged on a fixed day, so that the picture does not drift with the calendar:
    # SOP-HR-001 2.x takes effect on 2027-01-04 and is due 30 days later; documents
    # effective since 2026-11-30 were due on 2026-12-30.
    code, out, err = run(
        capsys, "--root", str(REPO), "training", "status", "--json", "--on", "2027-01-15"
    )
    assert code == 0, err
    rows = json.loads(out)
    states = Counter(row["state"] for row in rows)
    methods = Counter(row["method"] for row in rows if row["state"] == "done")
    assert min(methods["self"], methods["session"], methods["import"]) >= 1, methods
    assert states["due"] >= 1 and states["overdue"] >= 1, states
    people = {row["employee"] for row in rows}
    assert len(people) >= 35
    assert "E1135" not in people  # left on 2026-10-31: nothing is required of them
    [joiner] = {row["due"] for row in rows if row["employee"] == "E1314"}
    assert joiner == "2027-02-03"  # joined 2027-01-04
    hr = [row for row in rows if row["document"] == "SOP-HR-001"]
    assert {row["version"] for row in hr} == {"2.1"}
    assert {row["state"] for row in hr} == {"done", "due"}  # 2.0's acknowledgement counts
    # Operators and QC analysts read SOP-QA-003 by the day it took effect (due_days 0):
    # on the day after, whoever has not is overdue, while everyone else still has 30 days.
    code, out, err = run(
        capsys, "--root", str(REPO), "training", "status", "--json", "--on", "2026-12-01"
    )
    assert code == 0, err
    late = [row for row in json.loads(out) if row["state"] == "overdue"]
    assert late and {row["document"] for row in late} == {"SOP-QA-003"}
    assert {row["due"] for row in late} == {"2026-11-30"}


def test_example_audit_trail_shows_a_session_that_covered_several_documents(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The Cork session covers POL-DI-001 and SOP-QA-003 in one record: judged for one
    # document, the other's completions are passed over, not a reason to refuse it.
    code, out, err = run(capsys, "--root", str(REPO), "audit-trail", "POL-DI-001", "--json")
    assert code == 0, err
    trained = [e for e in json.loads(out) if e["event"].startswith("trained (session)")]
    assert [e["event"] for e in trained] == ["trained (session): 6 people"]
    assert "E1" not in json.dumps(trained)  # counted, not named


def test_example_shows_one_open_suspect_link_and_one_cleared_by_an_assessment(
    site: SphinxRun,
) -> None:
    """CTL-8-16 was widened in REG-ISMS-001 1.2 after SOP-ITO-003 1.0 was approved; the ISMS
    Manager assessed the evidence's link, the procedure's is open (after make resign-example)."""
    from qms.clock import now
    from qms.services.impact import impact_status

    impact = impact_status(load_config(REPO), now())
    assert impact.findings == ()
    assert [(s.link.item, s.link.upstream) for s in impact.suspect] == [("PRC-MON-03", "CTL-8-16")]
    [cleared] = [s for s in impact.links if s.state == "cleared"]
    assert (cleared.link.item, cleared.link.upstream) == ("EVD-MON-01", "CTL-8-16")
    assert cleared.assessment is not None and cleared.assessment.ref == "CC-2026-0214"
    html = (site.outdir / "procedures" / "sop-ito-003.html").read_text(encoding="utf-8")
    assert html.count('class="admonition qms-impact qms-suspect"') == 1
    assert html.count('class="admonition qms-impact qms-assessed"') == 1


def test_example_home_page_shows_the_dashboard_summary_in_a_preview(site: SphinxRun) -> None:
    home = (site.outdir / "index.html").read_text(encoding="utf-8")
    start = home.index('<div class="qms-dashboard qms-dashboard-summary">')
    board = home[start : home.index("</div>", start)]
    # Each KPI of SOP-ISMS-002, linking to its chart in REC-ISMS-003, which holds the
    # whole dashboard; KPI-14 is counted from the CAPA log.
    kpis = re.findall(r'href="records/rec-isms-003.html#qms-kpi-(kpi-\d\d)"', board)
    assert kpis == [f"kpi-{n:02d}" for n in range(1, 18)]
    record = (site.outdir / "records" / "rec-isms-003.html").read_text(encoding="utf-8")
    assert all(f'id="qms-kpi-{kpi}"' in record for kpi in kpis)
    assert "Security awareness" not in home  # the staff handbook's block


def test_example_staff_set_home_page_shows_the_awareness_kpis(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    config = load_config(REPO)
    staff = config.document_set("staff")
    # As a release of the staff set builds it: only the documents the set admits.
    paths = {
        Path(d.path).relative_to(config.docs_dir).as_posix(): staff.selects(d)
        for d in load_handbook(config).documents
    }
    kept = {path.split("/")[0] for path, selected in paths.items() if selected}
    exclude = [path for path, selected in paths.items() if not selected]
    # and the index of a type none of whose documents the set holds
    exclude += sorted(
        {f"{path.split('/')[0]}/index.md" for path in exclude}
        - {f"{folder}/index.md" for folder in kept}
    )
    assert "records/rec-isms-003.md" in exclude  # confidential: results and commentary
    release = {"name": "2026-12", "set": "staff", "title": staff.title, "date": "2026-12-07",
               "exclude": exclude}  # fmt: skip
    out = tmp_path_factory.mktemp("staff") / "html"
    built = run_sphinx(config, "html", out, fresh=True, progress=None,
                       overrides={"qms_release": release})  # fmt: skip
    assert not built.failed
    home = (out / "index.html").read_text(encoding="utf-8")
    assert "qms-dashboard-summary" not in home and "ISMS performance" not in home
    board = home[home.index('<div class="qms-dashboard">') :]
    tiles = re.findall(r'<span class="qms-tile-id">(KPI-\d\d)</span>', board)
    assert tiles == ["KPI-01", "KPI-02", "KPI-03"]
    objectives = re.findall(r"<td><strong>(OBJ-[\d-]+)</strong>", board)
    assert objectives == ["OBJ-2027-05"]
    assert "qms-risk-profile" not in home


def test_example_retires_one_procedure_whose_items_no_longer_count(
    site: SphinxRun, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--root", str(REPO), "verify", "--json", "SOP-ITO-004")
    assert code == 0, err
    [document] = json.loads(out)["documents"]
    assert document["status"] == "retired" and "CC-2026-0188" in document["retirement"]["reason"]
    items = re.findall(r"^:id: (PRC-[A-Z]+-\d+)$", (REPO / document["path"]).read_text(), re.M)
    assert items
    # Its items stay on its archive page, and leave the SoA's back links and the matrix.
    page = (site.outdir / "procedures/sop-ito-004.html").read_text(encoding="utf-8")
    assert "RETIRED: withdrawn from use" in page and all(item in page for item in items)
    for other in ("registers/reg-isms-001.html", "traceability.html"):
        html = (site.outdir / other).read_text(encoding="utf-8")
        assert not any(item in html for item in items), other
    assert "SOP-ITO-004" not in (site.outdir / "_static/qms-nav-procedure.js").read_text()


def test_a_history_point_read_from_git_counts_what_sphinx_reads_in_the_example(
    tmp_path: Path,
) -> None:
    # Issue 16: a KPI history point is counted from the commit's git objects without
    # Sphinx; at the example's HEAD it gives every computed KPI what a Sphinx read gives
    # (catalogues, CAPAs from the log and the eQMS import, training, statuses).
    repo = open_repository(REPO)
    head = repo.head() if repo is not None else None
    if repo is None or head is None:
        pytest.skip("the example is not in a git repository")
    day = from_epoch(repo.commit_time(head)).date()
    now = datetime.combine(day, time(23, 59, 59), UTC)
    by_git = PointCounter(repo, repo.relative_path(REPO) or ".", tmp_path / "scratch").count(
        head, day, now
    )
    by_sphinx = known_here(load_config(repo.clone_at(head, tmp_path / "at").root), day, now)
    assert by_git.computed == by_sphinx.computed
    assert (by_git.profile, by_git.metrics) == (by_sphinx.profile, by_sphinx.metrics)
    assert by_git.computed["capas-open"] and by_git.computed["training-completion"]
