"""The traceability graph and what auditors read from it: SoA, risks, coverage, gaps."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from qms.model.findings import Finding, FindingCode
from qms.model.vocabulary import (
    CONTROL,
    DEMONSTRATES,
    FIELD_NAMES,
    IMPLEMENTS,
    LINK_NAMES,
    MAPS_TO,
    MITIGATES,
    REQUIREMENT,
    RISK,
    RequirementKind,
)

# The answers of a Statement of Applicability row, in the order the views count them.
DECISIONS = ("applicable", "excluded", "no decision", "conflicting decisions")


class NeedSource(Protocol):
    """What a need looks like to us: sphinx-needs' NeedItem and needs.json entries alike."""

    def get(self, key: str, default: Any = None) -> Any:
        """A field's value."""


@dataclass(frozen=True)
class Need:
    """One traceable item, as sphinx-needs resolved it (or as needs.json holds it)."""

    id: str
    type: str
    title: str
    docname: str
    lineno: int | None
    fields: tuple[tuple[str, Any], ...] = ()
    links: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def get(self, name: str) -> Any:
        """A field's value, or None when unset."""
        return next((value for key, value in self.fields if key == name), None)

    def text(self, name: str) -> str:
        """A field as text ("" when unset)."""
        value = self.get(name)
        return "" if value is None else str(value)

    def score(self, name: str) -> int | None:
        """A field as a whole number, or None when unset or not a number."""
        value = self.get(name)
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        return int(value) if isinstance(value, str) and value.strip().isdigit() else None

    def outgoing(self, link: str) -> tuple[str, ...]:
        """Ids this need links to with `link`."""
        return next((ids for key, ids in self.links if key == link), ())

    @classmethod
    def from_mapping(cls, data: NeedSource, field_names: Iterable[str] = FIELD_NAMES) -> Need:
        """Build from a sphinx-needs need item or a needs.json entry."""
        # Each field is read once: a sphinx-needs item looks a key up in several stores.
        values = ((name, data.get(name)) for name in field_names)
        fields = tuple((name, value) for name, value in values if value not in (None, ""))
        links = tuple((name, tuple(str(i) for i in data.get(name) or ())) for name in LINK_NAMES)
        lineno = data.get("lineno")
        return cls(
            id=str(data.get("id")),
            type=str(data.get("type")),
            title=str(data.get("title") or ""),
            docname=str(data.get("docname") or ""),
            lineno=lineno if isinstance(lineno, int) else None,
            fields=fields,
            links=links,
        )


@dataclass(frozen=True)
class Graph:
    """All needs with their links in both directions."""

    needs: Mapping[str, Need]
    incoming: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, needs: Iterable[Need]) -> Graph:
        """Index needs and compute the links pointing at each."""
        by_id = {need.id: need for need in needs}
        incoming: dict[tuple[str, str], list[str]] = {}
        for need in by_id.values():
            for link in LINK_NAMES:
                for target in need.outgoing(link):
                    incoming.setdefault((target, link), []).append(need.id)
        return cls(by_id, {key: tuple(sorted(ids)) for key, ids in incoming.items()})

    def of_type(self, need_type: str) -> list[Need]:
        """Needs of one type, by id."""
        return sorted((n for n in self.needs.values() if n.type == need_type), key=_natural)

    def linked_to(self, need_id: str, link: str) -> list[Need]:
        """The needs that point at `need_id` with `link`."""
        return [self.needs[i] for i in self.incoming.get((need_id, link), ()) if i in self.needs]

    def requirements(self, catalogue: str = "", kind: str = "") -> list[Need]:
        """Requirements of one catalogue (or of one kind), in catalogue order."""
        found = [
            n
            for n in self.needs.values()
            if n.type == REQUIREMENT
            and (not catalogue or n.text("catalogue") == catalogue)
            and (not kind or n.text("kind") == kind)
        ]
        return sorted(found, key=lambda n: (n.text("catalogue"), n.score("position") or 0))

    def catalogues(self) -> list[tuple[str, str, str]]:
        """(key, framework name, kind) of every catalogue present, Annex A first."""
        seen = {
            (n.text("catalogue"), n.text("framework"), n.text("kind"))
            for n in self.needs.values()
            if n.type == REQUIREMENT
        }
        order = {str(kind): rank for rank, kind in enumerate(RequirementKind)}
        return sorted(seen, key=lambda item: (order.get(item[2], 3), item[1]))


