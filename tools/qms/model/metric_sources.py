"""Computed KPIs: what each computed metric source counts, from facts known at one commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from qms.model.traceability import Graph, risk_rows, soa_rows

# Bumped whenever what a source counts changes: cached values of another format are
# recomputed, never trusted. 3: kept per commit and day, with the risk profile. 4: no CAPA
# value for a handbook without CAPAs. 5: history points read from the commit's files.
FORMAT = 5


@dataclass(frozen=True)
class CapaCounts:
    """Open and overdue CAPAs (`services/capa.py` `capa_counts`)."""

    open: int
    overdue: int


@dataclass(frozen=True)
class Facts:
    """What the product knows at one commit, as the computed sources read it."""

    graph: Graph
    threshold: int
    statuses: tuple[str, ...] = ()  # the derived status of each document
    overdue_reviews: int = 0
    # (role, trained, affected), summed over the documents that role must read.
    training: tuple[tuple[str, int, int], ...] = ()
    # Days from a version's first signature to its final approval, per approved version.
    approval_days: tuple[float, ...] = ()
    # None while the handbook holds no CAPA: its metrics then have no value, not zero.
    capas: CapaCounts | None = None


def _percent(part: int, whole: int) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)


def controls_implemented(facts: Facts) -> float | None:
    """% of applicable Annex A controls whose implementation is 'implemented'."""
    rows = [r for r in soa_rows(facts.graph) if r.decision == "applicable" and r.control]
    done = sum(1 for r in rows if r.control and r.control.text("implementation") == "implemented")
    return _percent(done, len(rows))


def controls_evidenced(facts: Facts) -> float | None:
    """% of applicable Annex A controls with at least one evidence need linked."""
    rows = [r for r in soa_rows(facts.graph) if r.decision == "applicable"]
    return _percent(sum(1 for r in rows if r.evidence), len(rows))


def _risks_above(facts: Facts, residual: bool) -> float:
    rows = risk_rows(facts.graph)
    return float(sum(1 for r in rows if (r.residual if residual else r.inherent) > facts.threshold))


def training_completion(facts: Facts) -> float | None:
    """% of required trainings done, over every role."""
    return _percent(sum(d for _, d, _ in facts.training), sum(a for _, _, a in facts.training))


def training_by_role(facts: Facts) -> dict[str, float | None]:
    """% of required trainings done, per role."""
    return {role: _percent(done, affected) for role, done, affected in facts.training}


def _status_count(name: str) -> Callable[[Facts], float | None]:
    return lambda facts: float(sum(1 for s in facts.statuses if s == name))


def approval_days(versions: Iterable[Sequence[tuple[str, datetime]]]) -> tuple[float, ...]:
    """Per version's signatures (meaning, time): days from the first to the last approval;
    versions without an approval are left out."""
    found: list[float] = []
    for signatures in versions:
        approvals = [t for meaning, t in signatures if meaning == "approved"]
        if approvals:
            first = min(t for _, t in signatures)
            found.append(round((max(approvals) - first).total_seconds() / 86400, 1))
    return tuple(found)


SOURCES: Mapping[str, Callable[[Facts], float | None]] = {
    "controls-implemented": controls_implemented,
    "controls-evidenced": controls_evidenced,
    "reviews-overdue": lambda facts: float(facts.overdue_reviews),
    "documents-effective": _status_count("effective"),
    "documents-in-review": _status_count("in review"),
    "documents-draft": _status_count("draft"),
    "risks-above-threshold-inherent": lambda facts: _risks_above(facts, residual=False),
    "risks-above-threshold-residual": lambda facts: _risks_above(facts, residual=True),
    "training-completion": training_completion,
    "approval-days-median": lambda f: float(median(f.approval_days)) if f.approval_days else None,
    "capas-open": lambda facts: float(facts.capas.open) if facts.capas else None,
    "capas-overdue": lambda facts: float(facts.capas.overdue) if facts.capas else None,
}


# The sources that read the graph alone: the same for every day a graph is judged on.
GRAPH_SOURCES = frozenset(
    {
        "controls-implemented",
        "controls-evidenced",
        "risks-above-threshold-inherent",
        "risks-above-threshold-residual",
    }
)


def computed_values(
    facts: Facts, known: Mapping[str, float | None] | None = None
) -> dict[str, float | None]:
    """Every computed source's value (None where it has none, such as no CAPA register);
    `known`: values of `GRAPH_SOURCES` already counted on the same graph and threshold."""
    return {
        name: known[name] if known is not None and name in GRAPH_SOURCES else compute(facts)
        for name, compute in SOURCES.items()
    }
