"""The traceable items of a published source as a release comparison compares them."""

from __future__ import annotations

from dataclasses import dataclass

from qms.model.need_source import Item, parse_items
from qms.model.traceability import Need
from qms.model.vocabulary import FIELD_NAMES, LINK_NAMES


@dataclass(frozen=True)
class NeedBlock:
    """One item as its source declares it: the need and its body, normalised."""

    need: Need
    # Lines stripped of trailing blanks, runs of blank lines joined: an edit of
    # whitespace alone is no change of the item.
    body: str


def _normalised(text: str) -> str:
    kept: list[str] = []
    for line in text.split("\n"):
        words = " ".join(line.split())
        if words or (kept and kept[-1]):
            kept.append(words)
    return "\n".join(kept).strip()


def need_blocks(source: str, docname: str) -> list[NeedBlock]:
    """Every need directive of a type the vocabulary knows, in source order (the one
    parser of needs outside Sphinx, `model/need_source.py`, reads them)."""
    return [
        NeedBlock(need_of(item, docname), _normalised(item.body))
        for item in parse_items(docname, source)
    ]


def need_of(item: Item, docname: str) -> Need:
    """An item as the need the build reads from it (each field looked up once: a history
    point reads every need of the handbook this way)."""
    written: dict[str, str] = {}
    for name, value in item.fields:
        written.setdefault(name, value)  # the first of a repeated option, as `Item.field`
    fields = tuple((name, written[name]) for name in FIELD_NAMES if written.get(name))
    links = tuple(
        (name, tuple(t for t in (p.strip() for p in written.get(name, "").split(",")) if t))
        for name in LINK_NAMES
    )
    return Need(
        id=item.id,
        type=item.type,
        title=" ".join(item.title.split()),
        docname=docname,
        lineno=item.line,
        fields=fields,
        links=links,
    )
