"""Printing for the CLI: located findings, aligned tables, JSON, and files the user names."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from qms.adapters.files import write_atomic
from qms.model.findings import Finding

# Pieces of JSON text written at once.
_BATCH = 4096


def print_json(data: object, stream: TextIO | None = None) -> None:
    """Write `data` as indented, key-sorted JSON."""
    out = stream or sys.stdout
    if isinstance(data, list) and data and all(map(_is_text_row, data)):
        _print_text_rows(data, out)
        return
    # Pieces joined in batches: json.dump writes each of its (many) pieces separately,
    # and one string of a large matrix would hold its whole text at once.
    encoder = json.JSONEncoder(indent=2, sort_keys=True, ensure_ascii=False)
    pieces: list[str] = []
    for piece in encoder.iterencode(data):
        pieces.append(piece)
        if len(pieces) == _BATCH:
            out.write("".join(pieces))
            pieces.clear()
    out.write("".join(pieces) + "\n")


def _is_text_row(row: object) -> bool:
    return isinstance(row, dict) and all(
        isinstance(key, str) and isinstance(value, str) for key, value in row.items()
    )


def _print_text_rows(rows: list[dict[str, str]], out: TextIO) -> None:
    """Rows of text (a training matrix of 40,000) as `print_json` writes any data, written
    here: the indenting encoder is Python, called once per piece; each string is still
    escaped by json's own C function."""
    quote = json.encoder.encode_basestring  # ensure_ascii=False, as above
    out.write("[\n")
    for start in range(0, len(rows), _BATCH):
        pieces = []
        for row in rows[start : start + _BATCH]:
            fields = ",\n".join(f"    {quote(k)}: {quote(row[k])}" for k in sorted(row))
            pieces.append(f"  {{\n{fields}\n  }}" if row else "  {}")
        more = start + _BATCH < len(rows)
        out.write(",\n".join(pieces) + (",\n" if more else "\n"))
    out.write("]\n")


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


DOC_ID_HELP = "the document's id, in any case: POL-ACC-001 or pol-acc-001"
TABLE_FORMATS = ("text", "markdown", "csv", "json")
_FORMAT_ALIASES = {"md": "markdown"}


def _format_name(text: str) -> str:
    return _FORMAT_ALIASES.get(text.lower(), text.lower())


def add_cache_option(parser: argparse.ArgumentParser) -> None:
    """--no-cache: ask gpg about every signature again, for an independent check."""
    parser.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        help="verify every signature with gpg again, not reusing what earlier runs of this "
        "clone found good (kept in its git folder, qms/verified-signatures.json)",
    )


def add_format_option(
    parser: argparse.ArgumentParser, formats: Sequence[str], default: str | None = None
) -> None:
    """--format (the first of `formats` by default; md is short for markdown) and --json."""
    default = default or formats[0]
    parser.add_argument(
        "--format",
        type=_format_name,
        choices=formats,
        default=default,
        help=f"default: {default}; md is short for markdown",
    )
    parser.add_argument(
        "--json",
        dest="format",
        action="store_const",
        const="json",
        help="the same as --format json",
    )


def add_verbose_option(parser: argparse.ArgumentParser) -> None:
    """-v/--verbose: Sphinx's full log instead of the progress bar."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print Sphinx's full log on stderr instead of the progress bar (e.g. to see "
        "which extension is slow, or the settings MyST runs with)",
    )


def sphinx_log(verbose: bool) -> TextIO | None:
    """Where Sphinx writes its own log: stderr with --verbose, nowhere otherwise."""
    return sys.stderr if verbose else None


def plural(count: int, word: str) -> str:
    """ "1 problem", "2 problems"."""
    return f"{count} {word}" + ("" if count == 1 else "s")


def write_file(path: Path, text: str) -> None:
    """Write an output file the user named (UTF-8), atomically."""
    write_atomic(path, text.encode("utf-8"))
