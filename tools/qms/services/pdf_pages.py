"""The PDFs of a release set, prepared from its built HTML pages: one per document, one book.

A PDF lives in the set's `pdf/` folder, so every relative link of a page is rewritten
relative to that folder (or, in the book, to the document's own section), and images are
handed to the writer as assets of the set folder, which it embeds. Nothing of the build's
location is left in a PDF.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, Tag

from qms.adapters.pdf import PdfDocument, asset_url

# What a page carries for the screen only: banners filled by scripts, the print footer
# (a PDF has its own), the watermark (a released document is in force), controls.
_SCREEN_ONLY = (
    ".qms-site-banner", ".qms-print-footer", ".qms-watermark", "script", "a.headerlink",
    "form", "input", "select", "button", ".qms-no-pdf",
)  # fmt: skip
PDF_FOLDER = "pdf"


@dataclass(frozen=True)
class PdfEntry:
    """A document of the set as its PDF names it."""

    docname: str
    id: str
    title: str
    version: str


@dataclass(frozen=True)
class SetInfo:
    """What the cover and every page footer say about the release."""

    organisation: str
    release: str
    set_name: str
    set_title: str
    date: str
    commit: str
    commit_time: str
    # Titles of the roles that must sign the release.
    signer_roles: tuple[str, ...]


def pdf_name(document_id: str) -> str:
    """The file name of a document's PDF within the set's pdf/ folder."""
    return f"{document_id.lower()}.pdf"


def book_name(set_name: str) -> str:
    """The file name of the set's book."""
    return f"{set_name}-complete.pdf"


def _article(page: Path) -> Tag:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    article = soup.find("article")
    if not isinstance(article, Tag):
        raise ValueError(f"{page.name} has no <article>")
    for selector in _SCREEN_ONLY:
        for element in article.select(selector):
            element.decompose()
    return article


