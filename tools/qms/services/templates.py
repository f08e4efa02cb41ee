"""The Jinja templates of the pages and scripts the qms command writes outside Sphinx."""

from __future__ import annotations

import json
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup


def js_string(text: str) -> Markup:
    """`text` as a JavaScript string literal (ASCII only, so no U+2028 ends a line).

    For a script file, not inline in HTML: "</script>" needs no escaping there.
    """
    return Markup(json.dumps(text))  # noqa: S704 - json.dumps escapes for a JS string


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("qms", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["js_string"] = js_string
    return environment


@cache
def template(name: str) -> Template:
    """The template `name` from `qms/templates/`, compiled once per process."""
    return _environment().get_template(name)


def render(name: str, **context: object) -> str:
    """Render the template `name` with `context` (every value is escaped unless Markup)."""
    return template(name).render(**context)
