"""`qms metrics`: each KPI's current value, state and trend, at HEAD or at a past commit."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from qms.adapters.files import write_atomic
from qms.adapters.git import Repository, open_repository
from qms.config import QmsConfig, load_config
from qms.errors import QmsError
from qms.model.document import Document
from qms.model.findings import Finding, FindingCode
from qms.model.metric_sources import (
    FORMAT,
    GRAPH_SOURCES,
    Facts,
    approval_days,
    computed_values,
)
from qms.model.metrics import (
    MANUAL,
    Metric,
    Result,
    check_results,
    metric_from_dict,
    metrics_of,
    missing_results,
)
from qms.model.metrics import trend as trend_of
from qms.model.reviews import due_reviews
from qms.model.timeutil import from_epoch
from qms.model.traceability import Graph, risk_profile, risk_rows
from qms.model.vocabulary import METRIC
from qms.services.capa import CapaSigned, capa_counts, capa_log
from qms.services.handbook import display_path
from qms.services.metric_results import RESULTS_FOLDER, load_results
from qms.services.traceability import load_graph
from qms.services.verify import Verification, verify_selected

# Computed values per commit and day judged on, in this clone's git folder (not part of
# any commit): `<commit>-<YYYY-MM-DD>.json`.
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


def facts_of(
    config: QmsConfig,
    graph: Graph,
    documents: Sequence[Document],
    verification: Verification,
    on: date,
    capas: CapaSigned | None = None,
) -> Facts:
    """What the computed sources read: `graph`, and the derived state of `documents` as
    `verification` judged them, on `on` (`capas`: the CAPA signatures, when kept)."""
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
    # A retired document is reviewed no more (services/reviews.py).
    retired = {v.document.id for v in verification.verdicts if v.evidence.retired}
    in_use = [document for document in documents if document.id not in retired]
    return Facts(
        graph=graph,
        threshold=config.risk_acceptance_threshold,
        statuses=statuses,
        overdue_reviews=len(due_reviews(in_use, on, 0).overdue),
        training=tuple((role, done, affected) for role, (done, affected) in sorted(roles.items())),
        approval_days=approval_days(signatures),
        capas=capa_counts(capa_log(config, graph, on, capas)),
    )


def _facts(config: QmsConfig, on: date, now: datetime) -> tuple[Facts, tuple[Finding, ...]]:
    """What the product knows about the tree of `config.root`: Sphinx's read and a verify."""
    run = load_graph(config)
    handbook, verification = verify_selected(config, (), now)
    return facts_of(config, run.graph, handbook.documents, verification, on), run.findings


@dataclass(frozen=True)
class Known:
    """What a commit's handbook says about its KPIs on one day: kept per commit and day,
    read back on a hit. `profile` is the risk profile (`model/traceability.py`
    `risk_profile`); None for a commit that holds no readable handbook."""

    metrics: tuple[Metric, ...]
    ill_defined: tuple[str, ...]
    computed: Mapping[str, float | None]
    findings: tuple[Finding, ...]
    profile: Mapping[str, tuple[int, ...]] | None = None

    def as_dict(self, commit: str, on: date) -> dict[str, Any]:
        """The JSON the cache keeps."""
        return {
            "format": FORMAT,
            "commit": commit,
            "date": on.isoformat(),
            "metrics": [m.as_dict() for m in self.metrics],
            "ill_defined": list(self.ill_defined),
            "values": dict(self.computed),
            "findings": [f.as_dict() for f in self.findings],
            "risk_profile": None if self.profile is None else dict(self.profile),
        }


def cache_path(repo: Repository, commit: str, on: date, scope: str = "") -> Path:
    """Where the values of `commit` judged on `on` are kept; `scope` names another way of
    counting them (a history point, of the whole handbook or of one set)."""
    suffix = f"-{scope}" if scope else ""
    return repo.git_dir / CACHE / f"{commit}-{on.isoformat()}{suffix}.json"


