"""KPIs (ISO 27001 9.1): metric definitions, manual results, periods, red/amber/green, trends."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from qms.model.findings import Finding, FindingCode
from qms.model.located import load_checked
from qms.model.traceability import Graph, Need
from qms.model.vocabulary import MEASURES, METRIC, SUPPORTS

# The shape of a results file is qms/schemas/metric-results.schema.json.
SCHEMA = "metric-results"
MANUAL = "manual"
GREEN, AMBER, RED, NO_RESULT = "green", "amber", "red", "no result"
# Trend arrows: the last value against the one before, in the metric's better direction.
BETTER, WORSE, SAME = "↑", "↓", "→"


@dataclass(frozen=True)
class Metric:
    """One KPI as its need defines it."""

    id: str
    title: str
    definition: str
    unit: str
    direction: str  # "higher" or "lower" is better
    target: float
    amber: float  # worse than this is amber (the target when unset)
    red: float | None  # worse than this is red (never, when unset)
    frequency: str
    owner: str
    source: str
    objectives: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()

    def better(self, a: float, b: float) -> bool:
        """Whether `a` is strictly better than `b` for this metric."""
        return a > b if self.direction == "higher" else a < b

    def state(self, value: float | None) -> str:
        """Green at or better than the amber threshold; red worse than the red one."""
        if value is None:
            return NO_RESULT
        if self.red is not None and self.better(self.red, value):
            return RED
        if self.better(self.amber, value):
            return AMBER
        return GREEN

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "id": self.id,
            "title": self.title,
            "definition": self.definition,
            "unit": self.unit,
            "direction": self.direction,
            "target": self.target,
            "amber": self.amber,
            "red": self.red,
            "frequency": self.frequency,
            "owner": self.owner,
            "source": self.source,
            "objectives": list(self.objectives),
            "controls": list(self.controls),
        }


def metric_from_dict(data: Mapping[str, Any]) -> Metric:
    """A metric from its `as_dict` mapping (as a per-commit cache keeps it)."""
    red = data.get("red")
    return Metric(
        str(data["id"]), str(data["title"]), str(data["definition"]), str(data["unit"]),
        str(data["direction"]), float(data["target"]), float(data["amber"]),
        None if red is None else float(red), str(data["frequency"]), str(data["owner"]),
        str(data["source"]), tuple(data["objectives"]), tuple(data["controls"]),
    )  # fmt: skip


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def metric_of(need: Need) -> tuple[Metric | None, str]:
    """The metric a need defines, or None and why not ("" when a required field is missing:
    sphinx-needs' schema reports that)."""
    required = ("target", "frequency", "owner", "unit", "direction", "source")
    if any(not need.text(name) for name in required):
        return None, ""
    numbers: dict[str, float | None] = {}
    for name in ("target", "amber", "red"):
        text = need.text(name).strip()
        numbers[name] = _number(text) if text else None
        if text and numbers[name] is None:
            return None, f"'{name}' must be a number (no unit), found {text!r}"
    target = numbers["target"]
    assert target is not None  # required and parsed above
    amber = numbers["amber"] if numbers["amber"] is not None else target
    red = numbers["red"]
    metric = Metric(
        need.id, need.title, need.text("definition"), need.text("unit"), need.text("direction"),
        target, amber, red, need.text("frequency"), need.text("owner"), need.text("source"),
        need.outgoing(SUPPORTS), need.outgoing(MEASURES),
    )  # fmt: skip
    if metric.better(amber, target):
        return None, f"amber threshold {amber:g} is better than the target {target:g}"
    if red is not None and metric.better(red, amber):
        return None, f"red threshold {red:g} is better than the amber threshold {amber:g}"
    return metric, ""


def metrics_of(
    graph: Graph, locate: Mapping[str, tuple[str, int | None]] | None = None
) -> tuple[tuple[Metric, ...], tuple[Finding, ...]]:
    """Every well-defined metric of the graph, and a located finding for each ill-defined one."""
    found: list[Metric] = []
    findings: list[Finding] = []
    for need in graph.of_type(METRIC):
        metric, problem = metric_of(need)
        if metric is not None:
            found.append(metric)
        elif problem:
            path, line = (locate or {}).get(need.id, (need.docname, need.lineno))
            findings.append(Finding(path, line, f"{need.id}: {problem}", FindingCode.METRIC))
    return tuple(found), tuple(findings)


# --- Periods: "2026-Q1" (quarterly) and "2026-03" (monthly).


def period_kind(period: str) -> str:
    """'quarterly' or 'monthly', as the period is written."""
    return "quarterly" if "-Q" in period else "monthly"


def _index(period: str) -> tuple[int, int]:
    year, part = period.split("-")
    return int(year), int(part.removeprefix("Q"))


def period_end(period: str) -> date:
    """The last day of a period."""
    year, part = _index(period)
    month = part * 3 if period_kind(period) == "quarterly" else part
    if month == 12:
        return date(year, 12, 31)
    return date.fromordinal(date(year, month + 1, 1).toordinal() - 1)


def period_of(on: date, frequency: str) -> str:
    """The period that holds `on`."""
    if frequency == "quarterly":
        return f"{on.year}-Q{(on.month - 1) // 3 + 1}"
    return f"{on.year}-{on.month:02d}"


def next_period(period: str) -> str:
    """The period after `period`, of the same kind."""
    year, part = _index(period)
    last = 4 if period_kind(period) == "quarterly" else 12
    year, part = (year + 1, 1) if part == last else (year, part + 1)
    return f"{year}-Q{part}" if last == 4 else f"{year}-{part:02d}"


def ended_periods(first: str, on: date) -> list[str]:
    """The periods from `first` on whose last day is before `on`."""
    found: list[str] = []
    period = first
    while period_end(period) < on and len(found) < 1200:
        found.append(period)
        period = next_period(period)
    return found


# --- Manual results: one YAML file per metric under docs/_metrics/.


@dataclass(frozen=True)
class Result:
    """One value of a metric for one period, with where it comes from."""

    period: str
    value: float
    source: str
    comment: str = ""
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "period": self.period,
            "value": self.value,
            "source": self.source,
            "comment": self.comment,
        }


