"""Traceable items read from Markdown sources and catalogues, without a Sphinx build.

The site reads needs through sphinx-needs; commands that judge change impact (`qms
impact`, `qms approve`, `qms diff`) read the same MyST directives here, from the bytes
of a source as a commit or the working tree holds it; a release comparison reads a
published source through `model/need_blocks.py`, on top of this parser. Only the need directives of
`model/vocabulary.py` count; fenced code (a fence without a directive) is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from qms.model.catalogue import Catalogue
from qms.model.vocabulary import LINK_NAMES, NEED_TYPES, REQUIREMENT

_NEED_NAMES = frozenset(t.name for t in NEED_TYPES)
# Colon fences too: the site enables MyST's colon_fence (extensions/qms_sphinx/settings.py).
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,}|:{3,})\s*(?P<info>.*)$")
_DIRECTIVE = re.compile(r"^\{(?P<name>[A-Za-z0-9_:-]+)\}\s*(?P<title>.*)$")
_OPTION = re.compile(r"^:(?P<key>[A-Za-z0-9_-]+):\s*(?P<value>.*)$")


@dataclass(frozen=True)
class Item:
    """One traceable item: its id, type, title, body and fields (links among them).

    `fields` are (name, value) pairs in source order, without the id; link fields hold
    their targets as written ("CTL-5-1, CTL-5-2").
    """

    id: str
    type: str
    title: str
    body: str
    fields: tuple[tuple[str, str], ...]
    path: str = ""
    line: int = 0

    def field(self, name: str) -> str:
        """A field's value as written ("" when absent)."""
        return next((value for key, value in self.fields if key == name), "")

    def targets(self, link: str) -> tuple[str, ...]:
        """The item ids a link field names, in order."""
        return tuple(t for t in (p.strip() for p in self.field(link).split(",")) if t)

    @property
    def links(self) -> tuple[tuple[str, str], ...]:
        """Every (link type, target id) of the item."""
        return tuple((link, t) for link in LINK_NAMES for t in self.targets(link))


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _block(lines: list[str], start: int, fence: str) -> int:
    """The index of the line that closes the fence opened at `start` (len(lines) if none)."""
    for index in range(start + 1, len(lines)):
        if _closes(lines[index], fence):
            return index
    return len(lines)


def _need(name: str, title: str, content: list[str], path: str, line: int) -> Item | None:
    fields: list[tuple[str, str]] = []
    index = 0
    while index < len(content):
        match = _OPTION.match(content[index].strip())
        if match is None:
            break
        fields.append((match["key"], match["value"].strip()))
        index += 1
    need_id = next((value for key, value in fields if key == "id"), "")
    if not need_id:
        return None
    body = "\n".join(content[index:])
    rest = tuple((key, value) for key, value in fields if key != "id")
    return Item(need_id, name, title.strip(), body, rest, path, line)


def parse_items(path: str, text: str) -> tuple[Item, ...]:
    """Every need of a Markdown source, in source order; `line` is its directive's line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found: list[Item] = []
    # Fences of the other directives open around the line: needs nested in them count.
    open_fences: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if open_fences and _closes(line, open_fences[-1]):
            open_fences.pop()
            index += 1
            continue
        opened = _FENCE.match(line)
        if opened is None:
            index += 1
            continue
        directive = _DIRECTIVE.match(opened["info"].strip())
        if directive is None:
            index = _block(lines, index, opened["fence"]) + 1  # fenced code: no needs in it
            continue
        if directive["name"] not in _NEED_NAMES:
            open_fences.append(opened["fence"])
            index += 1
            continue
        end = _block(lines, index, opened["fence"])
        item = _need(directive["name"], directive["title"], lines[index + 1 : end], path, index + 1)
        if item is not None:
            found.append(item)
        index = end + 1
    return tuple(found)


def catalogue_items(catalogue: Catalogue) -> Iterator[Item]:
    """The requirements of a catalogue as items: the summary is the body."""
    for requirement in catalogue.requirements:
        yield Item(
            requirement.id,
            REQUIREMENT,
            requirement.title,
            requirement.summary,
            (
                ("framework", catalogue.framework),
                ("kind", catalogue.kind),
                ("ref", requirement.ref),
                ("maps_to", ", ".join(requirement.maps_to)),
            ),
            catalogue.path,
            requirement.line,
        )


def by_id(items: Iterable[Item]) -> dict[str, Item]:
    """Items by id; the first of a duplicated id wins (the build reports duplicates)."""
    found: dict[str, Item] = {}
    for item in items:
        found.setdefault(item.id, item)
    return found