def cached(repo: Repository | None, commit: str, on: date, scope: str = "") -> Known | None:
    """The kept values of `commit` on `on`; None when not kept, of another format or damaged."""
    if repo is None or not commit:
        return None
    try:
        kept = json.loads(cache_path(repo, commit, on, scope).read_text(encoding="utf-8"))
        if not isinstance(kept, dict) or kept.get("format") != FORMAT:
            return None  # another format: recomputed, never trusted
        profile = kept["risk_profile"]
        return Known(
            tuple(metric_from_dict(m) for m in kept["metrics"]),
            tuple(str(i) for i in kept["ill_defined"]),
            {str(k): None if v is None else float(v) for k, v in kept["values"].items()},
            tuple(
                Finding(str(f["path"]), f["line"], str(f["message"]), str(f["code"]))
                for f in kept["findings"]
            ),
            None
            if profile is None
            else {str(k): tuple(int(n) for n in v) for k, v in profile.items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # damaged: counted again


def keep(repo: Repository, commit: str, on: date, known: Known, scope: str = "") -> None:
    """Keep the values of `commit` on `on` (atomically: a reader never sees half a file)."""
    data = json.dumps(known.as_dict(commit, on), sort_keys=True).encode()
    write_atomic(cache_path(repo, commit, on, scope), data)


@dataclass(frozen=True)
class GraphPart:
    """What the KPIs take from a graph alone, whatever the day: counted once per graph."""

    metrics: tuple[Metric, ...]
    ill_defined: tuple[str, ...]
    findings: tuple[Finding, ...]
    profile: Mapping[str, tuple[int, ...]]
    values: Mapping[str, float | None]


def graph_part(graph: Graph, threshold: int) -> GraphPart:
    """The KPI definitions, the risk profile and the graph's own counts of `graph`."""
    metrics, defined = metrics_of(graph)
    ids = {m.id for m in metrics}
    ill = tuple(n.id for n in graph.of_type(METRIC) if n.id not in ids)
    values = computed_values(Facts(graph=graph, threshold=threshold))
    known = {name: values[name] for name in GRAPH_SOURCES}
    return GraphPart(metrics, ill, tuple(defined), risk_profile(risk_rows(graph)), known)


def known_of(
    facts: Facts, findings: Sequence[Finding] = (), part: GraphPart | None = None
) -> Known:
    """What `facts` say of the KPIs: their definitions, values and the risk profile;
    `part`: what `graph_part` found in the same graph and threshold."""
    part = part or graph_part(facts.graph, facts.threshold)
    values = computed_values(facts, part.values)
    return Known(part.metrics, part.ill_defined, values, (*findings, *part.findings), part.profile)


def known_here(config: QmsConfig, on: date, now: datetime) -> Known:
    """Sphinx's read of the needs and a verify: the slow part, done once per commit and day."""
    facts, read = _facts(config, on, now)
    return known_of(facts, read)


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
    # Only a tree that is its commit may be kept as that commit (new pages count too).
    clean = repo is not None and not repo.is_dirty() and not repo.has_untracked(config.docs_path)
    known = cached(cache, commit, on) if clean else None
    if known is None:
        known = known_here(config, on, now)
        if clean and cache is not None and commit:
            keep(cache, commit, on, known)
    metrics = {m.id: m for m in known.metrics}
    files, problems = load_results(config.docs_path / RESULTS_FOLDER, config.root)
    results, mismatches = check_results(files, metrics, known.ill_defined)
    computed = known.computed
    rows = tuple(_row(m, results.get(m.id, ()), computed.get(m.source), on) for m in known.metrics)
    folder = config.docs_path / RESULTS_FOLDER
    missing = tuple(
        Finding(
            display_path(config.root, folder / f"{row.metric.id.lower()}.yaml"), None,
            f"{row.metric.id}: no result for {period} ({row.metric.frequency})",
            FindingCode.METRIC_MISSING,
        )
        for row in rows for period in row.missing
    )  # fmt: skip
    findings = (*known.findings, *problems, *mismatches, *missing)
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
    # The commit's own day in UTC: the same on every machine.
    day = from_epoch(repo.commit_time(commit)).date()
    with tempfile.TemporaryDirectory(prefix="qms-metrics-") as scratch:
        repo.clone_at(commit, Path(scratch) / "at")
        past = load_config(Path(scratch) / "at")
        return _report_here(past, commit, day, now, repo)
