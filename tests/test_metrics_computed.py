"""Computed KPIs against hand-counted values, and `qms metrics` on a real git repository."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import git
import pytest
from sphinx.testing.util import SphinxTestApp

from qms.model.metric_sources import FORMAT, CapaCounts, Facts, approval_days, computed_values
from qms_sphinx.graph import graph_of
from tests.conftest import HandbookFactory
from tests.signing_repo import commit_all, run

SETTINGS = 'site_pages = ["index", "frameworks/*", "objectives"]\nrisk_acceptance_threshold = 8\n'


@pytest.mark.sphinx("html", testroot="metrics", freshenv=True)
def test_computed_sources_match_the_hand_count(app: SphinxTestApp) -> None:
    app.build()
    facts = Facts(
        graph_of(app), threshold=8, statuses=("effective", "draft", "in review", "effective"),
        overdue_reviews=2, training=(("qa", 3, 4), ("operator", 1, 4)),
        approval_days=(2.0, 10.0, 4.0),
    )  # fmt: skip
    values = computed_values(facts)
    # soa.md: CTL-5-15 (implemented, evidenced by EVD-ACC-01) and CTL-8-13 (partial) are
    # applicable, CTL-8-28 is excluded.
    assert values["controls-implemented"] == 50.0
    assert values["controls-evidenced"] == 50.0
    # risks.md at threshold 8: RSK-001 20 -> 10, RSK-002 12 -> 4, RSK-003 2 -> 2.
    assert values["risks-above-threshold-inherent"] == 2.0
    assert values["risks-above-threshold-residual"] == 1.0
    assert (values["documents-effective"], values["documents-draft"]) == (2.0, 1.0)
    assert values["documents-in-review"] == 1.0
    assert values["reviews-overdue"] == 2.0
    assert values["training-completion"] == 50.0  # 4 of 8
    assert values["approval-days-median"] == 4.0
    # No CAPA register yet: no value, not zero.
    assert values["capas-open"] is None and values["capas-overdue"] is None
    with_capas = computed_values(Facts(facts.graph, 8, capas=CapaCounts(3, 1)))
    assert (with_capas["capas-open"], with_capas["capas-overdue"]) == (3.0, 1.0)


def test_approval_days_run_from_the_first_signature_to_the_last_approval() -> None:
    day = datetime(2026, 3, 1, tzinfo=UTC)
    later = datetime(2026, 3, 4, 12, tzinfo=UTC)
    assert approval_days(
        [
            [("authored", day), ("reviewed", later), ("approved", later)],
            [("authored", day)],  # not approved yet: left out
        ]
    ) == (3.5,)


@pytest.fixture
def repo(make_handbook: HandbookFactory) -> Path:
    path = make_handbook("metrics", SETTINGS)
    git.Repo.init(path)
    commit_all(path, "KPIs and their results")
    return path


def test_qms_metrics_reports_state_trend_and_caches_per_commit(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--root", str(repo), "metrics", "--json")
    assert code == 0, err
    data = json.loads(out)
    rows = {row["id"]: row for row in data["metrics"]}
    assert (rows["KPI-ACC-01"]["value"], rows["KPI-ACC-01"]["state"]) == (88.0, "red")
    assert rows["KPI-ACC-01"]["trend"] == "↓"
    assert (rows["KPI-CTL-01"]["value"], rows["KPI-CTL-01"]["state"]) == (50.0, "amber")
    head = git.Repo(repo).head.commit.hexsha
    # Kept per commit and the day it was judged on (overdue counts depend on the day).
    cache = repo / ".git" / "qms" / "metrics" / f"{head}-{data['date']}.json"
    kept = json.loads(cache.read_text(encoding="utf-8"))
    assert kept["format"] == FORMAT and kept["values"]["controls-implemented"] == 50.0
    assert [m["id"] for m in kept["metrics"]] == ["KPI-ACC-01", "KPI-CTL-01", "KPI-INC-01"]

    def value_of_ctl() -> float:
        report = json.loads(run(capsys, "--root", str(repo), "metrics", "--json")[1])
        return float({r["id"]: r["value"] for r in report["metrics"]}["KPI-CTL-01"])

    # A kept commit is read back, not counted again (no Sphinx read, no verify) ...
    kept["values"]["controls-implemented"] = 7
    cache.write_text(json.dumps(kept), encoding="utf-8")
    assert value_of_ctl() == 7.0
    # ... unless it is of another format, or damaged: then it is counted again.
    cache.write_text(json.dumps({**kept, "format": FORMAT + 1}), encoding="utf-8")
    assert value_of_ctl() == 50.0
    kept["values"]["controls-implemented"] = 7
    cache.write_text(json.dumps({**kept, "metrics": [{"id": "KPI-CTL-01"}]}), encoding="utf-8")
    assert value_of_ctl() == 50.0
    # A tree with changes is never kept: its values belong to no commit.
    (repo / "docs" / "soa.md").write_text(
        (repo / "docs" / "soa.md")
        .read_text(encoding="utf-8")
        .replace(":implementation: partial", ":implementation: implemented"),
        encoding="utf-8",
    )
    cache.unlink()
    assert value_of_ctl() == 100.0
    assert not cache.exists()
    git.Repo(repo).git.checkout("--", ".")
    (repo / "docs" / "_metrics" / "kpi-new.yaml").write_text("metric: KPI-ACC-01\n")
    assert value_of_ctl() == 50.0
    assert not cache.exists()  # nor a tree with files git does not track
    (repo / "docs" / "_metrics" / "kpi-new.yaml").unlink()
    code, out, err = run(capsys, "--root", str(repo), "metrics")
    assert code == 0
    assert out.splitlines()[0].split() == ["KPI", "VALUE", "TARGET", "STATE", "TREND", "PERIOD",
                                           "OWNER", "TITLE"]  # fmt: skip
    assert "KPI-ACC-01  88%    ≥ 100%  RED    ↓" in out


def test_strict_fails_on_red_and_missing_and_at_shows_a_past_commit(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = git.Repo(repo).head.commit.hexsha
    results = repo / "docs" / "_metrics" / "kpi-acc-01.yaml"
    results.write_text(
        results.read_text(encoding="utf-8")
        + '  - period: "2026-Q4"\n    value: 99\n    source: Access review log\n',
        encoding="utf-8",
    )
    commit_all(repo, "Q4 access reviews")
    code, _, err = run(capsys, "--root", str(repo), "metrics", "--strict")
    assert code == 1
    assert "docs/_metrics/kpi-inc-01.yaml: KPI-INC-01: no result for" in err
    assert "KPI-CTL-01" not in err  # amber is no failure
    now = {
        r["id"]: r
        for r in json.loads(run(capsys, "--root", str(repo), "metrics", "--json")[1])["metrics"]
    }
    assert (now["KPI-ACC-01"]["value"], now["KPI-ACC-01"]["state"]) == (99.0, "green")
    assert now["KPI-ACC-01"]["trend"] == "↑"
    code, out, _ = run(capsys, "--root", str(repo), "metrics", "--at", first[:10], "--json")
    assert code == 0
    past = {r["id"]: r for r in json.loads(out)["metrics"]}
    assert past["KPI-ACC-01"]["value"] == 88.0
    assert json.loads(out)["commit"] == first
    day = json.loads(out)["date"]
    assert (
        day
        == datetime.fromtimestamp(git.Repo(repo).commit(first).committed_date, UTC)
        .date()
        .isoformat()
    )
    assert (repo / ".git" / "qms" / "metrics" / f"{first}-{day}.json").is_file()


def test_strict_names_each_red_kpi(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--root", str(repo), "metrics", "--strict")
    assert code == 1
    assert "KPI-ACC-01  88%" in out  # the table still comes first
    assert "KPI-ACC-01: red, 88% against ≥ 100%\n" in err
    assert "1 red KPI" in err


def test_a_bad_at_is_one_line_with_what_to_do(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--root", str(repo), "metrics", "--at", "v9.9")
    assert (code, out) == (2, "")
    assert err == (
        "qms: error: 'v9.9' names no commit of this repository; give a release tag, a branch "
        "or a commit id ('git log --oneline' lists them)\n"
    )


def test_a_capa_kpi_of_a_handbook_without_capas_has_no_value(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = repo / "docs" / "objectives.md"
    text = page.read_text(encoding="utf-8")
    kpi = text[text.index("```{metric} Security incidents") :]
    kpi = kpi[: kpi.index("```\n", 4) + 4]
    overdue = (
        kpi.replace("Security incidents", "Overdue CAPAs")
        .replace("KPI-INC-01", "KPI-CAPA-01")
        .replace(":source: manual", ":source: capas-overdue")
    )
    page.write_text(text.replace(kpi, kpi + "\n" + overdue), encoding="utf-8")
    commit_all(repo, "A KPI on overdue CAPAs")
    code, out, err = run(capsys, "--root", str(repo), "metrics", "--json")
    assert code == 0, err
    rows = {row["id"]: row for row in json.loads(out)["metrics"]}
    # No CAPA in the handbook: no value (not zero, which would read as green).
    assert (rows["KPI-CAPA-01"]["value"], rows["KPI-CAPA-01"]["state"]) == (None, "no result")
    assert rows["KPI-CAPA-01"]["source"] == "capas-overdue"