@dataclass(frozen=True)
class ResultFile:
    """The results file of one manual metric."""

    path: str
    metric: str
    unit: str
    results: tuple[Result, ...]
    line_of_metric: int = 1
    line_of_unit: int = 1


def parse_results(path: str, text: str) -> tuple[ResultFile | None, list[Finding]]:
    """Read a results file; every problem is a finding at its line."""
    findings: list[Finding] = []

    def fail(line: int, message: str) -> None:
        findings.append(Finding(path, line, message, FindingCode.METRIC_RESULT))

    checked = load_checked(text, SCHEMA, fail, "a results file is a mapping")
    if checked is None:
        return None, findings
    located, data, found = checked.located, checked.data, checked.problems
    for problem in found:
        where = problem.path[:-1] if problem.keyword == "required" else problem.path
        fail(located.line(where) if where else 1, problem.message)
    entries: list[Any] = [] if found else data["results"]
    for index, entry in enumerate(entries):
        # JSON Schema's numbers include .nan, .inf and integers no float can hold.
        if _number(str(entry["value"])) is None:
            fail(located.line(("results", index, "value")), "'value' must be a finite number")
    if findings:
        return None, findings
    results = tuple(
        Result(
            str(entry["period"]),
            float(entry["value"]),
            str(entry["source"]),
            str(entry.get("comment", "")),
            located.line(("results", index)),
        )
        for index, entry in enumerate(data["results"])
    )
    return (
        ResultFile(
            path,
            data["metric"],
            data["unit"],
            results,
            located.line(("metric",)),
            located.line(("unit",)),
        ),
        findings,
    )


