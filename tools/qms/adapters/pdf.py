"""PDF output through WeasyPrint: HTML pages of a release set to paginated documents."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qms.adapters.files import write_atomic


@dataclass(frozen=True)
class PdfPage:
    """One document to print: its HTML, where relative links resolve, header and footer."""

    html: str
    base: Path
    header: str
    footer: str


def _quoted(text: str) -> str:
    """A CSS string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _page_css(page: PdfPage) -> str:
    return (
        "@page { size: A4; margin: 22mm 16mm 20mm 16mm;"
        f" @top-center {{ content: {_quoted(page.header)}; font-size: 8pt; color: #444 }}"
        f" @bottom-left {{ content: {_quoted(page.footer)}; font-size: 7pt; color: #444 }}"
        ' @bottom-right { content: "Page " counter(page) " of " counter(pages);'
        " font-size: 7pt; color: #444 } }\n"
        "body { font-family: 'DejaVu Sans', sans-serif; font-size: 9.5pt; line-height: 1.35 }\n"
        "table { border-collapse: collapse; width: 100% }\n"
        "td, th { border: 1px solid #bbb; padding: 2pt 4pt; vertical-align: top }\n"
        "a.headerlink, .qms-print-footer, script { display: none }\n"
        "pre, code { font-family: 'DejaVu Sans Mono', monospace; font-size: 8pt }\n"
    )


def write_pdfs(pages: Sequence[tuple[Path, PdfPage]], combined: Path | None, css: str) -> None:
    """Write one PDF per page, and all of them in one file when `combined` is given.

    Each document keeps its own page numbering ("Page x of y") in the combined file.
    """
    from weasyprint import CSS, HTML  # imported here: slow, and only releases need it

    # WeasyPrint logs every step at INFO; the CLI reports progress itself.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    style = CSS(string=css)
    rendered = []
    for target, page in pages:
        document = HTML(string=page.html, base_url=str(page.base)).render(
            stylesheets=[style, CSS(string=_page_css(page))]
        )
        write_atomic(target, document.write_pdf())
        rendered.append(document)
    if combined is not None and rendered:
        every_page = [p for document in rendered for p in document.pages]
        write_atomic(combined, rendered[0].copy(every_page).write_pdf())
