"""Printing for the CLI: located findings, aligned tables and JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from qms.model.findings import Finding


def print_json(data: object, stream: TextIO | None = None) -> None:
    """Write `data` as indented, key-sorted JSON."""
    out = stream or sys.stdout
    json.dump(data, out, indent=2, sort_keys=True, ensure_ascii=False)
    out.write("\n")


def print_findings(findings: Sequence[Finding], stream: TextIO | None = None) -> None:
    """One `path:line: message` line per finding."""
    out = stream or sys.stdout
    for finding in findings:
        out.write(finding.render() + "\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain, aligned text table; the last column is left unpadded."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    for row in (headers, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        sys.stdout.write("  ".join([*cells, row[-1]]).rstrip() + "\n")


def progress_stream() -> TextIO | None:
    """Where Sphinx may report progress: stderr on a terminal, nowhere in CI or a pipe."""
    return sys.stderr if sys.stderr.isatty() else None


def terminal_progress(label: str) -> Callable[[int, int], None] | None:
    """A "label: done/total" counter on a terminal's stderr; None when not a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        sys.stderr.write(f"\r{label}: {done}/{total}{end}")
        sys.stderr.flush()

    return show


def plural(count: int, word: str) -> str:
    """ "1 problem", "2 problems"."""
    return f"{count} {word}" + ("" if count == 1 else "s")
