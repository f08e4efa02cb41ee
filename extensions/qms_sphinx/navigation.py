"""Sidebar navigation grouped by document type, constant in size per page.

Themes render the global table of contents on every page, which makes a build
quadratic in the number of documents. The sidebar here lists the document types
(each linking to its index page) and only the current page beneath its type, so
each page costs the same however large the handbook grows.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Any

from sphinx.application import Sphinx

from qms.model.document import DocumentType
from qms_sphinx.state import documents

# Site-wide pages listed under "Handbook" when the handbook has them.
HANDBOOK_PAGES = (
    ("register", "Document register"),
    ("traceability", "Traceability matrix"),
    ("frameworks/index", "Frameworks"),
)


def _link(href: str, text: str, level: int, current: bool = False, open_: bool = False) -> str:
    classes = f"toctree-l{level}" + (" current current-page" if current else "")
    classes += " current" if open_ and not current else ""
    anchor = ' class="current reference internal"' if current else ' class="reference internal"'
    return f'<li class="{classes}"><a{anchor} href="{escape(href)}">{escape(text)}</a>'


def _caption(text: str) -> str:
    return f'<p class="caption" role="heading"><span class="caption-text">{escape(text)}</span></p>'


def render_navigation(app: Sphinx, pagename: str) -> str:
    """The sidebar HTML for one page, in the markup Sphinx's toctree produces."""
    env = app.env
    builder = app.builder

    def uri(target: str) -> str:
        return "#" if target == pagename else builder.get_relative_uri(pagename, target)

    found = env.found_docs
    docs = documents(env)
    current = docs.get(pagename)
    counts = Counter(doc.type for doc in docs.values())
    parts = [_caption("Handbook"), "<ul>"]
    parts.append(_link(uri(env.config.root_doc), "Home", 1, pagename == env.config.root_doc))
    parts.append("</li>")
    for page, label in HANDBOOK_PAGES:
        if page in found:
            parts.append(_link(uri(page), label, 1, pagename == page))
            parts.append("</li>")
    parts += ["</ul>", _caption("Documents by type"), "<ul>"]
    for doc_type in DocumentType:
        index = f"{doc_type.folder}/index"
        if not counts[doc_type] or index not in found:
            continue
        here = current is not None and current.type == doc_type
        # No counts in the label: they would go stale on pages not rewritten.
        parts.append(_link(uri(index), doc_type.plural, 1, pagename == index, open_=here))
        if here and current is not None:
            parts.append("<ul>")
            parts.append(_link("#", f"{current.id} {current.title}", 2, True))
            parts.append("</li></ul>")
        parts.append("</li>")
    parts.append("</ul>")
    return "".join(parts)


def replace_toctree(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: object
) -> None:
    """Give the theme our grouped navigation wherever it asks for the global toctree."""
    if "toctree" not in context or not hasattr(app.builder, "get_relative_uri"):
        return
    html = render_navigation(app, pagename)

    def toctree(**_: Any) -> str:
        return html

    context["toctree"] = toctree


def setup(app: Sphinx) -> None:
    """Run before the theme's own page-context handler (priority 500)."""
    app.connect("html-page-context", replace_toctree, priority=400)
