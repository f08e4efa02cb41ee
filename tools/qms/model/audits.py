"""Audits, findings, CAPAs and actions as the traceability graph holds them; their rules and the
audit programme's coverage."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from qms.model.change_requests import affects_problems
from qms.model.document import Version
from qms.model.findings import Finding, FindingCode
from qms.model.traceability import Graph, Need
from qms.model.vocabulary import (
    ACTION,
    ACTION_OF,
    ADDRESSES,
    AUDIT,
    CAPA,
    CHANGE,
    CONCERNS,
    COVERS,
    FINDING,
    RAISED_IN,
    RequirementKind,
)

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# An audit programme looks at three years: every clause and theme is audited within them.
CYCLE_YEARS = 3


def day_of(text: str) -> date | None:
    """A YYYY-MM-DD field as a date; None when empty or not a real day."""
    if not _DAY.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def changed_versions(text: str) -> tuple[tuple[str, str], ...]:
    """A CAPA's `changes` field ('SOP-X-001 2.1, POL-Y-002 1.0') as (id, version text) pairs."""
    pairs = []
    for item in (part.strip() for part in text.split(",")):
        if item:
            words = item.split()
            pairs.append((words[0], words[1] if len(words) > 1 else ""))
    return tuple(pairs)


@dataclass(frozen=True)
class Action:
    """One dated action of a CAPA."""

    id: str
    title: str
    due: date | None
    done: date | None


@dataclass(frozen=True)
class CapaItem:
    """A CAPA as authored: what it addresses, its actions and its effectiveness check."""

    need: Need
    actions: tuple[Action, ...]
    check_due: date | None

    @property
    def id(self) -> str:
        """The CAPA id."""
        return self.need.id

    @property
    def gxp(self) -> bool:
        """Whether QA closes and verifies it."""
        return self.need.text("gxp") == "yes"


def capa_items(graph: Graph) -> list[CapaItem]:
    """Every CAPA of the graph with its actions, by id."""
    return [
        CapaItem(
            capa,
            tuple(
                Action(a.id, a.title, day_of(a.text("due")), day_of(a.text("done")))
                for a in graph.linked_to(capa.id, ACTION_OF)
                if a.type == ACTION
            ),
            day_of(capa.text("check_due")),
        )
        for capa in graph.of_type(CAPA)
    ]


def _date_problems(need: Need, names: Iterable[str]) -> list[str]:
    return [
        f"{name} '{need.text(name)}' is not a day written YYYY-MM-DD"
        for name in names
        if need.text(name) and day_of(need.text(name)) is None
    ]


def _change_problems(need: Need, documents: Mapping[str, Version]) -> list[str]:
    found = []
    for document_id, version_text in changed_versions(need.text("changes")):
        current = documents.get(document_id)
        if current is None:
            found.append(f"changes names {document_id}, which is no document of this handbook")
            continue
        try:
            version = Version.parse(version_text)
        except ValueError:
            found.append(
                f"changes names {document_id} without a version: write '{document_id} 1.2'"
            )
            continue
        if (version.major, version.minor) > (current.major, current.minor):
            found.append(
                f"changes names {document_id} {version}, but its version is {current}; "
                "name the version that carries the change"
            )
    return found


def _problems(graph: Graph, need: Need, documents: Mapping[str, Version]) -> list[str]:
    """What one audit, finding, CAPA or action lacks beyond its required fields."""
    found: list[str] = []
    if need.type == AUDIT:
        found += _date_problems(need, ("audit_date",))
    elif need.type == FINDING:
        if not need.outgoing(RAISED_IN):
            found.append("a finding names the audit it was raised in (':raised_in: AUD-...')")
        if not need.outgoing(CONCERNS):
            found.append("a finding names the clause, control or requirement it concerns")
    elif need.type == CAPA:
        found += _date_problems(need, ("check_due",))
        if need.text("origin") == "finding" and not need.outgoing(ADDRESSES):
            found.append("a CAPA raised from a finding names it (':addresses: FND-...')")
        if not graph.linked_to(need.id, ACTION_OF):
            found.append(f"a CAPA has dated actions: add an action with ':action_of: {need.id}'")
        found += _change_problems(need, documents)
    elif need.type == CHANGE:
        found += affects_problems(need, documents)
    elif need.type == ACTION:
        found += _date_problems(need, ("due", "done"))
        if len(need.outgoing(ACTION_OF)) != 1:
            found.append("an action belongs to exactly one CAPA (':action_of: CAPA-...')")
    return found


