"""CSS string literals that no text can break out of: not a quote, a newline or a tag."""

from __future__ import annotations

# Characters a CSS string may hold as they are; every other one (quotes, backslashes, all
# control characters including CR and FF, "<") is written as a six-digit hex escape, so
# neither the string's quote, a line end nor "</style>" can end it early.
_CSS_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_()")


def css_string(text: str) -> str:
    """`text` as a quoted CSS string, safe in a stylesheet and inside an HTML style element."""
    return '"' + "".join(c if c in _CSS_PLAIN else f"\\{ord(c):06x}" for c in text) + '"'
