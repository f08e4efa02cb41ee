"""Helpers for reading what a Sphinx test build said and wrote."""

from __future__ import annotations

import re

from sphinx.testing.util import SphinxTestApp

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def warnings(app: SphinxTestApp, prefix: str = "") -> list[str]:
    """The build's warning lines, paths relative to the source folder.

    With `prefix`, only lines whose `[type.subtype]` tag starts with it.
    """
    text = _ANSI.sub("", app.warning.getvalue())
    lines = [line.replace(f"{app.srcdir}/", "") for line in text.splitlines() if line.strip()]
    if prefix:
        lines = [line for line in lines if f"[{prefix}" in line]
    return lines


def page(app: SphinxTestApp, docname: str) -> str:
    """The HTML written for `docname`."""
    return (app.outdir / f"{docname}.html").read_text(encoding="utf-8")
