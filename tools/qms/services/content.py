"""What a signature binds: the SHA-256 of a document's source and of the files it includes."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from markdown_it import MarkdownIt

from qms.config import QmsConfig
from qms.model.document import Document
from qms.model.line_endings import to_lf

# MyST directive fences (```, ~~~ or :::) and reStructuredText directives (inside
# {eval-rst}) that pull another file into the page: images, tables from CSV, code.
_INCLUDE = re.compile(
    r"^\s*(?:(?:`{3,}|~{3,}|:{3,})\{(?:include|literalinclude|image|figure|csv-table)\}"
    r"|\.\.\s+(?:include|literalinclude|image|figure)::)\s+(\S+)"
    r"|^\s*:file:\s+(\S+)",
    re.MULTILINE,
)
# Markdown images, ![alt](path) or ![alt][ref], read by a CommonMark parser (as MyST
# reads them), so that every form a reader sees is bound like an image directive.
_MARKDOWN = MarkdownIt("commonmark")
# Targets that are not files of the handbook.
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|#)", re.IGNORECASE)
# Included Markdown may include in turn; cycles and runaway depth stop here.
MAX_DEPTH = 8


@dataclass(frozen=True)
class Content:
    """The digests a statement records."""

    sha256: str
    includes: tuple[tuple[str, str], ...]


def sha256_of(data: bytes) -> str:
    """Hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def document_content(config: QmsConfig, document: Document) -> Content:
    """Digest the document file exactly as stored, and every file it pulls in, recursively."""
    path = config.root / document.path
    data = path.read_bytes()
    includes: dict[str, str] = {}
    _collect(config, path, data, includes, depth=0)
    return Content(sha256_of(data), tuple(sorted(includes.items())))


def crlf_only_difference(
    config: QmsConfig, document: Document, sha256: str, includes: tuple[tuple[str, str], ...]
) -> str:
    """The first file of `document` whose only difference from signed digests is CRLF.

    Every file must match its signed digest exactly or once CRLF is turned into LF, and
    the same files must be pulled in; otherwise (or if nothing differs) the answer is "".
    Only ever used to explain a failure: such a copy still does not count as signed.
    """
    current = document_content(config, document)
    signed = {document.path: sha256, **dict(includes)}
    found = {document.path: current.sha256, **dict(current.includes)}
    if signed.keys() != found.keys():
        return ""
    damaged = [key for key in sorted(found) if found[key] != signed[key]]
    for key in damaged:
        path = config.root / key
        if not path.is_file() or sha256_of(to_lf(path.read_bytes())) != signed[key]:
            return ""
    return damaged[0] if damaged else ""


def included_files(config: QmsConfig, document: Document) -> list[Path]:
    """The files a document pulls in (those that exist), for checks such as 'committed'."""
    return [
        config.root / key
        for key, digest in document_content(config, document).includes
        if digest != "missing" and (config.root / key).is_file()
    ]


def _collect(config: QmsConfig, path: Path, data: bytes, found: dict[str, str], depth: int) -> None:
    if depth >= MAX_DEPTH:
        return
    text = data.decode("utf-8", errors="replace")
    targets = [m.group(1) or m.group(2) for m in _INCLUDE.finditer(text)]
    targets += [src for src in _markdown_images(text) if not _REMOTE.match(src)]
    for target in targets:
        # MyST resolves "/x" from the source folder and anything else from the file.
        base = config.docs_path if target.startswith("/") else path.parent
        included = (base / target.lstrip("/")).resolve()
        key = _display(config.root, included)
        if key in found:
            continue
        if not included.is_file():
            found[key] = "missing"
            continue
        content = included.read_bytes()
        found[key] = sha256_of(content)
        if included.suffix in (".md", ".rst", ".txt"):
            _collect(config, included, content, found, depth + 1)


def _markdown_images(text: str) -> list[str]:
    """The sources of the Markdown images in `text`, also inside directive fences."""
    if "![" not in text:
        return []
    found: list[str] = []
    for token in _MARKDOWN.parse(text):
        if token.type == "inline":
            found += [
                unquote(str(child.attrGet("src")))
                for child in token.children or []
                if child.type == "image"
            ]
        elif token.type == "fence" and token.info.startswith("{"):
            found += _markdown_images(token.content)  # a directive's body is Markdown too
    return found


def _display(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
