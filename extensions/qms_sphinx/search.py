"""Site search: what stays out of the index and snippets, and what each result shows.

Sphinx indexes the doctree, and builds each result's snippet from the text of the
page's HTML (Sphinx 9 fetches the page itself). Elements of class `no-search` are
skipped by Sphinx's own indexer; `qms-search.js` removes them from snippets too. So
the control block and the banners, which say the same on every page, neither match
every query nor fill every snippet.
"""

from __future__ import annotations

import json
from typing import Any

from sphinx.application import Sphinx

from qms_sphinx.approvals import css_slug, row_for
from qms_sphinx.state import documents

NO_SEARCH = "no-search"


def result_labels(app: Sphinx) -> dict[str, list[str]]:
    """Docname -> [id, status, CSS slug] of every document, as its page shows them."""
    labels = {}
    for docname in sorted(documents(app.env)):
        row = row_for(app, docname)
        labels[docname] = [row.document.id, str(row.status.status), css_slug(row)]
    return labels


def script_literal(value: object) -> str:
    """JSON that is safe inside an HTML <script> element."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def search_page(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: object
) -> None:
    """Give the search page the documents' labels and the script that uses them."""
    if templatename != "search.html":
        return
    # The search page is written at the end of every build, after verification, so
    # the labels are this build's verified states (never a field anyone typed).
    app.add_js_file(None, body=f"var QMS_SEARCH_DOCUMENTS = {script_literal(result_labels(app))};")
    # Deferred: runs after searchtools.js and before its query starts (DOMContentLoaded).
    app.add_js_file("qms-search.js", loading_method="defer")


def setup(app: Sphinx) -> None:
    """Connect the search page hook."""
    app.connect("html-page-context", search_page)
