"""Byte-identical output: replace the random ids sphinx-needs gives need containers.

sphinx-needs names each rendered need's container "SNCB-" plus eight characters of
a random UUID, so two builds of the same commit differ. Nothing refers to those ids
from outside the page, so a name derived from the page and position serves as well.
"""

from __future__ import annotations

import hashlib

from docutils import nodes
from sphinx.application import Sphinx

PREFIX = "SNCB-"


def stable_ids(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Rename need containers after sphinx-needs has rendered them."""
    count = 0
    for node in doctree.findall(nodes.container):
        ids: list[str] = node.get("ids", [])
        if "need_container" in node.get("classes", []) and ids and ids[0].startswith(PREFIX):
            digest = hashlib.sha256(f"{docname}:{count}".encode()).hexdigest()[:8]
            node["ids"] = [PREFIX + digest, *ids[1:]]
            count += 1


def setup(app: Sphinx) -> None:
    """Run after sphinx-needs' own doctree-resolved handlers."""
    app.connect("doctree-resolved", stable_ids, priority=900)
