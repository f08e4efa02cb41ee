"""Requirement catalogues: frameworks as data files, one requirement per entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qms.model.findings import Finding, FindingCode
from qms.model.located import load_checked
from qms.model.vocabulary import ID_PATTERN, RequirementKind

# The shape of a catalogue file is qms/schemas/catalogue.schema.json.
SCHEMA = "catalogue"
REQUIREMENT_ID = ID_PATTERN
KINDS = tuple(RequirementKind)


@dataclass(frozen=True)
class Requirement:
    """One requirement of a framework, summarised in the organisation's own words."""

    id: str
    ref: str
    title: str
    summary: str
    maps_to: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Catalogue:
    """A framework: its name, kind and requirements, as read from one data file."""

    key: str
    framework: str
    kind: str
    description: str
    requirements: tuple[Requirement, ...]
    path: str


def parse_catalogue(path: str, stem: str, text: str) -> tuple[Catalogue | None, list[Finding]]:
    """Read a catalogue file; every problem is a finding at its line."""
    findings: list[Finding] = []

    def fail(line: int, message: str) -> None:
        findings.append(Finding(path, line, message, FindingCode.CATALOGUE))

    checked = load_checked(text, SCHEMA, fail, "a catalogue is a mapping")
    if checked is None:
        return None, findings
    located, data, found = checked.located, checked.data, checked.problems
    key = data.get("key")
    if key != stem:
        fail(1, f"'key' must equal the file name without .yaml ({stem!r}), found {key!r}")
    kind = data.get("kind", "regulatory")
    if kind not in KINDS:
        fail(1, f"'kind' has {kind!r}; allowed: {', '.join(KINDS)}")
    reported: set[tuple[str | int, ...]] = set()
    for problem in found:
        entry = problem.path[:2]  # one finding per requirement, as each is fixed whole
        if entry not in reported:
            reported.add(entry)
            # A missing field is reported where its entry (or the file) starts.
            where = problem.path[:-1] if problem.keyword == "required" else problem.path
            fail(located.line(where) if where else 1, problem.message)
    if findings:
        return None, findings
    return (
        Catalogue(
            key=stem,
            framework=str(data.get("framework") or stem),
            kind=str(kind),
            description=str(data.get("description") or ""),
            requirements=tuple(
                _requirement(raw, located.line(("requirements", index)))
                for index, raw in enumerate(data["requirements"])
            ),
            path=path,
        ),
        findings,
    )


def _requirement(raw: dict[str, Any], line: int) -> Requirement:
    """A requirement from an entry that met the schema."""
    req_id = raw["id"]
    return Requirement(
        id=req_id,
        ref=str(raw.get("ref") or req_id),
        title=raw["title"].strip(),
        summary=str(raw.get("summary") or "").strip(),
        maps_to=tuple(raw.get("maps_to") or ()),
        line=line,
    )
