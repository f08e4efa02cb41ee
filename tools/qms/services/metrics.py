"""`qms metrics`: each KPI's current value, state and trend, at HEAD or at a past commit."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from qms.adapters.files import write_atomic
from qms.adapters.git import Repository, open_repository
from qms.config import QmsConfig, load_config
from qms.errors import QmsError
from qms.model.findings import Finding, FindingCode
from qms.model.metric_sources import FORMAT, Facts, approval_days, computed_values
from qms.model.metrics import MANUAL, Metric, Result, check_results, metrics_of, missing_results
from qms.model.metrics import trend as trend_of
from qms.model.reviews import due_reviews
from qms.model.vocabulary import METRIC
from qms.services.handbook import display_path
from qms.services.metric_results import RESULTS_FOLDER, load_results
from qms.services.traceability import load_graph
from qms.services.verify import verify_selected

# Computed values per commit, in this clone's git folder (not part of any commit).
CACHE = Path("qms") / "metrics"


@dataclass(frozen=True)
class MetricRow:
    """One KPI: its latest value and period, state, trend, history and missing periods."""

    metric: Metric
    value: float | None
    period: str
    state: str
    trend: str
    history: tuple[Result, ...] = ()
    missing: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            **self.metric.as_dict(),
            "value": self.value,
            "period": self.period,
            "state": self.state,
            "trend": self.trend,
            "history": [r.as_dict() for r in self.history],
            "missing": list(self.missing),
        }


@dataclass(frozen=True)
class MetricsReport:
    """Every KPI at one commit, and what is wrong with the definitions and results."""

    commit: str
    on: date
    rows: tuple[MetricRow, ...]
    findings: tuple[Finding, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "commit": self.commit,
            "date": self.on.isoformat(),
            "metrics": [row.as_dict() for row in self.rows],
            "findings": [f.as_dict() for f in self.findings],
        }


def _facts(config: QmsConfig, on: date, now: datetime) -> tuple[Facts, tuple[Finding, ...]]:
    """What the product knows about the tree of `config.root`."""
    run = load_graph(config)
    handbook, verification = verify_selected(config, (), now)
    statuses = tuple(str(row.status.status) for row, _ in verification.rows(config, on))
    roles: dict[str, list[int]] = {}
    for trained in verification.training.values():
        for role in trained.roles:
            counts = roles.setdefault(role.role, [0, 0])
            counts[0] += role.done
            counts[1] += role.affected
    signatures = [
        [
            (str(v.record.statement.meaning), v.record.statement.signed_at)
            for v in verdict.signatures
            if v.record.statement is not None
        ]
        for verdict in verification.verdicts
    ]
    facts = Facts(
        graph=run.graph,
        threshold=config.risk_acceptance_threshold,
        statuses=statuses,
        overdue_reviews=len(due_reviews(handbook.documents, on, 0).overdue),
        training=tuple((role, done, affected) for role, (done, affected) in sorted(roles.items())),
        approval_days=approval_days(signatures),
    )
    return facts, run.findings


def _cached(repo: Repository | None, commit: str) -> dict[str, float | None] | None:
    if repo is None or not commit:
        return None
    try:
        kept = json.loads((repo.git_dir / CACHE / f"{commit}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("format") != FORMAT:
        return None  # another format: recomputed, never trusted
    values = kept.get("values")
    return values if isinstance(values, dict) else None


def _keep(repo: Repository | None, commit: str, values: dict[str, float | None]) -> None:
    if repo is None or not commit:
        return
    data = {"format": FORMAT, "commit": commit, "values": values}
    write_atomic(repo.git_dir / CACHE / f"{commit}.json", json.dumps(data, sort_keys=True).encode())


def _row(
    metric: Metric, results: tuple[Result, ...], computed: float | None, on: date
) -> MetricRow:
    if metric.source != MANUAL:
        return MetricRow(metric, computed, "", metric.state(computed), "")
    last = results[-1] if results else None
    value = last.value if last else None
    return MetricRow(
        metric,
        value,
        last.period if last else "",
        metric.state(value),
        trend_of(metric, [r.value for r in results]),
        results,
        tuple(missing_results(metric, results, on)),
    )


def _report_here(
    config: QmsConfig, commit: str, on: date, now: datetime, cache: Repository | None
) -> MetricsReport:
    """The report of the tree at `config.root`; computed values kept in `cache`'s git folder."""
    repo = open_repository(config.root)
    clean = repo is not None and not repo.is_dirty()
    computed = _cached(cache, commit) if clean else None
    facts, read = _facts(config, on, now)
    if computed is None:
        computed = computed_values(facts)
        if clean:
            _keep(cache, commit, computed)
    metrics, defined = metrics_of(facts.graph)
    known = {m.id: m for m in metrics}
    files, problems = load_results(config.docs_path / RESULTS_FOLDER, config.root)
    ill = {n.id for n in facts.graph.of_type(METRIC) if n.id not in known}
    results, mismatches = check_results(files, known, ill)
    rows = tuple(_row(m, results.get(m.id, ()), computed.get(m.source), on) for m in metrics)
    folder = config.docs_path / RESULTS_FOLDER
    missing = tuple(
        Finding(
            display_path(config.root, folder / f"{row.metric.id.lower()}.yaml"), None,
            f"{row.metric.id}: no result for {period} ({row.metric.frequency})",
            FindingCode.METRIC_MISSING,
        )
        for row in rows for period in row.missing
    )  # fmt: skip
    findings = (*read, *defined, *problems, *mismatches, *missing)
    return MetricsReport(commit, on, rows, findings)


def metrics_report(config: QmsConfig, on: date, now: datetime, at: str = "") -> MetricsReport:
    """Every KPI at HEAD (the working tree), or at the commit or release tag `at`."""
    repo = open_repository(config.root)
    if not at:
        return _report_here(config, (repo.head() or "") if repo else "", on, now, repo)
    commit = repo.resolve(at) if repo else None
    if repo is None or commit is None:
        raise QmsError(
            f"{at!r} names no commit of this repository",
            "give a release tag, a branch or a commit id ('git log --oneline' lists them)",
        )
    day = datetime.fromtimestamp(repo.commit_time(commit)).date()
    with tempfile.TemporaryDirectory(prefix="qms-metrics-") as scratch:
        repo.clone_at(commit, Path(scratch) / "at")
        past = load_config(Path(scratch) / "at")
        return _report_here(past, commit, day, now, repo)
