"""CSV for spreadsheets, with cells that cannot run as formulas.

Every CSV the tools write (the SoA, risks, audit trail, and any later training, CAPA or
metrics export) must come from `csv_text`: it is the one place that neutralises formula
prefixes, so a new export that bypasses it reopens formula injection.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

# OWASP's CSV-injection guidance: a cell starting with one of these is run as a formula
# by Excel, LibreOffice or Sheets (=HYPERLINK(...) calls out, -/+/@ start expressions).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """`cell` with a leading single quote when a spreadsheet would read it as a formula.

    The quote makes the cell text, and spreadsheets show it without the quote.
    """
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def csv_text(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Header and rows as CSV: UTF-8 byte-order mark, CRLF, every cell quoted (OWASP)."""
    out = io.StringIO()
    out.write("\ufeff")  # the byte-order mark tells spreadsheets the file is UTF-8
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow([neutralise(h) for h in headers])
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return out.getvalue()


def read_rows(
    text: str, columns: Sequence[str], where: str, optional: Sequence[str] = ()
) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The rows of an imported CSV as (line, cells of `columns`), or why it cannot be read.

    A column in `optional` may be absent; its cells are then empty.

    Problems are `where:LINE: ...`: a missing column, or a line the CSV reader refuses
    (such as a line break inside an unquoted cell), so an import is refused at a place.
    """
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        found = reader.fieldnames or ()
        missing = [c for c in columns if c not in found and c not in optional]
        if missing:
            return [], [f"{where}:1: missing column(s) {', '.join(missing)}"]
        for row in reader:
            cells = {c: (row.get(c) or "").strip() for c in columns}
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        return [], [f"{where}:{reader.line_num}: not readable as CSV: {exc}"]
    return rows, []
