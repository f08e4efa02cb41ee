"""The ISMS dashboard's content: a tile and a trend chart per KPI, objective progress and
the risk profile, from the metrics, their results and what a build verified."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from qms.adapters.charts import STATE_COLOURS, TARGET, Threshold, profile_chart, trend_chart
from qms.model.document import Document
from qms.model.metric_sources import Facts, approval_days, computed_values
from qms.model.metrics import GREEN, MANUAL, Metric, Result, missing_results, period_of, trend
from qms.model.reviews import due_reviews
from qms.model.traceability import RISK_BANDS, RISK_STAGES, Graph, risk_profile, risk_rows
from qms.model.vocabulary import OBJECTIVE
from qms.services.metric_history import PROFILE_FREQUENCY, History
from qms.services.site_state import PageState

# The heat maps' band colours (qms.css .qms-heat-*), darkened to read as bars on white.
BAND_COLOURS = {"low": "#66bb6a", "medium": "#fdd835", "high": "#fb8c00", "critical": "#c62828"}
# What the chart and the data table call the last point: the state of this build.
TO_DATE = "to date"


@dataclass(frozen=True)
class Point:
    """One value on a chart, with its state and the owner's comment."""

    period: str
    value: float
    state: str
    comment: str = ""
    # A computed KPI's value in this build, in the period still running.
    running: bool = False

    @property
    def label(self) -> str:
        """The period, marked when its value is this build's own, so far."""
        return f"{self.period} ({TO_DATE})" if self.running else self.period


@dataclass(frozen=True)
class Tile:
    """One KPI on the dashboard."""

    metric: Metric
    value: float | None
    state: str
    trend: str
    period: str
    points: tuple[Point, ...] = ()
    missing: tuple[str, ...] = ()
    chart: str = ""  # a data: URI of the SVG chart ("" with fewer than two values)

    def number(self, value: float | None) -> str:
        """A value with the metric's unit ("no result" for none)."""
        if value is None:
            return "no result"
        unit = self.metric.unit
        if unit == "count":
            return f"{value:g}"
        return f"{value:g}{unit}" if unit == "%" else f"{value:g} {unit}"

    @property
    def target(self) -> str:
        """The target, with which way is better."""
        sign = "≥" if self.metric.direction == "higher" else "≤"
        return f"{sign} {self.number(self.metric.target)}"

    @property
    def alt(self) -> str:
        """What the chart shows, in words."""
        values = "; ".join(f"{p.label}: {self.number(p.value)} ({p.state})" for p in self.points)
        return f"Trend of {self.metric.id} {self.metric.title}, target {self.target}: {values}"


@dataclass(frozen=True)
class ObjectiveProgress:
    """An objective with the KPIs that support it and how many are green."""

    id: str
    title: str
    owner: str
    tiles: tuple[Tile, ...]

    @property
    def green(self) -> int:
        """KPIs on target."""
        return sum(1 for tile in self.tiles if tile.state == GREEN)


@dataclass(frozen=True)
class ProfileColumn:
    """The risk profile at one point: per stage, how many risks score in each band."""

    period: str
    counts: Mapping[str, tuple[int, ...]]
    commit: str = ""  # the commit that stood for the quarter ("" for this build's own)

    @property
    def label(self) -> str:
        """The period, marked when it is this build's own state."""
        return self.period if self.commit else f"{self.period} ({TO_DATE})"

    def rows(self) -> tuple[tuple[str, tuple[int, ...], int], ...]:
        """(stage, counts per band, total) in stage order."""
        return tuple((s, self.counts[s], sum(self.counts[s])) for s in RISK_STAGES)


@dataclass(frozen=True)
class Dashboard:
    """Everything `{qms-dashboard}` shows."""

    on: date
    tiles: tuple[Tile, ...]
    objectives: tuple[ObjectiveProgress, ...]
    # The risk profile per quarter, oldest first, ending with this build's own; its chart.
    risk_history: tuple[ProfileColumn, ...]
    risk_chart: str
    bands: tuple[str, ...] = tuple(name for name, _ in RISK_BANDS)

    @property
    def risk_alt(self) -> str:
        """What the risk profile chart shows, in words."""
        return "Risks per score band, per quarter: " + "; ".join(
            f"{column.label}: "
            + ", ".join(
                f"{stage} "
                + " ".join(f"{n} {band}" for band, n in zip(self.bands, counts, strict=True))
                for stage, counts, _ in column.rows()
            )
            for column in self.risk_history
        )

    def count(self, state: str) -> int:
        """How many KPIs are in `state`."""
        return sum(1 for tile in self.tiles if tile.state == state)


