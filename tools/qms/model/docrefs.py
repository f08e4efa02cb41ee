"""Document ids written in prose: finding them, and which of them name documents."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from qms.model.vocabulary import ID_SHAPE

# An id as ID_PATTERN has it, standing alone: not inside a longer word, path or id.
_TOKEN = re.compile(rf"(?<![\w-]){ID_SHAPE}(?![\w-])")


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


@dataclass(frozen=True)
class DocumentIds:
    """The document ids of a build, and the tokens of prose that are meant as one."""

    ids: frozenset[str]
    # First segments of the ids in use (POL, SOP, ...). Need ids share the id pattern
    # (CTL-ACC-001, ISO27001-A-5-15); only a token that starts like a document id means one.
    prefixes: frozenset[str]
    # The series the ids belong to (REC-ISMS for REC-ISMS-001): names in use, not typos.
    series: frozenset[str]

    @classmethod
    def of(cls, ids: Iterable[str]) -> DocumentIds:
        """Computed once per build, so that checking each page costs only its own tokens."""
        found = frozenset(ids)
        series: set[str] = set()
        for doc_id in found:
            parts = doc_id.split("-")
            series.update("-".join(parts[:end]) for end in range(2, len(parts)))
        return cls(found, frozenset(i.split("-", 1)[0] for i in found), frozenset(series))

    def unknown(self, mentions: Iterable[tuple[str, int | None]]) -> list[tuple[str, int | None]]:
        """The (token, line) mentions that look like document ids but name no document."""
        return [
            (token, line)
            for token, line in mentions
            if token not in self.ids
            and token not in self.series
            and token.split("-", 1)[0] in self.prefixes
        ]
