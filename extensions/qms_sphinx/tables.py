"""Tables and links shared by the generated views (escaped by construction)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

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
    # Sphinx writes the widths as a colgroup only when told they were given.
    given = ["colwidths-given"] if widths else []
    return nodes.table("", group, classes=[*classes, *given])


def scrolling(node: nodes.Node, wide: bool = False) -> nodes.container:
    """`node` in a container that scrolls sideways on its own, so the page never does.

    A `wide` table also marks its page for the full content width (see qms.css).
    """
    return nodes.container("", node, classes=["qms-scroll", *(["qms-wide"] if wide else [])])


def doc_link(app: Sphinx, fromdocname: str, docname: str, anchor: str, text: str) -> nodes.Node:
    """A link to `anchor` on `docname`, as literal text (ids read best monospaced)."""
    uri = app.builder.get_relative_uri(fromdocname, docname) + (f"#{anchor}" if anchor else "")
    return nodes.reference("", "", nodes.literal("", text), internal=True, refuri=uri)


@dataclass(frozen=True)
class Html:
    """Markup made only by the helpers below, which escape every value they are given."""

    markup: str


def html_link(uri: str, text: str) -> Html:
    """A link with literal text, as Sphinx writes an internal reference to an id."""
    return Html(f'<a class="reference internal" href="{escape(uri)}">{html_code(text).markup}</a>')


def html_code(text: str) -> Html:
    """Literal text without a link, as Sphinx writes inline code."""
    return Html(
        f'<code class="docutils literal notranslate"><span class="pre">{escape(text)}</span></code>'
    )


def html_badge(text: str, css_class: str) -> Html:
    """Text in a span of `css_class`."""
    return Html(f'<span class="{escape(css_class)}">{escape(text)}</span>')


def html_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str | Html]],
    classes: Sequence[str],
    row_data: Sequence[Mapping[str, str]] | None = None,
    wide: bool = False,
) -> str:
    """A table as the HTML writer would write it, in its scroll container, as one string.

    For tables with a row per document: thousands of docutils nodes per page cost more
    than the rest of a one-page rebuild. `row_data` gives each row `data-*` attributes
    (for the register's filter). Wrap the result in `html_node`.
    """

    def cell(tag: str, value: str | Html, extra: str = "") -> str:
        inner = value.markup if isinstance(value, Html) else escape(value)
        return f"<{tag}{extra}><p>{inner}</p></{tag}>"

    head = "".join(cell("th", h, ' class="head"') for h in headers)
    scroll = "qms-scroll qms-wide" if wide else "qms-scroll"
    lines = [
        f'<div class="{scroll} docutils container">',
        f'<table class="{escape(" ".join([*classes, "docutils", "align-default"]))}">',
        f'<thead>\n<tr class="row-odd">{head}</tr>\n</thead>\n<tbody>',
    ]
    for index, values in enumerate(rows):
        parity = "row-even" if index % 2 == 0 else "row-odd"
        data = "".join(
            f' data-{escape(key)}="{escape(value)}"'
            for key, value in (row_data[index] if row_data else {}).items()
        )
        lines.append(
            f'<tr class="{parity}"{data}>' + "\n".join(cell("td", v) for v in values) + "</tr>"
        )
    lines.append("</tbody>\n</table>\n</div>\n")
    return "\n".join(lines)


def html_node(markup: str) -> nodes.raw:
    """Markup made by the helpers above, as a node only the HTML writers write."""
    return nodes.raw("", markup, format="html")