def audit_findings(
    graph: Graph,
    documents: Mapping[str, Version],
    locate: Mapping[str, tuple[str, int | None]],
) -> list[Finding]:
    """The audit, CAPA and change-request rules sphinx-needs cannot say, each located at
    its need.

    `documents` maps each controlled document's id to its current version.
    """
    findings = []
    for need in graph.needs.values():
        if need.type not in (AUDIT, FINDING, CAPA, ACTION, CHANGE):
            continue
        path, line = locate.get(need.id, (need.docname, need.lineno))
        code = FindingCode.CHANGE_REFERENCE if need.type == CHANGE else FindingCode.AUDIT
        for problem in _problems(graph, need, documents):
            findings.append(Finding(path, line, f"{need.id}: {problem}", code))
    return sorted(findings, key=lambda f: f.sort_key)


@dataclass(frozen=True)
class CoverageRow:
    """One clause or Annex A theme, and the audits of each year of the cycle that covered it."""

    key: str
    title: str
    by_year: tuple[tuple[int, tuple[str, ...]], ...]

    @property
    def covered(self) -> bool:
        """Whether any audit of the cycle covered it."""
        return any(audits for _, audits in self.by_year)


_CLAUSES = {"4": "Context of the organisation", "5": "Leadership", "6": "Planning",
            "7": "Support", "8": "Operation", "9": "Performance evaluation",
            "10": "Improvement"}  # fmt: skip
_THEMES = {"5": "Organisational controls", "6": "People controls",
           "7": "Physical controls", "8": "Technological controls"}  # fmt: skip


def _area(requirement: Need) -> tuple[str, str] | None:
    """The clause ('9') or Annex A theme ('A.5') a requirement falls in, with its title."""
    ref = requirement.text("ref")
    kind = requirement.text("kind")
    if kind == RequirementKind.ANNEX_A:
        theme = ref.removeprefix("A.").split(".")[0]
        return (f"A.{theme}", _THEMES.get(theme, f"Annex A theme {theme}"))
    if kind == RequirementKind.MANAGEMENT and ref:
        clause = ref.split(".")[0]
        return (clause, _CLAUSES.get(clause, f"Clause {clause}"))
    return None


def _key_order(key: str) -> tuple[int, int]:
    """Clauses by number, then Annex A themes by number."""
    theme = key.removeprefix("A.")
    number = int(theme) if theme.isdigit() else 0
    return (1 if theme != key else 0, number)


def programme_cycle(graph: Graph, first_year: int | None = None) -> tuple[int, ...]:
    """The three years the programme is judged over: from `first_year` (the cycle the audit
    programme plans), else the three ending with the latest audit's year."""
    if first_year is not None:
        return tuple(range(first_year, first_year + CYCLE_YEARS))
    years = [d.year for a in graph.of_type(AUDIT) if (d := day_of(a.text("audit_date")))]
    end = max(years, default=None)
    return tuple(range(end - CYCLE_YEARS + 1, end + 1)) if end is not None else ()


def audit_coverage(graph: Graph, years: tuple[int, ...]) -> list[CoverageRow]:
    """Each clause and Annex A theme of the catalogues, with the audits per year covering it."""
    areas: dict[str, str] = {}
    members: dict[str, set[str]] = {}
    for requirement in graph.requirements():
        area = _area(requirement)
        if area is not None:
            areas.setdefault(area[0], area[1])
            members.setdefault(area[0], set()).add(requirement.id)
    rows = []
    for key in sorted(areas, key=_key_order):
        by_year = []
        for year in years:
            audits = sorted(
                a.id
                for a in graph.of_type(AUDIT)
                if (d := day_of(a.text("audit_date"))) is not None
                and d.year == year
                and members[key] & set(a.outgoing(COVERS))
            )
            by_year.append((year, tuple(audits)))
        rows.append(CoverageRow(key, areas[key], tuple(by_year)))
    return rows
