"""A superseded version's approved Markdown as a read-only HTML page, not as raw source.

The old source cannot go through Sphinx again: its ids and needs would clash with the
version in force. It is rendered with the CommonMark parser MyST itself builds on, raw
HTML off. MyST directive fences (needs, admonitions) become labelled blocks with their
fields; links to pages of this build point to them from the superseded/ folder, and links
to anything else are kept as text, so no link of a published set is dead. Images are not
carried (the version in force may no longer ship them): their text stands in.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from qms.model.frontmatter import split_front_matter

_DIRECTIVE = re.compile(r"^\{([\w:-]+)\}\s*(.*)$")
_OPTION = re.compile(r"^:([\w-]+):\s*(.*)$")


def _body_of(source: str) -> str:
    """The source without its front matter (the page's own header states the facts)."""
    try:
        block = split_front_matter(source)
    except ValueError:
        return source
    if block is None:
        return source
    lines = source.removeprefix("\ufeff").split("\n")
    return "\n".join(lines[block.first_line + block.text.count("\n") :])


@cache
def _markup() -> Any:
    """The macros of `templates/qms-superseded-markdown.html`, compiled once per process.

    A plain autoescaping environment: this Markdown is rendered by markdown-it, not Sphinx.
    """
    environment = Environment(
        loader=PackageLoader("qms_sphinx", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
    )
    return environment.get_template("qms-superseded-markdown.html").module


def render_superseded(source: str, docname: str, exists: Callable[[str], bool]) -> str:
    """HTML of the Markdown `source` of an old version of `docname`.

    `exists(docname)` tells whether a page is part of this build.
    """
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    # Each rule is bound to the renderer, so it receives the renderer first.
    folder = posixpath.dirname(docname)

    def fence(_: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        match = _DIRECTIVE.match(token.info.strip())
        if match is None:
            return str(_markup().code(token.content))
        name, title = match.groups()
        fields: list[tuple[str, str]] = []
        body: list[str] = []
        for line in token.content.splitlines():
            option = _OPTION.match(line)
            if option and not body:
                fields.append((option.group(1), option.group(2)))
            else:
                body.append(line)
        text = "\n".join(body)
        # Markdown rendered by this same renderer: raw HTML off, every text escaped.
        inner = Markup(md.render(text)) if text.strip() else Markup()  # noqa: S704
        return str(_markup().directive(name, title, fields, inner))

    def link_open(_: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        href = str(token.attrGet("href") or "")
        if re.match(r"^(https?|mailto):", href, re.I):
            return str(_markup().link(href))
        target = _target(href, folder)
        if target is None or not exists(target[0]):
            token.meta["dropped"] = True
            return str(_markup().dropped_link())
        page = posixpath.relpath(f"{target[0]}.html", "superseded")
        return str(_markup().link(page + target[1]))

    def link_close(_: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        opener = next(t for t in reversed(tokens[:idx]) if t.type == "link_open")
        return "</span>" if opener.meta.get("dropped") else "</a>"

    def image(_: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        alt = tokens[idx].content or "image"
        return str(_markup().image(alt))

    md.add_render_rule("fence", fence)
    md.add_render_rule("link_open", link_open)
    md.add_render_rule("link_close", link_close)
    md.add_render_rule("image", image)
    html: str = md.render(_body_of(source))
    return html


def _target(href: str, folder: str) -> tuple[str, str] | None:
    """(docname, "#fragment" or "") of a relative link to a Markdown page; None otherwise."""
    if not href or re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I) or href.startswith(("#", "/")):
        return None
    path, _, fragment = href.partition("#")
    if not path.endswith(".md"):
        return None
    docname = posixpath.normpath(posixpath.join(folder, path.removesuffix(".md")))
    if docname.startswith(".."):
        return None
    return docname, f"#{fragment}" if fragment else ""
