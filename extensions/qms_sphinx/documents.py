"""Controlled documents in the Sphinx environment: front matter checked as sources are read."""

from __future__ import annotations

import os
import re
from collections.abc import Set
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from qms.model.registry import duplicate_id_findings
from qms.services.handbook import is_controlled, parse_source
from qms_sphinx.settings import settings
from qms_sphinx.state import controlled, documents, flawed

logger = logging.getLogger(__name__)


def source_path(app: Sphinx, docname: str) -> str:
    """The document's path as the qms CLI names it (relative to the repository root)."""
    return os.path.relpath(app.env.doc2path(docname), app.confdir).replace(os.sep, "/")


def read_front_matter(app: Sphinx, docname: str, source: list[str]) -> None:
    """Validate a controlled document's front matter and remember the document."""
    env = app.env
    if not is_controlled(settings(app), docname):
        return
    controlled(env).add(docname)
    path = source_path(app, docname)
    result = parse_source(path, source[0], Path(env.doc2path(docname)).read_bytes())
    findings = result.findings
    if findings:
        flawed(env).add(docname)
    for finding in findings:
        logger.warning(
            finding.message,
            location=(docname, finding.line),
            type="qms",
            subtype=finding.code,
        )
    if result.document is not None:
        documents(env)[docname] = result.document
    if result.block_lines:
        source[0] = heading_in_place(source[0], result.block_lines, result.title)


_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def heading_in_place(source: str, block_lines: int, title: str | None) -> str:
    """Replace the front matter by the title as a heading, keeping every line number.

    The title is escaped for Markdown, so it always renders as the text the author
    typed: MyST's own title-to-heading would parse it as Markdown, raw HTML included.
    The front matter is already validated, so MyST has no need to see it.
    """
    text = title if title is not None else "Untitled document"
    heading = "# " + _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(text.split()))
    lines = source.split("\n")
    return "\n".join([heading, *([""] * (block_lines - 1)), *lines[block_lines:]])


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """Forget a document that is about to be re-read or was removed."""
    documents(env).pop(docname, None)
    controlled(env).discard(docname)
    flawed(env).discard(docname)


def merge(app: Sphinx, env: BuildEnvironment, docnames: Set[str], other: BuildEnvironment) -> None:
    """Take over what a parallel reader process learnt."""
    documents(env).update({name: doc for name, doc in documents(other).items() if name in docnames})
    controlled(env).update(name for name in controlled(other) if name in docnames)
    flawed(env).update(name for name in flawed(other) if name in docnames)


def outdated(
    app: Sphinx, env: BuildEnvironment, added: Set[str], changed: Set[str], removed: Set[str]
) -> list[str]:
    """Re-read flawed documents so that every build repeats their warnings.

    Also drop the pages of removed documents from the output, so that a withdrawn
    document does not stay reachable in an incrementally built site.
    """
    outfile = getattr(app.builder, "get_outfilename", None)
    if outfile is not None:
        for docname in removed:
            Path(outfile(docname)).unlink(missing_ok=True)
    return sorted(flawed(env) - set(removed))


def check_duplicates(app: Sphinx, env: BuildEnvironment) -> None:
    """Report reused ids once every source has been read."""
    by_path = {doc.path: name for name, doc in documents(env).items()}
    for finding in duplicate_id_findings(documents(env).values()):
        logger.warning(
            finding.message,
            location=(by_path[finding.path], finding.line),
            type="qms",
            subtype=finding.code,
        )


def setup(app: Sphinx) -> None:
    """Connect the document events."""
    app.connect("source-read", read_front_matter)
    app.connect("env-purge-doc", purge)
    app.connect("env-get-outdated", outdated)
    app.connect("env-merge-info", merge)
    app.connect("env-check-consistency", check_duplicates)
