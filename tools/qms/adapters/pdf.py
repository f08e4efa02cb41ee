"""PDF output through WeasyPrint: prepared HTML to paginated, reproducible documents.

Everything that depends on time is given, never read from the clock: the PDF's creation
date is the release's. The one input WeasyPrint does not take as an argument is the
timestamp fontTools writes into font subsets (when HarfBuzz-Subset is missing), which it
reads from SOURCE_DATE_EPOCH; that is why releases run this writer in a child process
whose environment they set (see qms.services.set_build), never in the caller's.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from qms.adapters.files import write_atomic
from qms.model.css import css_string
from qms.model.timeutil import format_utc

# Images are named "qms-asset:<path below the asset folder>": WeasyPrint names embedded
# images after their address, so a file URI would put the build's location into the PDF.
ASSET_SCHEME = "qms-asset"


@dataclass(frozen=True)
class PdfDocument:
    """One PDF: HTML whose links are relative to the PDF and whose images are assets."""

    target: Path
    html: str
    header: str
    footer: str
    # Style for this PDF, after the page's own stylesheet.
    style: str = ""


_MARGIN = "font-family: 'DejaVu Sans', sans-serif; color: #444"


def _page_css(header: str, footer: str) -> str:
    # A page-margin header only where one is given (the book names each document's).
    top = f"@top-center {{ content: {css_string(header)}; font-size: 8pt; {_MARGIN} }}"
    return (
        "@page { size: A4; margin: 22mm 16mm 20mm 16mm;"
        f" {top if header else ''}"
        f" @bottom-left {{ content: {css_string(footer)}; font-size: 7pt; {_MARGIN};"
        " width: 75% }"
        ' @bottom-right { content: "Page " counter(page) " of " counter(pages);'
        f" font-size: 7pt; {_MARGIN} }} }}\n"
    )


def asset_url(relative: str) -> str:
    """The address of a file below the asset folder, as the writer loads it."""
    return f"{ASSET_SCHEME}:{quote(relative)}"


def _asset_fetcher(assets: Path) -> Any:
    """A fetcher that loads assets from `assets` and nothing else: no network, no paths."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = assets.resolve()

    class AssetFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: object = None) -> Any:
            prefix = f"{ASSET_SCHEME}:"
            path = (root / unquote(url.removeprefix(prefix))).resolve()
            if not url.startswith(prefix) or not path.is_relative_to(root) or not path.is_file():
                raise ValueError(f"{url} is not a file of the release (nothing else is loaded)")
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": kind})

    return AssetFetcher()


def write_pdfs(
    documents: Sequence[PdfDocument],
    css: str,
    created: datetime,
    assets: Path,
    done: Callable[[PdfDocument], None] = lambda _: None,
) -> None:
    """Render each document to its target, one at a time, so memory stays bounded."""
    from weasyprint import CSS, HTML  # imported here: slow, and only releases need it

    # WeasyPrint logs every step at INFO; the caller reports progress itself.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    style = CSS(string=css)
    fetcher = _asset_fetcher(assets)
    stamp = format_utc(created)
    for document in documents:
        # No base URL: relative links stay relative to the PDF, so no build path leaks
        # into the output.
        rendered = HTML(string=document.html, base_url=None, url_fetcher=fetcher).render(
            stylesheets=[
                style,
                CSS(string=_page_css(document.header, document.footer) + document.style),
            ]
        )
        rendered.metadata.created = stamp
        rendered.metadata.modified = stamp
        rendered.metadata.generator = "qms"
        write_atomic(document.target, rendered.write_pdf())
        del rendered
        done(document)
