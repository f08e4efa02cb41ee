"""The history of computed KPIs and of the risk profile, over a real git history: the
period-end commits, their values against a hand count, and charts the same to the byte."""

from __future__ import annotations

import base64
import html as markup
import re
import shutil
from datetime import UTC, date, datetime, time
from pathlib import Path

import git
import pytest

from qms.adapters.git import Repository, open_repository
from qms.config import load_config
from qms.model.metrics import HistoryPoint, head_period, history_points
from qms.model.release import DocumentSet
from qms.model.timeutil import from_epoch
from qms.services.metric_history import History, metric_history
from qms.services.metric_points import PointCounter
from qms.services.metrics import known_here
from tests.conftest import HandbookFactory
from tests.signing_repo import run

SETTINGS = 'site_pages = ["index", "frameworks/*", "objectives"]\nrisk_acceptance_threshold = 8\n'
MONTHLY = """
```{metric} Risks above the acceptance threshold after treatment
:id: KPI-RSK-01
:definition: Risks whose target residual score is above the acceptance threshold
:unit: count
:direction: lower
:target: 0
:red: 2
:frequency: monthly
:owner: ISMS Manager
:source: risks-above-threshold-residual
:supports: OBJ-ACC
```
"""
IMAGES = re.compile(
    r'<img class="qms-chart-svg" src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]*)"'
)


def _day(text: str) -> int:
    return int(date.fromisoformat(text[:10]).toordinal() - date(1970, 1, 1).toordinal()) * 86400


def test_each_ended_period_takes_the_last_commit_made_by_its_end() -> None:
    def at(day: str, seconds: int = 0) -> int:
        return _day(day) + seconds

    chain = (  # newest first, as git lists the first-parent chain
        ("e", at("2026-05-20", 9 * 3600)),
        ("d", at("2026-04-01", 1800)),  # just after the first quarter
        ("c", at("2026-03-31", 86399)),  # the quarter's very last second
        ("b", at("2026-02-10")),
        ("a", at("2026-01-15")),
    )
    assert history_points(chain, "quarterly") == (HistoryPoint("2026-Q1", "c", date(2026, 3, 31)),)
    months = history_points(chain, "monthly")
    assert [(p.period, p.commit) for p in months] == [
        ("2026-01", "a"), ("2026-02", "b"), ("2026-03", "c"), ("2026-04", "d"),
    ]  # fmt: skip
    assert months[1].on == date(2026, 2, 28)
    assert [p.period for p in history_points(chain, "monthly", limit=2)] == ["2026-03", "2026-04"]
    assert (
        head_period(chain, "quarterly") == "2026-Q2" and head_period(chain, "monthly") == "2026-05"
    )
    # The head's own day decides which periods have ended: on 1 April, the first quarter has.
    assert [p.period for p in history_points(chain[1:], "quarterly")] == ["2026-Q1"]
    assert history_points((), "monthly") == ()


def _edit(root: Path, page: str, old: str, new: str) -> None:
    path = root / "docs" / page
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _commit(root: Path, message: str, when: str) -> str:
    repo = git.Repo(root)
    repo.git.add(A=True)
    stamp = f"{int(datetime.fromisoformat(when).timestamp())} +0000"  # git's own form
    return str(repo.index.commit(message, author_date=stamp, commit_date=stamp).hexsha)


@pytest.fixture
def history(make_handbook: HandbookFactory) -> tuple[Path, list[str]]:
    """Five commits from January to May 2026 (UTC), each changing what is counted."""
    root = make_handbook("metrics", SETTINGS)
    git.Repo.init(root)
    _edit(root, "objectives.md", "## Dashboard", MONTHLY + "\n## Dashboard")
    commits = [_commit(root, "KPIs", "2026-01-15T12:00:00+00:00")]
    _edit(root, "soa.md", ":implementation: partial", ":implementation: implemented")
    commits.append(_commit(root, "Backups implemented", "2026-02-10T12:00:00+00:00"))
    restore = ":likelihood: {}\n:impact: {}\n:residual_likelihood: {}\n:residual_impact: {}"
    _edit(root, "risks.md", restore.format(3, 4, 1, 4), restore.format(5, 4, 3, 3))
    commits.append(_commit(root, "Restore failures rescored", "2026-03-31T23:30:00+00:00"))
    backups = "Batch records must stay retrievable.\n:implementation: "
    _edit(root, "soa.md", backups + "implemented", backups + "partial")
    _edit(root, "risks.md", ":residual_likelihood: 2\n:residual_impact: 5",
          ":residual_likelihood: 1\n:residual_impact: 5")  # fmt: skip
    commits.append(
        _commit(root, "Backups back to partial; EBR rescored", "2026-04-01T00:30:00+00:00")
    )
    _edit(root, "index.md", "# Metrics\n", "# Metrics\n\nKPIs are reported quarterly.\n")
    commits.append(_commit(root, "Index", "2026-05-20T09:00:00+00:00"))
    return root, commits


