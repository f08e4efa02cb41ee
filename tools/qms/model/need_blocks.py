"""The traceable items a document's Markdown source declares, read without Sphinx."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qms.model.traceability import Need
from qms.model.vocabulary import FIELD_NAMES, LINK_NAMES, NEED_TYPES

_TYPES = frozenset(t.name for t in NEED_TYPES)
_OPENING = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<type>[a-z][a-z0-9_-]*)\}[ \t]*(?P<title>.*)$")
_OPTION = re.compile(r"^:(?P<name>[A-Za-z_][\w-]*):[ \t]*(?P<value>.*)$")


@dataclass(frozen=True)
class NeedBlock:
    """One item as its source declares it: the need and its body, normalised."""

    need: Need
    # Lines stripped of trailing blanks, runs of blank lines joined: an edit of
    # whitespace alone is no change of the item.
    body: str


def _closes(line: str, fence: str) -> bool:
    text = line.strip()
    return len(text) >= len(fence) and set(text) == {fence[0]}


def _normalised(lines: list[str]) -> str:
    kept: list[str] = []
    for line in lines:
        text = " ".join(line.split())
        if text or (kept and kept[-1]):
            kept.append(text)
    return "\n".join(kept).strip()


def need_blocks(source: str, docname: str) -> list[NeedBlock]:
    """Every need directive of a type the vocabulary knows, in source order."""
    lines = source.replace("\r\n", "\n").split("\n")
    found: list[NeedBlock] = []
    index = 0
    while index < len(lines):
        match = _OPENING.match(lines[index].strip())
        if match is None or match["type"] not in _TYPES:
            index += 1
            continue
        fence, start = match["fence"], index
        index += 1
        options: dict[str, str] = {}
        while index < len(lines) and (option := _OPTION.match(lines[index].strip())):
            options[option["name"]] = option["value"].strip()
            index += 1
        body: list[str] = []
        while index < len(lines) and not _closes(lines[index], fence):
            body.append(lines[index])
            index += 1
        index += 1
        found.append(
            NeedBlock(
                _need(match["type"], match["title"], options, docname, start), _normalised(body)
            )
        )
    return found


def _need(kind: str, title: str, options: dict[str, str], docname: str, line: int) -> Need:
    fields = tuple((name, options[name]) for name in FIELD_NAMES if options.get(name))
    links = tuple(
        (name, tuple(i.strip() for i in options.get(name, "").split(",") if i.strip()))
        for name in LINK_NAMES
    )
    return Need(
        id=options.get("id", ""),
        type=kind,
        title=" ".join(title.split()),
        docname=docname,
        lineno=line + 1,
        fields=fields,
        links=links,
    )
