"""Forgetting a document's needs only when it was read before: a fresh build stays linear.

sphinx-needs forgets a document's needs before the document is read, by scanning every
need known so far. In a fresh build nothing is known about a document yet, but the scan
still runs once per document over a growing set of needs: quadratic in the handbook's
size (7 s of a 1,000-document build). The same forgetting is kept, for documents the
environment has read before.

Each document's needs are also forgotten before the first changed document is read: a
need moved from one changed document to another that is read first was otherwise found
twice (sphinx-needs forgets a document's needs only just before reading it).
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx_needs.directives.need import purge_needs

from qms_sphinx.listeners import replace_listener


def purge_read_documents(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """sphinx-needs' purge, for a document with something to purge."""
    if docname in env.all_docs:
        purge_needs(app, env, docname)


def purge_before_reading(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Forget the needs of every document about to be read again, before any is read."""
    for docname in docnames:
        purge_read_documents(app, env, docname)


def setup(app: Sphinx) -> None:
    """Put the guarded purge in place of sphinx-needs' own (which runs at the default 500)."""
    replace_listener(app, "env-purge-doc", purge_needs, purge_read_documents, priority=500)
    app.connect("env-before-read-docs", purge_before_reading)