def _build(root: Path, capsys: pytest.CaptureFixture[str]) -> str:
    shutil.rmtree(root / "_build", ignore_errors=True)
    code, out, err = run(capsys, "--root", str(root), "build", "--fresh")
    assert code == 0, out + err
    return (root / "_build" / "html" / "objectives.html").read_text(encoding="utf-8")


def _rows(page: str, anchor: str) -> list[list[str]]:
    """The data table's rows of the chart with id `anchor`, as the cells' text."""
    start = page.index(f'id="{anchor}"')
    table = page[page.index("<tbody>", start) : page.index("</tbody>", start)]
    return [
        [
            markup.unescape(re.sub(r"<[^>]+>", "", cell))
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def test_computed_kpis_and_the_risk_profile_go_back_over_git(
    history: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, commits = history
    page = _build(root, capsys)
    # KPI-CTL-01 (quarterly): the first quarter ends with commit 3 (backups implemented:
    # 2 of 2 applicable controls), the second runs; commit 4, half an hour into April, set
    # backups back to partial (1 of 2).
    ctl = _rows(page, "qms-kpi-kpi-ctl-01")
    assert [row[:3] for row in ctl] == [
        ["2026-Q1", "100%", "green"],
        ["2026-Q2 (to date)", "50%", "amber"],
    ]
    assert ctl[0][3] == f"at the end of the period: commit {commits[2][:10]}"
    # KPI-RSK-01 (monthly, residual above 8): RSK-001 10 until April, then 5; RSK-002 9
    # from the end of March.
    rsk = _rows(page, "qms-kpi-kpi-rsk-01")
    assert [(row[0], row[1]) for row in rsk] == [
        ("2026-01", "1"), ("2026-02", "1"), ("2026-03", "2"), ("2026-04", "1"),
        ("2026-05 (to date)", "1"),
    ]  # fmt: skip
    assert [row[3][-10:] for row in rsk[:4]] == [c[:10] for c in commits[:4]]
    # The risk profile per quarter, counted by hand (bands from 1, 5, 10 and 16):
    # Q1 (commit 3): inherent 20, 20, 2; target 10, 9, 2. Now: target 5, 9, 2.
    profile = _rows(page, "qms-risk-profile")
    quarter_end = f"commit {commits[2][:10]} (end of quarter)"
    assert profile == [
        ["2026-Q1", "inherent", "1", "0", "0", "2", "3", quarter_end],
        ["current", "1", "1", "1", "0", "3"],
        ["target", "1", "1", "1", "0", "3"],
        ["2026-Q2 (to date)", "inherent", "1", "0", "0", "2", "3", "this build"],
        ["current", "1", "2", "0", "0", "3"],
        ["target", "1", "2", "0", "0", "3"],
    ]
    alts = dict((alt.split(",")[0], alt) for _, alt in IMAGES.findall(page))
    assert (
        "2026-Q1: 100% (green); 2026-Q2 (to date): 50% (amber)"
        in alts["Trend of KPI-CTL-01 Applicable controls implemented"]
    )
    # Each ended period is kept per commit and day; the running one is this build's own.
    kept = sorted(p.name for p in (root / ".git" / "qms" / "metrics").glob("*.json"))
    assert kept == sorted(
        f"{commit}-{day}-history.json"
        for commit, day in zip(
            commits[:4], ("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"), strict=True
        )
    )


def test_one_commit_draws_the_same_bytes_with_and_without_the_cache(
    history: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, commits = history
    folder = root / ".git" / "qms" / "metrics"
    cold = IMAGES.findall(_build(root, capsys))
    # April's point was counted last, reusing what the three before it had read.
    april = folder / f"{commits[3]}-2026-04-30-history.json"
    carried = april.read_bytes()
    warm = IMAGES.findall(_build(root, capsys))  # every past point read back
    april.unlink()
    alone = IMAGES.findall(_build(root, capsys))  # April's counted again, on its own
    assert april.read_bytes() == carried  # reading only what changed counts the same
    shutil.rmtree(folder)
    again = IMAGES.findall(_build(root, capsys))  # every past point counted again
    # KPI-ACC-01, KPI-INC-01, KPI-CTL-01, KPI-RSK-01 and the risk profile.
    assert len(cold) == 5
    assert cold == warm == alone == again
    svg = base64.b64decode(cold[-1][0])
    assert b"<dc:date>" not in svg and b"<text" not in svg


def _point(repo: Repository, commit: str) -> tuple[date, datetime]:
    day = from_epoch(repo.commit_time(commit)).date()
    return day, datetime.combine(day, time(23, 59, 59), UTC)


def test_a_point_read_from_git_counts_what_sphinx_reads_at_its_commit(
    history: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, commits = history
    repo = open_repository(root)
    assert repo is not None
    counter = PointCounter(repo, ".", tmp_path / "scratch")
    for index, commit in enumerate(commits):  # oldest first, as a history is counted
        day, now = _point(repo, commit)
        tree = repo.clone_at(commit, tmp_path / f"at-{index}").root
        by_sphinx = known_here(load_config(tree), day, now)
        by_git = counter.count(commit, day, now)
        assert by_git.computed == by_sphinx.computed, commit
        assert by_git.profile == by_sphinx.profile, commit
        assert (by_git.metrics, by_git.ill_defined) == (by_sphinx.metrics, by_sphinx.ill_defined)
    # Controls, risks and KPIs were all counted, not only absent alike.
    assert by_git.computed["controls-implemented"] is not None
    assert by_git.profile and sum(by_git.profile["inherent"]) == 3


def test_a_sets_history_counts_only_what_the_set_selects(
    history: tuple[Path, list[str]],
) -> None:
    # Issue 16: the staff set does not admit confidential documents; the risk register and
    # the SoA of this handbook are confidential, the access procedure internal.
    root, _ = history
    staff = DocumentSet(
        "staff", "Staff handbook", classifications=("public", "internal"),
        pages=("objectives", "frameworks/*"),
    )  # fmt: skip
    whole = metric_history(root, {"monthly"})
    chosen = metric_history(root, {"monthly"}, staff)
    assert whole is not None and chosen is not None

    def series(found: History, source: str) -> list[float | None]:
        return [state.values[source] for state in found.past["monthly"]]

    # The confidential register's rescored risks move the whole handbook's count...
    # (restore failures rescored above 8 in March, the EBR risk below it in April).
    assert series(whole, "risks-above-threshold-residual") == [1.0, 1.0, 2.0, 1.0]
    # ...and not the staff set's: it counts none of their risks, nor the SoA's controls.
    assert series(chosen, "risks-above-threshold-residual") == [0.0] * 4
    assert series(chosen, "risks-above-threshold-inherent") == [0.0] * 4
    assert series(whole, "controls-implemented") == [50.0, 100.0, 100.0, 50.0]
    assert series(chosen, "controls-implemented") == [None] * 4
    for state in chosen.past["quarterly"]:
        assert state.profile is not None and not any(map(sum, state.profile.values()))
    # Its documents are the one internal procedure; the whole handbook has three.
    states = ("documents-draft", "documents-in-review", "documents-effective")
    assert {sum(s.values[n] or 0 for n in states) for s in chosen.past["monthly"]} == {1.0}
    assert {sum(s.values[n] or 0 for n in states) for s in whole.past["monthly"]} == {3.0}
    # Each is kept apart: the set's points never stand in for the whole handbook's.
    kept = sorted(p.name for p in (root / ".git" / "qms" / "metrics").glob("*.json"))
    # (four month ends; the first quarter ends with March, the same commit and day).
    assert sum(name.endswith("-history-set-staff.json") for name in kept) == 4
    assert sum(name.endswith("-history.json") for name in kept) == 4
