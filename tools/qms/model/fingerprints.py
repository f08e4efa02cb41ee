"""Content fingerprints of traceable items: what changes an item, and nothing else.

A fingerprint is the SHA-256 of an item's type, title, body and fields, each with its
whitespace collapsed (so re-wrapping, indenting or CRLF line endings never change it),
and of the targets of its links as a sorted set. It does not depend on anything else in
the document that holds the item, nor on where in it the item stands.
"""

from __future__ import annotations

import hashlib
import json

from qms.model.need_source import Item
from qms.model.vocabulary import LINK_NAMES

# The version of the recipe below; a change to it would make every link suspect at once.
RECIPE = "qms-item/1"


def normalised(text: str) -> str:
    """Text with every run of whitespace (line endings included) as one space, trimmed."""
    return " ".join(text.split())


def _value(name: str, value: str) -> str | list[str]:
    if name in LINK_NAMES:
        return sorted({normalised(t) for t in value.split(",") if t.strip()})
    return normalised(value)


def fingerprint(item: Item) -> str:
    """The item's content fingerprint (hex SHA-256)."""
    fields = {name: _value(name, value) for name, value in item.fields}
    data = {
        "recipe": RECIPE,
        "type": item.type,
        "title": normalised(item.title),
        "body": normalised(item.body),
        # An empty field says nothing more than an absent one.
        "fields": {k: v for k, v in sorted(fields.items()) if v},
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def short(digest: str) -> str:
    """A fingerprint as people read it: its first 12 hex digits."""
    return digest[:12]
