"""The extension's Jinja templates (`templates/`), rendered by the HTML builder's own loader.

Sphinx's template environment does not escape by default (theme templates pass HTML
through), so each of these templates opens `{% autoescape true %}` itself. Each is
compiled once per build, not once per page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from jinja2 import Environment, Template
from markupsafe import Markup
from sphinx.application import Sphinx
from sphinx.jinja2glue import BuiltinTemplateLoader, SphinxFileSystemLoader

from qms.model.css import css_string

TEMPLATES = Path(__file__).parent / "templates"

_compiled: WeakKeyDictionary[Environment, dict[str, Template]] = WeakKeyDictionary()


def css_string_filter(text: str) -> Markup:
    """`text` as a CSS string that cannot leave its style element (see `model/css.py`)."""
    return Markup(css_string(text))  # noqa: S704 - css_string escapes every unsafe character


def _bridge(app: Sphinx) -> BuiltinTemplateLoader | None:
    bridge = getattr(app.builder, "templates", None)
    return bridge if isinstance(bridge, BuiltinTemplateLoader) else None


def add_templates(app: Sphinx) -> None:
    """Let the builder find the extension's templates after the project's and the theme's."""
    bridge = _bridge(app)
    if bridge is None:
        return
    bridge.loaders.append(SphinxFileSystemLoader(TEMPLATES))
    bridge.environment.filters["css_string"] = css_string_filter


def render(app: Sphinx, name: str, **context: Any) -> str:
    """Render the extension's template `name` with `context`."""
    bridge = _bridge(app)
    if bridge is None:
        raise RuntimeError(f"{name}: the builder has no Jinja template loader")
    compiled = _compiled.setdefault(bridge.environment, {})
    template = compiled.get(name)
    if template is None:
        template = compiled[name] = bridge.environment.get_template(name)
    return template.render(context)


def setup(app: Sphinx) -> None:
    """Add the templates once the builder exists."""
    app.connect("builder-inited", add_templates)
