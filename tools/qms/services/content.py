"""What a signature binds: the SHA-256 of a document's source and of the files it includes."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from qms.config import QmsConfig
from qms.model.document import Document

_INCLUDE = re.compile(r"^\s*(?:`{3,}|:{3,})\{(?:include|literalinclude)\}\s+(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Content:
    """The digests a statement records."""

    sha256: str
    includes: tuple[tuple[str, str], ...]


def sha256_of(data: bytes) -> str:
    """Hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def document_content(config: QmsConfig, document: Document) -> Content:
    """Digest the document file exactly as stored, and every file it includes."""
    path = config.root / document.path
    data = path.read_bytes()
    includes: dict[str, str] = {}
    for target in _INCLUDE.findall(data.decode("utf-8", errors="replace")):
        # MyST resolves "/x" from the source folder and anything else from the document.
        base = config.docs_path if target.startswith("/") else path.parent
        included = (base / target.lstrip("/")).resolve()
        key = _display(config.root, included)
        includes[key] = sha256_of(included.read_bytes()) if included.is_file() else "missing"
    return Content(sha256_of(data), tuple(sorted(includes.items())))


def _display(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
