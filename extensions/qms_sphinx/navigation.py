"""Sidebar navigation grouped by document type, constant in size per page.

Themes render the global table of contents on every page, which makes a build
quadratic in the number of documents. The sidebar here lists the document types
(each linking to its index page) and, beneath the current page's type, only the
previous document, the current one, the next one and a link to all of them. The
full list of a type is written once per build into `_static/qms-nav-<type>.js`,
from which `qms-nav.js` fills the sidebar in the browser (a plain script file, so
it also works from file://). Each page costs the same however large the handbook.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.environment import BuildEnvironment
from sphinx.util.osutil import relative_uri

from qms.model.document import Document, DocumentType
from qms.model.registry import siblings_by_type
from qms.model.site_pages import HANDBOOK_PAGES, type_index
from qms.services.build_files import write_build_file
from qms_sphinx.state import Neighbour, documents, neighbours, retired, types_in_use
from qms_sphinx.templating import render


@dataclass(frozen=True)
class NavLink:
    """One sidebar entry: where it leads, its text, and whether it is or holds this page."""

    href: str
    text: str
    current: bool = False
    open: bool = False
    siblings: Siblings | None = None


@dataclass(frozen=True)
class Siblings:
    """Beneath the current page's type: previous, current and next document, and all."""

    type: str
    root: str
    current: str
    entries: tuple[NavLink, ...]


def render_navigation(app: Sphinx, pagename: str) -> str:
    """The sidebar HTML for one page, in the markup Sphinx's toctree produces."""
    env = app.env
    builder = app.builder

    def uri(target: str) -> str:
        return "#" if target == pagename else builder.get_relative_uri(pagename, target)

    found = env.found_docs
    current = documents(env).get(pagename)
    in_use = types_in_use(env)  # counted once per build, not once per page
    root_doc = env.config.root_doc
    site = [NavLink(uri(root_doc), "Home", pagename == root_doc)]
    site += [
        NavLink(uri(page), label, pagename == page)
        for page, label in HANDBOOK_PAGES
        if page in found
    ]
    types = []
    for doc_type in DocumentType:
        index = type_index(doc_type.folder)
        if doc_type not in in_use or index not in found:
            continue
        here = current is not None and current.type == doc_type
        # No counts in the label: they would go stale on pages not rewritten.
        below = _siblings(app, pagename, current, uri(index)) if here and current else None
        types.append(NavLink(uri(index), doc_type.plural, pagename == index, here, below))
    return render(app, "qms-sidebar.html", site=site, types=types)


def _listed(env: BuildEnvironment) -> dict[str, Document]:
    """The documents the sidebar lists: all but the retired, whose pages stay as archive
    copies reached from the register."""
    archived = retired(env)
    return {name: document for name, document in documents(env).items() if name not in archived}


def _label(document: Document) -> str:
    return f"{document.id} {document.title}"


def _siblings(app: Sphinx, pagename: str, current: Document, index_uri: str) -> Siblings:
    """Previous, current and next document of the type, and a link to all of them."""
    builder = app.builder
    before, after = neighbours(app.env).get(pagename, (None, None))
    entries = [NavLink(builder.get_relative_uri(pagename, before[0]), before[1])] if before else []
    entries.append(NavLink("#", _label(current), current=True))
    if after is not None:
        entries.append(NavLink(builder.get_relative_uri(pagename, after[0]), after[1]))
    # No count here: it would go stale on pages not rewritten; the script adds it.
    entries.append(NavLink(index_uri, f"All {current.type.plural.lower()}"))
    return Siblings(
        type=str(current.type),
        root=relative_uri(builder.get_target_uri(pagename), ""),
        current=builder.get_target_uri(pagename),
        entries=tuple(entries),
    )


def refresh_neighbours(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Find each document's previous and next sibling; return the pages whose changed.

    Adding, removing or retitling a document changes the sidebar of its two
    neighbours only, so only they are rewritten, not every page of the type.
    """
    listed = _listed(env)
    docnames = {document.path: name for name, document in listed.items()}
    found: dict[str, tuple[Neighbour | None, Neighbour | None]] = {}
    grouped = siblings_by_type(listed.values())
    types_in_use(env).clear()
    types_in_use(env).update(str(doc_type) for doc_type in grouped)
    for group in grouped.values():
        entries = [(docnames[d.path], _label(d)) for d in group]
        for at, (name, _) in enumerate(entries):
            before = entries[at - 1] if at > 0 else None
            after = entries[at + 1] if at + 1 < len(entries) else None
            found[name] = (before, after)
    previous = neighbours(env)
    changed = {name for name in found if previous.get(name) != found[name]}
    previous.clear()
    previous.update(found)
    return sorted(name for name in changed if name in env.found_docs)


def script_name(doc_type: DocumentType) -> str:
    """The static file that lists every document of `doc_type`."""
    return f"qms-nav-{doc_type}.js"


def write_scripts(app: Sphinx, builder: Builder) -> None:
    """Write the full list of each type once, before any page names its checksum."""
    if builder.format != "html" or not hasattr(builder, "get_relative_uri"):
        return
    static = Path(builder.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    listed = _listed(app.env)
    docnames = {document.path: name for name, document in listed.items()}
    for doc_type, group in sorted(siblings_by_type(listed.values()).items()):
        data = {
            "label": doc_type.plural,
            "pages": [[builder.get_target_uri(docnames[d.path]), d.id, d.title] for d in group],
        }
        # ensure_ascii keeps U+2028 and friends out of the script; sorted and
        # without timestamps, so that two builds of a release give the same bytes.
        payload = json.dumps(data, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
        text = (
            f"/* The {doc_type.plural.lower()} of this build, for the sidebar (qms-nav.js). */\n"
            f"(window.qmsNav = window.qmsNav || {{}})[{json.dumps(str(doc_type))}] = {payload};\n"
        )
        write_build_file(static / script_name(doc_type), text.encode("utf-8"))


def replace_toctree(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: object
) -> None:
    """Give the theme our grouped navigation wherever it asks for the global toctree."""
    if "toctree" not in context or not hasattr(app.builder, "get_relative_uri"):
        return
    html = render_navigation(app, pagename)
    current = documents(app.env).get(pagename)
    if current is not None:
        app.add_js_file(script_name(current.type))  # this page only (Sphinx resets after it)

    def toctree(**_: Any) -> str:
        return html

    context["toctree"] = toctree


def setup(app: Sphinx) -> None:
    """Run before the theme's own page-context handler (priority 500)."""
    app.connect("env-updated", refresh_neighbours)
    app.connect("write-started", write_scripts)
    app.connect("html-page-context", replace_toctree, priority=400)
