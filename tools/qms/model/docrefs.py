"""Document ids written in prose: finding them, and which of them name documents."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

# An id as ID_PATTERN has it, standing alone: not inside a longer word, path or id.
_TOKEN = re.compile(r"(?<![\w-])[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+(?![\w-])")


@dataclass(frozen=True)
class IdMention:
    """An id-shaped token in a text: where it starts and ends, and on which line."""

    start: int
    end: int
    text: str
    line_offset: int  # newlines in the text before it


def id_mentions(text: str) -> Iterator[IdMention]:
    """Every id-shaped token in `text`, in order."""
    for match in _TOKEN.finditer(text):
        yield IdMention(
            match.start(), match.end(), match.group(0), text.count("\n", 0, match.start())
        )


def document_prefixes(ids: Iterable[str]) -> frozenset[str]:
    """The first segments of the document ids in use (POL, SOP, ...).

    Need ids share the id pattern (CTL-ACC-001, ISO27001-A-5-15); only a token that
    starts like a document id is taken to mean one.
    """
    return frozenset(doc_id.split("-", 1)[0] for doc_id in ids)


def names_a_document(token: str, prefixes: frozenset[str]) -> bool:
    """Whether `token` is meant as a document id (whether or not one has it)."""
    return token.split("-", 1)[0] in prefixes


def series(ids: Iterable[str]) -> frozenset[str]:
    """The series the ids belong to: REC-ISMS for REC-ISMS-001 (never a whole id)."""
    found: set[str] = set()
    for doc_id in ids:
        parts = doc_id.split("-")
        found.update("-".join(parts[:end]) for end in range(2, len(parts)))
    return frozenset(found)


def unknown_mentions(
    mentions: Iterable[tuple[str, int | None]], known: Mapping[str, object]
) -> list[tuple[str, int | None]]:
    """The (id, line) mentions that look like document ids but name no document.

    A series of documents ("the REC-ISMS series") is a name in use, not a typo.
    """
    prefixes = document_prefixes(known)
    named = series(known)
    return [
        (token, line)
        for token, line in mentions
        if token not in known and token not in named and names_a_document(token, prefixes)
    ]