def _natural(need: Need) -> tuple[Any, ...]:
    # "CTL-5-10" after "CTL-5-9": compare digit runs as numbers.
    parts: list[Any] = []
    for chunk in need.id.replace("-", " ").split():
        parts.append((0, int(chunk), "") if chunk.isdigit() else (1, 0, chunk))
    return tuple(parts)


@dataclass(frozen=True)
class SoaRow:
    """One Annex A control in the Statement of Applicability."""

    requirement: Need
    decisions: tuple[Need, ...]
    procedures: tuple[Need, ...]
    evidence: tuple[Need, ...]
    risks: tuple[Need, ...]

    @property
    def control(self) -> Need | None:
        """The organisation control carrying the decision, when there is exactly one."""
        return self.decisions[0] if len(self.decisions) == 1 else None

    @property
    def decision(self) -> str:
        """'applicable', 'excluded', 'no decision' or 'conflicting decisions'."""
        applicable, excluded, undecided, conflicting = DECISIONS
        if not self.decisions:
            return undecided
        if len(self.decisions) > 1:
            return conflicting
        return applicable if self.decisions[0].text("applicable") == "yes" else excluded

    def as_dict(self) -> dict[str, Any]:
        """The row as the exports write it."""
        control = self.control
        return {
            "annex_a": self.requirement.text("ref"),
            "title": self.requirement.title,
            "decision": self.decision,
            "justification": control.text("justification") if control else "",
            "status": control.text("implementation") if control else "",
            "controls": [n.id for n in self.decisions],
            "procedures": [n.id for n in self.procedures],
            "evidence": [n.id for n in self.evidence],
            "risks": [n.id for n in self.risks],
        }


def soa_rows(graph: Graph) -> list[SoaRow]:
    """One row per Annex A control, with its decision and what implements it."""
    rows = []
    for requirement in graph.requirements(kind=RequirementKind.ANNEX_A):
        controls = graph.linked_to(requirement.id, IMPLEMENTS)
        controls = [c for c in controls if c.type == CONTROL]
        procedures = {p.id: p for c in controls for p in graph.linked_to(c.id, IMPLEMENTS)}
        evidence = {e.id: e for c in controls for e in graph.linked_to(c.id, DEMONSTRATES)}
        risks = {
            graph.needs[r].id: graph.needs[r]
            for c in controls for r in c.outgoing(MITIGATES) if r in graph.needs
        }  # fmt: skip
        rows.append(
            SoaRow(
                requirement,
                tuple(controls),
                tuple(sorted(procedures.values(), key=_natural)),
                tuple(sorted(evidence.values(), key=_natural)),
                tuple(sorted(risks.values(), key=_natural)),
            )
        )
    return rows


# The three assessments of a risk, each a pair of (likelihood, impact) fields: before
# treatment, with the controls in place now, and after the treatment plan.
INHERENT = ("likelihood", "impact")
CURRENT = ("current_likelihood", "current_impact")
TARGET = ("residual_likelihood", "residual_impact")
STAGES = {"inherent": INHERENT, "current": CURRENT, "target": TARGET}