def check_results(
    files: Iterable[ResultFile], metrics: Mapping[str, Metric], ill_defined: Collection[str] = ()
) -> tuple[dict[str, tuple[Result, ...]], list[Finding]]:
    """The results of each metric, by period; a finding for each one that does not fit.

    A computed metric's file holds what was recorded before the handbook counted it (the
    dashboard shows those periods only before its first counted one). The files of
    `ill_defined` metrics (whose need is reported already) are passed over.
    """
    by_metric: dict[str, tuple[Result, ...]] = {}
    findings: list[Finding] = []
    seen: dict[str, str] = {}
    for file in files:

        def fail(line: int | None, message: str, file: ResultFile = file) -> None:
            findings.append(Finding(file.path, line, message, FindingCode.METRIC_RESULT))

        metric = metrics.get(file.metric)
        if file.metric in ill_defined:
            continue
        if metric is None:
            fail(file.line_of_metric, f"{file.metric} is no metric of the handbook; "
                 "define it as a metric need, or correct the id")  # fmt: skip
            continue
        first = seen.setdefault(file.metric, file.path)
        if first != file.path:
            fail(file.line_of_metric, f"{file.metric} already has its results in {first}")
            continue
        if file.unit != metric.unit:
            fail(file.line_of_unit, f"unit {file.unit!r} is not the unit of {metric.id} "
                 f"({metric.unit!r})")  # fmt: skip
            continue
        kept: dict[str, Result] = {}
        for result in file.results:
            if period_kind(result.period) != metric.frequency:
                fail(result.line, f"period {result.period} does not fit {metric.id}, "
                     f"which is {metric.frequency}")  # fmt: skip
            elif result.period in kept:
                fail(result.line, f"period {result.period} is already given at line "
                     f"{kept[result.period].line}")  # fmt: skip
            else:
                kept[result.period] = result
        by_metric[metric.id] = tuple(sorted(kept.values(), key=lambda r: _index(r.period)))
    return by_metric, findings


def previous_period(on: date, frequency: str) -> str:
    """The last period that ended before `on`."""
    current = period_of(on, frequency)
    year, part = _index(current)
    month = (part - 1) * 3 + 1 if frequency == "quarterly" else part
    return period_of(date.fromordinal(date(year, month, 1).toordinal() - 1), frequency)


def missing_results(metric: Metric, results: Sequence[Result], on: date) -> list[str]:
    """The ended periods from the first result on that have no result on `on`; with no
    result at all, the period that ended last."""
    if not results:
        return [previous_period(on, metric.frequency)]
    have = {r.period for r in results}
    return [p for p in ended_periods(results[0].period, on) if p not in have]


def trend(metric: Metric, values: Sequence[float]) -> str:
    """An arrow for the last value against the one before: better, worse or the same."""
    if len(values) < 2:
        return ""
    last, before = values[-1], values[-2]
    if metric.better(last, before):
        return BETTER
    if metric.better(before, last):
        return WORSE
    return SAME


# --- History of computed metrics: the state at the end of each ended period.

# How many ended periods a computed metric's chart goes back.
HISTORY_PERIODS = {"quarterly": 8, "monthly": 12}


@dataclass(frozen=True)
class HistoryPoint:
    """The commit that was the branch's state at the end of `period`, judged on its last day."""

    period: str
    commit: str
    on: date


def _prior(period: str) -> str:
    year, part = _index(period)
    quarterly = period_kind(period) == "quarterly"
    if part == 1:
        year, part = year - 1, 4 if quarterly else 12
    else:
        part -= 1
    return f"{year}-Q{part}" if quarterly else f"{year}-{part:02d}"


def _end_of(day: date) -> int:
    """The last second of `day` (UTC), as a Unix timestamp."""
    return (day.toordinal() - date(1970, 1, 1).toordinal() + 1) * 86400 - 1


def history_points(
    chain: Sequence[tuple[str, int]], frequency: str, limit: int | None = None
) -> tuple[HistoryPoint, ...]:
    """The periods that ended before the day (UTC) of the chain's newest commit, oldest
    first, each with the newest commit of the chain (newest first: (commit, committer
    time)) made by the end of that period; periods before the first commit are left out.

    Only commit times are read, never the clock: one commit always has the same history.
    """
    if not chain:
        return ()
    head_day = date.fromordinal(date(1970, 1, 1).toordinal() + chain[0][1] // 86400)
    found: list[HistoryPoint] = []
    period = previous_period(head_day, frequency)
    for _ in range(limit if limit is not None else HISTORY_PERIODS[frequency]):
        end = period_end(period)
        # Along the first-parent chain, the first commit (from HEAD back) made by then.
        commit = next((c for c, seconds in chain if seconds <= _end_of(end)), None)
        if commit is None:
            break
        found.append(HistoryPoint(period, commit, end))
        period = _prior(period)
    return tuple(reversed(found))


def head_period(chain: Sequence[tuple[str, int]], frequency: str) -> str:
    """The period of the chain's newest commit (UTC): the one still running at it."""
    day = date.fromordinal(date(1970, 1, 1).toordinal() + chain[0][1] // 86400)
    return period_of(day, frequency)
