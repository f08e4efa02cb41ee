"""Document ids written in prose (`see POL-DI-001`) become links to those documents.

Authors already write ids in running text. While a page is read, each id-shaped token
outside code, links and headings is wrapped in a placeholder and remembered with its
line; once every page is read, the tokens whose first segment is a document prefix in
use (POL, SOP, ...) but that name no document are located warnings, and when a page is
written each placeholder becomes a relative link, or plain text when the id is not a
document of this build (need ids, or a document outside a release's set).
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

from qms.model.docrefs import DocumentIds, id_mentions
from qms.model.findings import FindingCode
from qms_sphinx.release_mode import release_of
from qms_sphinx.state import Mention, controlled, documents, id_targets, mentions

logger = logging.getLogger(__name__)

# Text inside these is never a reference: code, headings, links and markup that is not prose.
_SKIPPED = (
    nodes.literal, nodes.FixedTextElement, nodes.title, nodes.subtitle, nodes.rubric,
    nodes.raw, nodes.comment, nodes.target, nodes.reference, nodes.math, nodes.Invisible,
    addnodes.pending_xref, addnodes.toctree,
)  # fmt: skip
_LINK_ATTRIBUTES = ("refuri", "refid", "reftarget", "refname")


class document_reference(nodes.Inline, nodes.TextElement):  # noqa: N801 - docutils naming
    """An id in prose, resolved when the page is written."""


def _skipped(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, (*_SKIPPED, document_reference)):  # wrapped once only
            return True
        # Inline markup that links somewhere (roles, need references); a need itself
        # has a refid too, but its content is prose.
        if (
            isinstance(parent, nodes.Inline)
            and isinstance(parent, nodes.Element)
            and any(a in parent.attributes for a in _LINK_ATTRIBUTES)
        ):
            return True
        parent = parent.parent
    return False


class WrapDocumentIds(SphinxTransform):
    """Wrap every id-shaped token of the prose in a placeholder, remembering its line."""

    default_priority = 800

    def apply(self, **kwargs: Any) -> None:
        found: list[Mention] = []
        blocks = [
            n
            for n in self.document.findall(nodes.TextElement)
            if not isinstance(n, nodes.Inline) and not _skipped(n) and not isinstance(n, _SKIPPED)
        ]
        for block in blocks:
            newlines = 0  # the text before a node, for the line an id is on
            for text in list(block.findall(nodes.Text)):
                content = str(text)
                if not _skipped(text):
                    found += self._wrap(text, content, block.line, newlines)
                newlines += content.count("\n")
        mentions(self.env)[self.env.docname] = tuple(found)

    @staticmethod
    def _wrap(text: nodes.Text, content: str, line: int | None, newlines: int) -> list[Mention]:
        pieces: list[nodes.Node] = []
        found: list[Mention] = []
        at = 0
        for mention in id_mentions(content):
            pieces.append(nodes.Text(content[at : mention.start]))
            pieces.append(document_reference("", mention.text, qms_id=mention.text))
            found.append(
                (mention.text, None if line is None else line + newlines + mention.line_offset)
            )
            at = mention.end
        if pieces:
            pieces.append(nodes.Text(content[at:]))
            text.parent.replace(text, [p for p in pieces if not isinstance(p, nodes.Text) or p])
        return found


def exact_line(app: Sphinx, docname: str, token: str, line: int | None) -> int | None:
    """The first line from `line` on that holds `token`: the parser gives one line per
    paragraph or table, not per row or soft-wrapped line."""
    if line is None:
        return None
    lines = app.env.doc2path(docname).read_text(encoding="utf-8-sig").splitlines()
    found = (at for at in range(line - 1, len(lines)) if token in lines[at])
    return next(found, line - 1) + 1


def warn_unknown(app: Sphinx, env: BuildEnvironment) -> None:
    """Each id that looks like a document's but names none, at its line, in every build."""
    if release_of(app.config) is not None:
        return  # a set's build lacks the other documents; the handbook passed check before
    known = DocumentIds.of(document.id for document in documents(env).values())
    # A page with unreadable front matter already warns; its body may be that front matter.
    unreadable = controlled(env) - documents(env).keys()
    for docname in sorted(mentions(env).keys() - unreadable):
        for token, line in known.unknown(mentions(env)[docname]):
            logger.warning(
                f"{token} is not the id of any document: correct it, or write it as code "
                f"(`{token}`) if it is not meant as a reference",
                location=(docname, exact_line(app, docname, token, line)),
                type="qms",
                subtype=FindingCode.DOCREF,
            )


def refresh_targets(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Warn about unknown ids; return the pages whose references now point elsewhere.

    Runs after every read phase, so an incremental build warns as a full one does.
    """
    warn_unknown(app, env)
    targets = {doc.id: (name, doc.title) for name, doc in sorted(documents(env).items())}
    previous = id_targets(env)
    changed = {
        docname
        for docname, found in mentions(env).items()
        if any(previous.get(token) != targets.get(token) for token, _ in found)
    }
    previous.clear()
    previous.update(targets)
    return sorted(name for name in changed if name in env.found_docs)


def resolve(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Each placeholder becomes a relative link to its document, or stays plain text."""
    targets = id_targets(app.env)
    for placeholder in list(doctree.findall(document_reference)):
        token = placeholder["qms_id"]
        target = targets.get(token)
        if target is None or target[0] == docname or app.builder.format != "html":
            placeholder.replace_self(nodes.Text(token))
            continue
        uri = app.builder.get_relative_uri(docname, target[0])
        link = nodes.reference("", token, internal=True, refuri=uri, reftitle=target[1])
        link["classes"].append("qms-docref")
        placeholder.replace_self(link)


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """Forget a page that is about to be re-read or was removed."""
    mentions(env).pop(docname, None)


def merge(app: Sphinx, env: BuildEnvironment, docnames: Set[str], other: BuildEnvironment) -> None:
    """Take over what a parallel reader process found."""
    theirs = mentions(other)
    mentions(env).update({name: theirs[name] for name in docnames if name in theirs})


def setup(app: Sphinx) -> None:
    """Wrap ids while reading; check them after reading; link them when writing."""
    app.add_node(document_reference)
    app.add_transform(WrapDocumentIds)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-updated", refresh_targets)
    app.connect("doctree-resolved", resolve, priority=400)