@dataclass(frozen=True)
class RiskRow:
    """One risk with its scores before treatment, now, and after the treatment plan."""

    risk: Need
    controls: tuple[Need, ...]

    @property
    def inherent(self) -> int:
        """Likelihood times impact before treatment."""
        return (self.risk.score("likelihood") or 0) * (self.risk.score("impact") or 0)

    @property
    def residual(self) -> int:
        """Likelihood times impact after treatment (the target residual)."""
        return (self.risk.score("residual_likelihood") or 0) * (
            self.risk.score("residual_impact") or 0
        )

    def scores(self, stage: str) -> tuple[int | None, int | None]:
        """(likelihood, impact) of `stage`; the current ones are the target's when unset."""
        likelihood, impact = (self.risk.score(name) for name in STAGES[stage])
        if stage == "current" and likelihood is None and impact is None:
            return self.scores("target")
        return likelihood, impact

    @property
    def has_current(self) -> bool:
        """Whether the risk carries a current residual of its own."""
        return any(self.risk.score(name) is not None for name in CURRENT)

    @property
    def current(self) -> int:
        """Likelihood times impact with the controls in place now."""
        likelihood, impact = self.scores("current")
        return (likelihood or 0) * (impact or 0)

    def as_dict(self) -> dict[str, Any]:
        """The row as the exports write it."""
        risk = self.risk
        return {
            "id": risk.id,
            "title": risk.title,
            "asset": risk.text("asset"),
            "threat": risk.text("threat"),
            "vulnerability": risk.text("vulnerability"),
            "likelihood": risk.score("likelihood"),
            "impact": risk.score("impact"),
            "inherent_score": self.inherent,
            "treatment": risk.text("treatment"),
            "current_likelihood": self.scores("current")[0],
            "current_impact": self.scores("current")[1],
            "current_score": self.current,
            "residual_likelihood": risk.score("residual_likelihood"),
            "residual_impact": risk.score("residual_impact"),
            "residual_score": self.residual,
            "owner": risk.text("risk_owner"),
            "controls": [c.id for c in self.controls],
            "acceptance": risk.text("acceptance"),
        }


def risk_rows(graph: Graph) -> list[RiskRow]:
    """Every risk, with the controls that mitigate it."""
    return [
        RiskRow(risk, tuple(c for c in graph.linked_to(risk.id, MITIGATES)))
        for risk in graph.of_type(RISK)
    ]


# Score bands (likelihood x impact, 1 to 25) by their lowest score, lowest first: the heat
# maps' colours and the dashboard's risk profile.
RISK_BANDS = (("low", 1), ("medium", 5), ("high", 10), ("critical", 16))
RISK_STAGES = ("inherent", "current", "target")


def risk_band(score: int) -> str:
    """The band a score (1 to 25) falls in."""
    return next(name for name, floor in reversed(RISK_BANDS) if score >= floor)


def risk_profile(rows: Iterable[RiskRow]) -> dict[str, tuple[int, ...]]:
    """Per stage (inherent, current, target), how many risks score in each band (in the
    order of RISK_BANDS); a risk without a score at a stage is not counted there."""
    listed = list(rows)
    scores = {
        "inherent": [r.inherent for r in listed],
        "current": [r.current for r in listed],
        "target": [r.residual for r in listed],
    }
    return {
        stage: tuple(
            sum(1 for s in scores[stage] if s >= 1 and risk_band(s) == name)
            for name, _ in RISK_BANDS
        )
        for stage in RISK_STAGES
    }


def heat_map(rows: Iterable[RiskRow], stage: str) -> dict[tuple[int, int], list[Need]]:
    """(likelihood, impact) -> risks in that cell, at `stage` (inherent, current, target)."""
    cells: dict[tuple[int, int], list[Need]] = {}
    for row in rows:
        likelihood, impact = row.scores(stage)
        if likelihood and impact:
            cells.setdefault((likelihood, impact), []).append(row.risk)
    return cells


@dataclass(frozen=True)
class Coverage:
    """How many of a framework's requirements the handbook covers, and the gaps."""

    catalogue: str
    covered: tuple[Need, ...]
    gaps: tuple[tuple[Need, str], ...]

    @property
    def total(self) -> int:
        """Requirements in the framework."""
        return len(self.covered) + len(self.gaps)

    @property
    def percent(self) -> float:
        """Share covered, 0 to 100 (100 for an empty framework)."""
        return 100.0 if not self.total else round(100.0 * len(self.covered) / self.total, 1)


def _annex_a_gap(row: SoaRow) -> str:
    """Why an Annex A control is not covered ("" when it is)."""
    if row.decision == "excluded":
        return ""  # a justified exclusion is a decision, not a gap
    if row.decision != "applicable":
        return row.decision
    if not row.procedures:
        return "applicable but no procedure implements it"
    return ""


