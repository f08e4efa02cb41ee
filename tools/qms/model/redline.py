"""Redlines: what changed between two versions of a text, line by line and word by word."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from html import escape

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Change:
    """One line of a redline: kept, deleted, inserted, or changed within the line."""

    kind: str  # "same" | "delete" | "insert" | "change"
    old: str
    new: str
    old_line: int | None
    new_line: int | None


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
        changes += [Change("change", old_lines[a0 + i], new_lines[b0 + i], a0 + i + 1,
                           b0 + i + 1) for i in range(paired)]  # fmt: skip
        changes += [Change("delete", old_lines[i], "", i + 1, None) for i in range(a0 + paired, a1)]
        changes += [Change("insert", "", new_lines[i], None, i + 1) for i in range(b0 + paired, b1)]
    return changes


def words_html(old: str, new: str) -> str:
    """One changed line as HTML with <del> and <ins> around the words that differ."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    parts: list[str] = []
    for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            parts.append(escape("".join(a[a0:a1])))
            continue
        if a1 > a0:
            parts.append(f"<del>{escape(''.join(a[a0:a1]))}</del>")
        if b1 > b0:
            parts.append(f"<ins>{escape(''.join(b[b0:b1]))}</ins>")
    return "".join(parts)


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


def html_page(title: str, subtitle: str, changes: list[Change]) -> str:
    """A self-contained HTML redline (inline CSS, no scripts, everything escaped)."""
    rows = []
    for change in changes:
        if change.kind == "same":
            body, css = escape(change.new), "same"
        elif change.kind == "change":
            body, css = words_html(change.old, change.new), "change"
        elif change.kind == "delete":
            body, css = f"<del>{escape(change.old)}</del>", "delete"
        else:
            body, css = f"<ins>{escape(change.new)}</ins>", "insert"
        old_no = change.old_line or ""
        new_no = change.new_line or ""
        rows.append(f'<tr class="{css}"><td class="n">{old_no}</td><td class="n">{new_no}</td>'
                    f"<td><pre>{body}</pre></td></tr>")  # fmt: skip
    inserted = sum(c.kind in ("insert", "change") for c in changes)
    deleted = sum(c.kind in ("delete", "change") for c in changes)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
        "table{border-collapse:collapse;width:100%}td{vertical-align:top;padding:0 .4rem}"
        "td.n{color:#888;text-align:right;width:3rem;font-size:.8em}"
        "pre{margin:0;white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.9em}"
        "ins{background:#d4f8d4;text-decoration:underline}"
        "del{background:#fbd5d5;text-decoration:line-through}"
        "tr.insert{background:#f0fff0}tr.delete{background:#fff0f0}tr.change{background:#fffbe6}"
        "</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(subtitle)}</p>"
        f"<p>{inserted} lines with insertions, {deleted} with deletions. Insertions are "
        "<ins>underlined</ins>, deletions <del>struck through</del>.</p>"
        f"<table>{''.join(rows)}</table></body></html>\n"
    )
