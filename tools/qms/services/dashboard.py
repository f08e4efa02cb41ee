"""The ISMS dashboard's content: a tile and a trend chart per KPI, objective progress and
the risk profile, from the metrics, their results and what a build verified."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from qms.adapters.charts import STATE_COLOURS, TARGET, Threshold, bar_chart, trend_chart
from qms.model.document import Document
from qms.model.metric_sources import Facts, approval_days, computed_values
from qms.model.metrics import GREEN, MANUAL, Metric, Result, missing_results, trend
from qms.model.reviews import due_reviews
from qms.model.traceability import Graph, risk_rows
from qms.model.vocabulary import OBJECTIVE
from qms.services.site_state import PageState

# Risk bands by score (likelihood times impact, 1 to 25), as the heat maps colour them.
BANDS = (("low", 1, 4), ("medium", 5, 9), ("high", 10, 14), ("very high", 15, 25))


@dataclass(frozen=True)
class Point:
    """One value on a chart, with its state and the owner's comment."""

    period: str
    value: float
    state: str
    comment: str = ""


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
        values = "; ".join(f"{p.period}: {self.number(p.value)} ({p.state})" for p in self.points)
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
class Dashboard:
    """Everything `{qms-dashboard}` shows."""

    on: date
    tiles: tuple[Tile, ...]
    objectives: tuple[ObjectiveProgress, ...]
    # (band, inherent count, residual count) and its chart.
    risk_profile: tuple[tuple[str, int, int], ...]
    risk_chart: str

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
    return Facts(
        graph=graph,
        threshold=threshold,
        statuses=tuple(str(page.row.status.status) for page in states),
        overdue_reviews=len(due_reviews(documents, on, 0).overdue),
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
        f"{metric.id} {metric.title}", [p.period for p in points], [p.value for p in points],
        [p.state for p in points], lines, metric.unit, salt=metric.id,
    )  # fmt: skip
    return _data_uri(svg)


def _tile(
    metric: Metric, results: Sequence[Result], computed: Mapping[str, float | None], on: date
) -> Tile:
    if metric.source != MANUAL:
        value = computed.get(metric.source)
        return Tile(metric, value, metric.state(value), "", "")
    points = tuple(Point(r.period, r.value, metric.state(r.value), r.comment) for r in results)
    last = results[-1] if results else None
    value = last.value if last else None
    return Tile(
        metric, value, metric.state(value), trend(metric, [r.value for r in results]),
        last.period if last else "", points, tuple(missing_results(metric, results, on)),
        _chart(metric, points),
    )  # fmt: skip


def _risk_profile(graph: Graph) -> tuple[tuple[str, int, int], ...]:
    rows = risk_rows(graph)

    def count(low: int, high: int, residual: bool) -> int:
        return sum(1 for r in rows if low <= (r.residual if residual else r.inherent) <= high)

    return tuple((name, count(lo, hi, False), count(lo, hi, True)) for name, lo, hi in BANDS)


def dashboard(
    metrics: Sequence[Metric],
    results: Mapping[str, tuple[Result, ...]],
    facts: Facts,
    on: date,
    only: Sequence[str] = (),
) -> Dashboard:
    """The dashboard of `metrics` (only those of `only`, when given)."""
    computed = computed_values(facts)
    chosen = [m for m in metrics if not only or m.id in only]
    tiles = tuple(_tile(m, results.get(m.id, ()), computed, on) for m in chosen)
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
    profile = _risk_profile(facts.graph)
    chart = ""
    if any(inherent or residual for _, inherent, residual in profile):
        chart = _data_uri(
            bar_chart(
                "Risks per band, before and after treatment",
                [band for band, _, _ in profile],
                [
                    ("inherent", [i for _, i, _ in profile], STATE_COLOURS["amber"]),
                    ("residual", [r for _, _, r in profile], "#1f4e79"),
                ],
                salt="risk-profile",
            )
        )
    return Dashboard(on, tiles, objectives, profile, chart)
