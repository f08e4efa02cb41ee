"""Requirement catalogues: frameworks as data files, one requirement per entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from qms.model.findings import Finding, FindingCode
from qms.model.parsing import compose_yaml, construct
from qms.model.vocabulary import ID_PATTERN, RequirementKind

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

    try:
        root = compose_yaml(text)
        data = None if root is None else construct(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        fail(mark.line + 1 if mark else 1, f"not valid YAML: {getattr(exc, 'problem', exc)}")
        return None, findings
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        fail(1, "a catalogue is a mapping with framework, key, description and requirements")
        return None, findings
    key = data.get("key")
    if key != stem:
        fail(1, f"'key' must equal the file name without .yaml ({stem!r}), found {key!r}")
    kind = data.get("kind", "regulatory")
    if kind not in KINDS:
        fail(1, f"'kind' has {kind!r}; allowed: {', '.join(KINDS)}")
    entries = data.get("requirements")
    if not isinstance(entries, list):
        fail(1, "'requirements' must be a list")
        return None, findings
    nodes = _entry_nodes(root)
    requirements: list[Requirement] = []
    for index, raw in enumerate(entries):
        line = nodes[index].start_mark.line + 1 if index < len(nodes) else 1
        requirement = _requirement(raw, line, fail)
        if requirement is not None:
            requirements.append(requirement)
    if findings:
        return None, findings
    return (
        Catalogue(
            key=stem,
            framework=str(data.get("framework") or stem),
            kind=str(kind),
            description=str(data.get("description") or ""),
            requirements=tuple(requirements),
            path=path,
        ),
        findings,
    )


def _entry_nodes(root: yaml.MappingNode) -> list[yaml.Node]:
    for key_node, value_node in root.value:
        if getattr(key_node, "value", None) == "requirements" and isinstance(
            value_node, yaml.SequenceNode
        ):
            return list(value_node.value)
    return []


def _requirement(raw: Any, line: int, fail: Any) -> Requirement | None:
    if not isinstance(raw, dict):
        fail(line, "a requirement is a mapping with id, ref, title, summary and maps_to")
        return None
    req_id = raw.get("id")
    if not isinstance(req_id, str) or not REQUIREMENT_ID.match(req_id):
        fail(line, f"requirement id {req_id!r} must be upper-case, dash-separated, without dots")
        return None
    maps_to = raw.get("maps_to") or []
    if not isinstance(maps_to, list) or not all(isinstance(m, str) for m in maps_to):
        fail(line, f"{req_id}: 'maps_to' must be a list of requirement ids")
        return None
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        fail(line, f"{req_id}: 'title' must be non-empty text")
        return None
    return Requirement(
        id=req_id,
        ref=str(raw.get("ref") or req_id),
        title=title.strip(),
        summary=str(raw.get("summary") or "").strip(),
        maps_to=tuple(maps_to),
        line=line,
    )