def coverage(graph: Graph, catalogue: str) -> Coverage:
    """Coverage of one framework through the requirement → control → procedure chain.

    An Annex A control is covered when it has exactly one decision and, if applicable,
    an implementing procedure. Another framework's requirement is covered when at
    least one Annex A control it maps to is covered and applicable.
    """
    soa = {row.requirement.id: row for row in soa_rows(graph)}
    covered: list[Need] = []
    gaps: list[tuple[Need, str]] = []
    for requirement in graph.requirements(catalogue):
        if requirement.text("kind") == RequirementKind.ANNEX_A:
            gap = _annex_a_gap(soa[requirement.id])
        else:
            targets = [soa[t] for t in requirement.outgoing(MAPS_TO) if t in soa]
            if not targets:
                gap = "mapped to no Annex A control"
            elif any(t.decision == "applicable" and not _annex_a_gap(t) for t in targets):
                gap = ""
            else:
                gap = "no mapped Annex A control is implemented by a procedure"
        if gap:
            gaps.append((requirement, gap))
        else:
            covered.append(requirement)
    return Coverage(catalogue, tuple(covered), tuple(gaps))


def _residual_problems(row: RiskRow) -> list[str]:
    """Scores that rise along inherent -> current -> target."""
    if not row.has_current:
        if row.residual > row.inherent:
            return [
                f"residual score {row.residual} is higher than the inherent score {row.inherent}"
            ]
        return []
    if None in row.scores("current"):
        return ["current_likelihood and current_impact are given together, or neither"]
    found = []
    if row.current > row.inherent:
        found.append(
            f"current score {row.current} is higher than the inherent score {row.inherent}"
        )
    if row.residual > row.current:
        found.append(
            f"target residual score {row.residual} is higher than the current score {row.current}"
        )
    return found


def completeness_findings(
    graph: Graph,
    threshold: int,
    locate: Mapping[str, tuple[str, int | None]],
    accepted: Collection[str] = (),
) -> list[Finding]:
    """The rules that break the build, each located at the need that breaks it.

    `locate` maps need ids to (path, line); requirements generated from data files
    are located at their line in the data file. `accepted` are the ids of risks with a
    valid signed acceptance (model/risk_acceptance.py): the typed `acceptance` field is
    free text and counts for nothing.
    """
    findings: list[Finding] = []

    def report(need: Need, message: str, code: FindingCode) -> None:
        path, line = locate.get(need.id, (need.docname, need.lineno))
        findings.append(Finding(path, line, f"{need.id}: {message}", code))

    for soa_row in soa_rows(graph):
        ref = soa_row.requirement.text("ref") or soa_row.requirement.id
        if not soa_row.decisions:
            report(
                soa_row.requirement,
                f"Annex A {ref} has no applicability decision; add a control "
                "that implements it to the Statement of Applicability",
                FindingCode.SOA_MISSING,
            )
        for extra in soa_row.decisions[1:]:
            report(
                extra,
                f"Annex A {ref} already has a decision in {soa_row.decisions[0].id}; "
                "keep one control per Annex A control",
                FindingCode.SOA_DUPLICATE,
            )
    for control in graph.of_type(CONTROL):
        if control.text("applicable") == "yes" and not graph.linked_to(control.id, IMPLEMENTS):
            report(
                control,
                "applicable control has no implementing procedure; add a "
                f"procedure need with ':implements: {control.id}'",
                FindingCode.SOA_UNIMPLEMENTED,
            )
    for row in risk_rows(graph):
        for message in _residual_problems(row):
            report(row.risk, message, FindingCode.RISK_RESIDUAL)
        if row.inherent > threshold and not row.controls and row.risk.id not in accepted:
            report(
                row.risk,
                f"score {row.inherent} is above the acceptance threshold "
                f"{threshold} with neither a mitigating control nor a recorded acceptance",
                FindingCode.RISK_UNTREATED,
            )
    for requirement in graph.requirements(kind=RequirementKind.REGULATORY):
        if not requirement.outgoing(MAPS_TO):
            report(
                requirement,
                "regulatory requirement is mapped to no Annex A control; add "
                "maps_to in its catalogue file",
                FindingCode.REQUIREMENT_UNMAPPED,
            )
    return findings
