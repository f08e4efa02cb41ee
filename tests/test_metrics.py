"""KPIs: definitions, manual results, periods and states; each bad input located (issue 16)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sphinx.testing.util import SphinxTestApp

from qms.model.metric_sources import CapaCounts, Facts
from qms.model.metrics import (
    AMBER,
    BETTER,
    GREEN,
    RED,
    WORSE,
    HistoryPoint,
    Metric,
    Result,
    check_results,
    missing_results,
    parse_results,
    period_end,
    trend,
)
from qms.model.traceability import Graph
from qms.services.dashboard import dashboard
from qms.services.metric_history import History, PastState
from tests.conftest import ROOTS
from tests.sphinx_helpers import warnings


def _metric(direction: str = "higher", frequency: str = "quarterly", **kw: object) -> Metric:
    fields: dict[str, object] = {
        "id": "KPI-X-01", "title": "X", "definition": "", "unit": "%", "direction": direction,
        "target": 100.0, "amber": 95.0, "red": 90.0, "frequency": frequency,
        "owner": "ISMS Manager", "source": "manual",
    }  # fmt: skip
    fields.update(kw)
    return Metric(**fields)  # type: ignore[arg-type]


def test_states_follow_the_thresholds_in_either_direction() -> None:
    higher = _metric()
    assert [higher.state(v) for v in (100, 96, 95, 94.9, 90, 89.9)] == [
        GREEN, GREEN, GREEN, AMBER, AMBER, RED
    ]  # fmt: skip
    lower = _metric("lower", target=0.0, amber=1.0, red=3.0)
    assert [lower.state(v) for v in (0, 1, 2, 3, 4)] == [GREEN, GREEN, AMBER, AMBER, RED]
    assert trend(lower, [2, 1]) == BETTER and trend(higher, [97, 93]) == WORSE


def test_periods_and_missing_results() -> None:
    assert period_end("2026-Q1") == date(2026, 3, 31)
    assert period_end("2026-02") == date(2026, 2, 28)
    assert period_end("2026-12") == date(2026, 12, 31)
    quarterly = _metric()
    results = [Result("2026-Q1", 1, "s"), Result("2026-Q3", 1, "s")]
    assert missing_results(quarterly, results, date(2026, 12, 2)) == ["2026-Q2"]
    assert missing_results(quarterly, results, date(2027, 1, 1)) == ["2026-Q2", "2026-Q4"]
    # Nothing recorded at all: the period that ended last is due.
    assert missing_results(_metric(frequency="monthly"), [], date(2026, 12, 2)) == ["2026-11"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "metric: KPI-X-01\nunit: '%'\nresults:\n  - period: '2026-Q1'\n    value: '97 %'\n"
            "    source: log\n",
            5,
            "'value' must be a number (no unit, no quotes), found '97 %'",
        ),
        (
            "metric: KPI-X-01\nunit: '%'\nresults:\n  - period: 2026-Q1\n    value: 1\n"
            "  - period: '2026-13'\n    value: 1\n    source: log\n",
            4,
            "a result needs 'source'",
        ),
        (
            "metric: KPI-X-01\nunit: '%'\nresults:\n  - period: '2026-13'\n    value: 1\n"
            "    source: log\n",
            4,
            "'period' must be a quarter (2026-Q1) or a month (2026-03) as "
            "quoted text, found '2026-13'",
        ),
        (
            "metric: KPI-X-01\nunit: '%'\nresults:\n  - period: '2026-Q1'\n    value: true\n"
            "    source: log\n",
            5,
            "'value' must be a number (no unit, no quotes), found True",
        ),
        ("metric: KPI-X-01\nresults: []\nextra: 1\n", 1, "a results file needs 'unit'"),
        ("metric: [unclosed\n", 2, "not valid YAML"),
    ],
)
def test_malformed_results_are_located(text: str, line: int, message: str) -> None:
    found, findings = parse_results("_metrics/x.yaml", text)
    assert found is None
    assert findings[0].line == line
    assert message in findings[0].message
    assert findings[0].code == "metric-result"


def test_results_that_do_not_fit_their_metric_are_located() -> None:
    def file(metric: str, unit: str, periods: list[str]) -> str:
        rows = "".join(f"  - period: '{p}'\n    value: 1\n    source: log\n" for p in periods)
        return f"metric: {metric}\nunit: '{unit}'\nresults:\n{rows}"

    texts = {
        "a.yaml": file("KPI-NONE-01", "%", ["2026-Q1"]),
        "b.yaml": file("KPI-X-01", "days", ["2026-Q1"]),
        "c.yaml": file("KPI-M-01", "count", ["2026-Q1", "2026-01", "2026-01"]),
        "d.yaml": file("KPI-C-01", "%", ["2026-Q1"]),
    }
    parsed = [parse_results(name, text)[0] for name, text in texts.items()]
    metrics = {
        "KPI-X-01": _metric(),
        "KPI-M-01": _metric(id="KPI-M-01", frequency="monthly", unit="count"),
        "KPI-C-01": _metric(id="KPI-C-01", source="controls-implemented"),
    }
    kept, findings = check_results([p for p in parsed if p is not None], metrics)
    assert [f.render() for f in findings] == [
        "a.yaml:1: KPI-NONE-01 is no metric of the handbook; define it as a metric need, or "
        "correct the id",
        "b.yaml:2: unit 'days' is not the unit of KPI-X-01 ('%')",
        "c.yaml:4: period 2026-Q1 does not fit KPI-M-01, which is monthly",
        "c.yaml:10: period 2026-01 is already given at line 7",
    ]
    assert [r.period for r in kept["KPI-M-01"]] == ["2026-01"]
    # A computed KPI's file: what was recorded before the handbook counted it.
    assert [r.period for r in kept["KPI-C-01"]] == ["2026-Q1"]


@pytest.mark.sphinx("html", testroot="metrics", freshenv=True)
def test_the_metrics_root_is_clean(app: SphinxTestApp) -> None:
    app.build()
    assert warnings(app) == []


def _broken(tmp_path: Path, page: str, old: str, new: str) -> list[str]:
    src = tmp_path / "root"
    shutil.copytree(ROOTS / "test-metrics", src)
    path = src / page
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    app = SphinxTestApp("html", srcdir=src, freshenv=True)
    try:
        app.build()
        return warnings(app)
    finally:
        app.cleanup()


@pytest.mark.parametrize(
    ("page", "old", "new", "expected"),
    [
        (
            "objectives.md",
            ":owner: IT Operations Lead\n",
            "",
            "objectives.md:8: WARNING: need KPI-ACC-01: a KPI has an owner, a target and a "
            "frequency, and says its unit, which way is better and where its values come from: "
            '"owner" is a required property [qms.need-field]',
        ),
        (
            "objectives.md",
            ":frequency: monthly\n",
            "",
            "objectives.md:23: WARNING: need KPI-INC-01: a KPI has an owner, a target and a "
            "frequency, and says its unit, which way is better and where its values come from: "
            '"frequency" is a required property [qms.need-field]',
        ),
        (
            "objectives.md",
            ":target: 100\n",
            ":target: all\n",
            "objectives.md:8: WARNING: KPI-ACC-01: 'target' must be a number (no unit), found "
            "'all' [qms.metric]",
        ),
        (
            "objectives.md",
            ":amber: 95\n",
            ":amber: 101\n",
            "objectives.md:8: WARNING: KPI-ACC-01: amber threshold 101 is better than the target "
            "100 [qms.metric]",
        ),
        (
            "_metrics/kpi-inc-01.yaml",
            "unit: count",
            "unit: '%'",
            "_metrics/kpi-inc-01.yaml:2: WARNING: unit '%' is not the unit of KPI-INC-01 "
            "('count') [qms.metric-result]",
        ),
        (
            "_metrics/kpi-inc-01.yaml",
            "metric: KPI-INC-01",
            "metric: KPI-INC-99",
            "_metrics/kpi-inc-01.yaml:1: WARNING: KPI-INC-99 is no metric of the handbook; define "
            "it as a metric need, or correct the id [qms.metric-result]",
        ),
        (
            "_metrics/kpi-inc-01.yaml",
            "value: 2",
            "value: two",
            "_metrics/kpi-inc-01.yaml:8: WARNING: 'value' must be a number (no unit, no quotes), "
            "found 'two' [qms.metric-result]",
        ),
    ],
)
def test_each_bad_input_breaks_the_build_at_its_line(
    tmp_path: Path, page: str, old: str, new: str, expected: str
) -> None:
    assert _broken(tmp_path, page, old, new) == [expected]


def test_a_computed_kpi_shows_what_was_recorded_only_before_it_was_counted() -> None:
    metric = _metric(id="KPI-C-02", unit="count", direction="lower", target=0.0, amber=2.0,
                     red=3.0, frequency="monthly", source="capas-overdue")  # fmt: skip
    recorded = tuple(Result(p, v, "eQMS") for p, v in (("2026-01", 1), ("2026-02", 3),
                                                       ("2026-03", 9)))  # fmt: skip
    counted = PastState(HistoryPoint("2026-03", "c" * 40, date(2026, 3, 31)),
                        {"capas-overdue": 2.0}, None)  # fmt: skip
    history = History(
        "d" * 40, {"monthly": (counted,)}, {"monthly": "2026-04", "quarterly": "2026-Q2"}
    )
    facts = Facts(graph=Graph.build(()), threshold=8, capas=CapaCounts(open=4, overdue=1))
    [tile] = dashboard([metric], {metric.id: recorded}, facts, date(2026, 4, 9), (),
                       history).tiles  # fmt: skip
    # March was counted: the value recorded for it (9) gives way to the count (2).
    assert [(p.period, p.value, p.running) for p in tile.points] == [
        ("2026-01", 1.0, False), ("2026-02", 3.0, False), ("2026-03", 2.0, False),
        ("2026-04", 1.0, True),
    ]  # fmt: skip
    assert tile.points[0].comment == "recorded (eQMS)" and tile.chart
