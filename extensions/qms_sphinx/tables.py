"""Docutils tables and links shared by the generated views (escaped by construction)."""

from __future__ import annotations

from collections.abc import Sequence

from docutils import nodes
from sphinx.application import Sphinx

Cell = nodes.Node | str | Sequence[nodes.Node]


def _paragraph(content: Cell) -> nodes.paragraph:
    if isinstance(content, str):
        return nodes.paragraph("", content)
    if isinstance(content, nodes.Node):
        return nodes.paragraph("", "", content)
    para = nodes.paragraph()
    for index, node in enumerate(content):
        if index:
            para += nodes.Text(", ")
        para += node
    return para


def table(
    headers: Sequence[str] | None,
    rows: Sequence[Sequence[Cell]],
    classes: Sequence[str] = (),
    widths: Sequence[int] | None = None,
    row_classes: Sequence[Sequence[str]] | None = None,
) -> nodes.table:
    """A table whose cells are text, a node, or a list of nodes joined by commas."""
    columns = len(headers) if headers else len(rows[0]) if rows else 1
    group = nodes.tgroup(cols=columns)
    group += [nodes.colspec(colwidth=w) for w in (widths or [1] * columns)]
    if headers:
        group += nodes.thead("", nodes.row("", *(nodes.entry("", _paragraph(h)) for h in headers)))
    body = nodes.tbody()
    for index, cells in enumerate(rows):
        row = nodes.row("", *(nodes.entry("", _paragraph(cell)) for cell in cells))
        if row_classes:
            row["classes"].extend(row_classes[index])
        body += row
    group += body
    return nodes.table("", group, classes=list(classes))


def doc_link(app: Sphinx, fromdocname: str, docname: str, anchor: str, text: str) -> nodes.Node:
    """A link to `anchor` on `docname`, as literal text (ids read best monospaced)."""
    uri = app.builder.get_relative_uri(fromdocname, docname) + (f"#{anchor}" if anchor else "")
    return nodes.reference("", "", nodes.literal("", text), internal=True, refuri=uri)