def site_facts(
    graph: Graph,
    threshold: int,
    pages: Iterable[PageState],
    documents: Iterable[Document],
    on: date,
) -> Facts:
    """The facts the computed KPIs read, from the pages a build verified."""
    states = list(pages)
    roles: dict[str, list[int]] = {}
    for page in states:
        for role in page.training.roles if page.training else ():
            counts = roles.setdefault(role.role, [0, 0])
            counts[0] += role.done
            counts[1] += role.affected
    signatures = [
        [
            (str(v.record.statement.meaning), v.record.statement.signed_at)
            for v in page.signatures
            if v.valid and v.current and v.record.statement is not None
        ]
        for page in states
    ]
    # A retired document is reviewed no more (services/reviews.py).
    retired = {page.row.document.id for page in states if page.retirement is not None}
    in_use = [document for document in documents if document.id not in retired]
    return Facts(
        graph=graph,
        threshold=threshold,
        statuses=tuple(str(page.row.status.status) for page in states),
        overdue_reviews=len(due_reviews(in_use, on, 0).overdue),
        training=tuple((role, done, affected) for role, (done, affected) in sorted(roles.items())),
        approval_days=approval_days(signatures),
    )


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _chart(metric: Metric, points: Sequence[Point]) -> str:
    if len(points) < 2:
        return ""
    lines = [Threshold("target", metric.target, TARGET)]
    if metric.amber != metric.target:
        lines.append(Threshold("amber", metric.amber, STATE_COLOURS["amber"], ":"))
    if metric.red is not None:
        lines.append(Threshold("red", metric.red, STATE_COLOURS["red"], ":"))
    svg = trend_chart(
        f"{metric.id} {metric.title}", [p.label for p in points], [p.value for p in points],
        [p.state for p in points], lines, metric.unit, salt=metric.id,
    )  # fmt: skip
    return _data_uri(svg)


def _computed_tile(
    metric: Metric, value: float | None, history: History | None, recorded: Sequence[Result]
) -> Tile:
    """A computed KPI: what was recorded before the handbook counted it (`recorded`, the
    periods before its first counted one), its value at the end of each ended period,
    then this build's."""
    if history is None:
        return Tile(metric, value, metric.state(value), "", "")
    counted = [
        Point(
            past.point.period,
            found,
            metric.state(found),
            f"at the end of the period: commit {past.point.commit[:10]}",
        )
        for past in history.past.get(metric.frequency, ())
        for found in [past.values.get(metric.source)]
        if found is not None
    ]
    period = history.running[metric.frequency]
    # Periods of one frequency sort as text ("2025-12" < "2026-01", "2026-Q1" < "2026-Q2").
    first = counted[0].period if counted else period
    points = [
        Point(r.period, r.value, metric.state(r.value), r.comment or f"recorded ({r.source})")
        for r in recorded
        if r.period < first
    ]
    points += counted
    if value is not None:
        points.append(Point(period, value, metric.state(value), "this build", running=True))
    return Tile(
        metric, value, metric.state(value), trend(metric, [p.value for p in points]), period,
        tuple(points), (), _chart(metric, points),
    )  # fmt: skip


def _tile(
    metric: Metric,
    results: Sequence[Result],
    computed: Mapping[str, float | None],
    on: date,
    history: History | None,
) -> Tile:
    if metric.source != MANUAL:
        return _computed_tile(metric, computed.get(metric.source), history, results)
    points = tuple(Point(r.period, r.value, metric.state(r.value), r.comment) for r in results)
    last = results[-1] if results else None
    value = last.value if last else None
    return Tile(
        metric, value, metric.state(value), trend(metric, [r.value for r in results]),
        last.period if last else "", points, tuple(missing_results(metric, results, on)),
        _chart(metric, points),
    )  # fmt: skip


def _risk_history(graph: Graph, history: History | None, on: date) -> tuple[ProfileColumn, ...]:
    """The profile at the end of each ended quarter that had a handbook, then this build's."""
    past = history.past.get(PROFILE_FREQUENCY, ()) if history is not None else ()
    columns = [
        ProfileColumn(state.point.period, state.profile, state.point.commit)
        for state in past
        if state.profile is not None
    ]
    running = history.running[PROFILE_FREQUENCY] if history else period_of(on, PROFILE_FREQUENCY)
    return (*columns, ProfileColumn(running, risk_profile(risk_rows(graph))))


def _profile_chart(columns: Sequence[ProfileColumn], bands: Sequence[str]) -> str:
    if not any(sum(counts) for column in columns for counts in column.counts.values()):
        return ""
    svg = profile_chart(
        "Risks per score band: inherent (I), current (C), target (T)",
        [column.label for column in columns],
        [stage[0].upper() for stage in RISK_STAGES],
        [(band, BAND_COLOURS[band]) for band in bands],
        [[list(column.counts[stage]) for stage in RISK_STAGES] for column in columns],
        salt="risk-profile",
    )
    return _data_uri(svg)


def dashboard(
    metrics: Sequence[Metric],
    results: Mapping[str, tuple[Result, ...]],
    facts: Facts,
    on: date,
    only: Sequence[str] = (),
    history: History | None = None,
) -> Dashboard:
    """The dashboard of `metrics` (only those of `only`, when given); computed KPIs and the
    risk profile go back over `history` when given. A chosen subset shows no risk profile:
    it is for pages read by those who may not see the risk register (the staff handbook)."""
    computed = computed_values(facts)
    chosen = [m for m in metrics if not only or m.id in only]
    tiles = tuple(_tile(m, results.get(m.id, ()), computed, on, history) for m in chosen)
    by_id = {tile.metric.id: tile for tile in tiles}
    objectives = tuple(
        ObjectiveProgress(
            need.id,
            need.title,
            need.text("owner"),
            tuple(by_id[m.id] for m in chosen if need.id in m.objectives),
        )
        for need in facts.graph.of_type(OBJECTIVE)
        if any(need.id in m.objectives for m in chosen)
    )
    bands = tuple(name for name, _ in RISK_BANDS)
    if only:
        return Dashboard(on, tiles, objectives, (), "", bands)
    columns = _risk_history(facts.graph, history, on)
    return Dashboard(on, tiles, objectives, columns, _profile_chart(columns, bands), bands)