def _split(href: str) -> tuple[str, str] | None:
    """(path, fragment) of a relative link; None for absolute and pure-fragment links."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith(("#", "/")):
        return None
    return unquote(parts.path), parts.fragment


def _rewrite(article: Tag, page: str, sections: dict[str, str]) -> None:
    """Point links at the PDF's folder or at sections of the same PDF; images at files.

    `page` is the page's path within the set. `sections` maps the pages printed in this
    PDF to the prefix their ids get in it ("" for a single document's own page; the
    document id in the book, where every page's ids must stay unique).
    """
    folder = posixpath.dirname(page)
    prefix = sections[page]
    for element in article.find_all(True):
        if prefix and isinstance(element.get("id"), str):
            element["id"] = f"{prefix}--{element['id']}"
        href = element.get("href")
        if isinstance(href, str):
            if href.startswith("#") and prefix:
                element["href"] = f"#{prefix}--{href[1:]}"
            split = _split(href)
            if split is not None:
                path, fragment = split
                target = posixpath.normpath(posixpath.join(folder, path)) if path else page
                if target in sections:
                    # Within this PDF: the section itself, or an id within it.
                    own = sections[target]
                    inner = f"{own}--{fragment}" if own else fragment
                    element["href"] = f"#{inner if fragment else own}"
                else:
                    relative = posixpath.relpath(target, PDF_FOLDER)
                    element["href"] = relative + (f"#{fragment}" if fragment else "")
        src = element.get("src")
        if isinstance(src, str) and (split := _split(src)) is not None:
            element["src"] = asset_url(posixpath.normpath(posixpath.join(folder, split[0])))


def _head(title: str, subject: str, keywords: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        f'<meta name="description" content="{escape(subject)}">'
        f'<meta name="keywords" content="{escape(keywords)}"></head>'
    )


def _release_line(info: SetInfo) -> str:
    return (
        f"{info.organisation}, release {info.release} ({info.set_title}) of {info.date}. "
        "Uncontrolled when printed."
    )


def document_pdfs(outdir: Path, info: SetInfo, entries: Iterable[PdfEntry]) -> list[PdfDocument]:
    """One PDF per document, from its release page, naming the version's signers."""
    found = []
    for entry in entries:
        page = f"{entry.docname}.html"
        article = _article(outdir / page)
        _rewrite(article, page, {page: ""})
        html = (
            _head(
                f"{entry.id} {entry.title}, version {entry.version}",
                f"Release {info.release}: {info.set_title}",
                f"{entry.id}, {info.release}, {info.set_name}",
            )
            + '<body><div class="qms-pdf-release"><p>'
            f"Published in release {escape(info.release)} ({escape(info.set_title)}) of "
            f"{escape(info.date)}. The document-control block names who signed this "
            "version, with role, meaning and time: only verified signatures are shown.</p></div>"
            f"{article}</body></html>"
        )
        found.append(
            PdfDocument(
                target=outdir / PDF_FOLDER / pdf_name(entry.id),
                html=html,
                header=f"{entry.id} {entry.title}, version {entry.version}, EFFECTIVE",
                footer=_release_line(info),
                style=PDF_CSS,
            )
        )
    return found


# Printed text, and nothing split that a reader needs whole: a table row, a heat map.
PDF_CSS = (
    "body { font-family: 'DejaVu Sans', sans-serif; font-size: 9.5pt; line-height: 1.35 }\n"
    "table { border-collapse: collapse; width: 100%; font-size: 8.5pt }\n"
    "thead { display: table-header-group }\n"
    "tr, figure, img, .qms-heatmap, .qms-heatmaps, .qms-control { break-inside: avoid }\n"
    "td, th { border: 1px solid #bbb; padding: 2pt 4pt; vertical-align: top }\n"
    "h1, h2, h3 { break-after: avoid }\n"
    "pre, code { font-family: 'DejaVu Sans Mono', monospace; font-size: 8pt }\n"
    "pre { white-space: pre-wrap }\n"
    ".qms-pdf-release { font-size: 8pt; color: #333; border-bottom: 1px solid #bbb;"
    " margin-bottom: 4mm }\n"
    ".qms-pdf-release ul { margin: 0; padding-left: 4mm }\n"
    # Paper has no hover and WeasyPrint no vertical writing: the axis reads across.
    ".qms-heat-help { display: none }\n"
    "table.qms-heatmap th.qms-axis-y span { writing-mode: horizontal-tb; transform: none;"
    " font-size: 7pt }\n"
)
# The book: a cover, contents with page numbers, each document's name in the header.
_BOOK_CSS = (
    "@page :first { @top-center { content: none } @bottom-left { content: none }"
    " @bottom-right { content: none } }\n"
    "@page { @top-center { content: string(qms-doc); font-size: 8pt; color: #444;"
    " font-family: 'DejaVu Sans', sans-serif } }\n"
    ".qms-cover { break-after: page; padding-top: 45mm }\n"
    ".qms-cover .qms-org { font-size: 14pt; color: #444; margin: 0 }\n"
    ".qms-cover h1 { font-size: 26pt; margin: 4mm 0 10mm }\n"
    ".qms-cover table { width: 100%; margin-top: 8mm }\n"
    ".qms-toc { break-after: page }\n"
    ".qms-toc ol { list-style: none; padding: 0 }\n"
    ".qms-toc li { margin: 1.5pt 0 }\n"
    ".qms-toc a { color: inherit; text-decoration: none }\n"
    ".qms-toc a::after { content: leader('.') target-counter(attr(href), page) }\n"
    ".qms-book-document { break-before: page }\n"
    ".qms-book-running { string-set: qms-doc content(); display: block; height: 0;"
    " overflow: hidden; font-size: 0 }\n"
)


def book_pdf(outdir: Path, info: SetInfo, entries: list[PdfEntry]) -> PdfDocument:
    """The set as one controlled book: cover, contents, every document in register order."""
    anchors = {f"{e.docname}.html": e.id.lower() for e in entries}
    sections = []
    for entry in entries:
        page = f"{entry.docname}.html"
        article = _article(outdir / page)
        _rewrite(article, page, anchors)
        running = f"{entry.id} {entry.title}, version {entry.version}, EFFECTIVE"
        sections.append(
            f'<section class="qms-book-document" id="{escape(anchors[page])}">'
            f'<span class="qms-book-running">{escape(running)}</span>'
            f"{article}</section>"
        )
    contents = "".join(
        f'<li><a href="#{escape(anchors[f"{e.docname}.html"])}">'
        f"{escape(e.id)} {escape(e.title)}, version {escape(e.version)}</a></li>"
        for e in entries
    )
    roles = ", ".join(info.signer_roles) or "none"
    cover = (
        f'<section class="qms-cover"><p class="qms-org">{escape(info.organisation)}</p>'
        f"<h1>{escape(info.set_title)}</h1><table><tbody>"
        f"<tr><th>Release</th><td>{escape(info.release)}</td></tr>"
        f"<tr><th>Release date</th><td>{escape(info.date)}</td></tr>"
        f"<tr><th>Commit</th><td><code>{escape(info.commit)}</code>, committed "
        f"{escape(info.commit_time)}</td></tr>"
        f"<tr><th>Documents</th><td>{len(entries)}, each EFFECTIVE on the release date</td></tr>"
        f"<tr><th>Release signatures</th><td>Required from: {escape(roles)}. They are "
        "detached OpenPGP signatures over the release manifest, which lists this file's "
        "SHA-256; they travel in <code>signatures/release/</code> of the published folder "
        "and are checked with <code>qms release verify</code>. The release index names "
        "who signed, and when.</td></tr>"
        "</tbody></table></section>"
    )
    html = (
        _head(
            f"{info.set_title}, release {info.release}",
            f"{info.organisation}: {info.set_title}, release {info.release} of {info.date}",
            f"{info.release}, {info.set_name}",
        )
        + f"<body>{cover}"
        f'<nav class="qms-toc"><h2>Contents</h2><ol>{contents}</ol></nav>'
        + "".join(sections)
        + "</body></html>"
    )
    return PdfDocument(
        target=outdir / PDF_FOLDER / book_name(info.set_name),
        html=html,
        header="",
        footer=_release_line(info),
        style=PDF_CSS + _BOOK_CSS,
    )
