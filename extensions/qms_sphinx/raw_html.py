"""Refusing raw HTML in sources: everything that reaches readers is escaped."""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

from qms.model.findings import FindingCode
from qms_sphinx.state import flawed

logger = logging.getLogger(__name__)


def refuse_raw_html(app: Sphinx, doctree: nodes.document) -> None:
    """Warn at every raw HTML block or tag and drop it from the page.

    Markdown passes HTML through untouched, so a source could carry scripts or
    forged approval banners into the published site.
    """
    for node in list(doctree.findall(nodes.raw)):
        if "html" not in node.get("format", "").split():
            continue
        logger.warning(
            "raw HTML is not allowed in the handbook (it would reach readers unescaped); "
            "write it in Markdown, or escape '<' as '\\<'",
            location=node,
            type="qms",
            subtype=FindingCode.RAW_HTML,
        )
        node.parent.remove(node)
        flawed(app.env).add(app.env.docname)


def setup(app: Sphinx) -> None:
    """Check every page as it is read."""
    app.connect("doctree-read", refuse_raw_html)
