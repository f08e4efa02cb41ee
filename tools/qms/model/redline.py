"""Redlines: what changed between two versions of a text, line by line and word by word."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Words:
    """A run of words within a changed line: kept, deleted or inserted."""

    kind: str  # "same" | "delete" | "insert"
    text: str


@dataclass(frozen=True)
class Change:
    """One line of a redline: kept, deleted, inserted, or changed within the line.

    A changed line also holds its words, so that only those that differ are marked.
    """

    kind: str  # "same" | "delete" | "insert" | "change"
    old: str
    new: str
    old_line: int | None
    new_line: int | None
    words: tuple[Words, ...] = field(default=(), compare=False)


def redline(old: str, new: str) -> list[Change]:
    """Compare two texts; replaced lines are paired so that words can be marked."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    changes: list[Change] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            changes += [Change("same", old_lines[a0 + i], new_lines[b0 + i], a0 + i + 1,
                               b0 + i + 1) for i in range(a1 - a0)]  # fmt: skip
            continue
        paired = min(a1 - a0, b1 - b0) if tag == "replace" else 0
        changes += [_changed(old_lines[a0 + i], new_lines[b0 + i], a0 + i + 1, b0 + i + 1)
                    for i in range(paired)]  # fmt: skip
        changes += [Change("delete", old_lines[i], "", i + 1, None) for i in range(a0 + paired, a1)]
        changes += [Change("insert", "", new_lines[i], None, i + 1) for i in range(b0 + paired, b1)]
    return changes


def _changed(old: str, new: str, old_line: int, new_line: int) -> Change:
    return Change("change", old, new, old_line, new_line, words(old, new))


def words(old: str, new: str) -> tuple[Words, ...]:
    """The words of one changed line: runs kept, deleted (old) and inserted (new)."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    parts: list[Words] = []
    for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            parts.append(Words("same", "".join(a[a0:a1])))
            continue
        if a1 > a0:
            parts.append(Words("delete", "".join(a[a0:a1])))
        if b1 > b0:
            parts.append(Words("insert", "".join(b[b0:b1])))
    return tuple(parts)


def unified(changes: list[Change], old_label: str, new_label: str, context: int = 3) -> list[str]:
    """A plain unified diff for terminals (only lines near a change are shown)."""
    near: set[int] = set()
    for index, change in enumerate(changes):
        if change.kind != "same":
            near.update(range(index - context, index + context + 1))
    lines = [f"--- {old_label}", f"+++ {new_label}"]
    previous = -2
    for index, change in enumerate(changes):
        if index not in near:
            continue
        if index != previous + 1:
            lines.append(f"@@ line {change.new_line or change.old_line} @@")
        previous = index
        if change.kind == "same":
            lines.append(f" {change.new}")
        if change.kind in ("delete", "change"):
            lines.append(f"-{change.old}")
        if change.kind in ("insert", "change"):
            lines.append(f"+{change.new}")
    return lines
