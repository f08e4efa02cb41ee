"""Bridging `[tool.qms]` into Sphinx: one config value, validated at start-up."""

from __future__ import annotations

import weakref
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError as SphinxConfigError

from qms.config import QmsConfig, config_from_table, read_table
from qms.errors import QmsError
from qms.services.handbook import EXCLUDED_SOURCES

# Validated once per application; parallel workers inherit it when they fork.
_CACHE: weakref.WeakKeyDictionary[Sphinx, QmsConfig] = weakref.WeakKeyDictionary()


def apply_settings(app: Sphinx, config: Config) -> None:
    """Read `[tool.qms]` (unless conf.py gave `qms_settings`) and set the parsers up."""
    if config.qms_settings is None:
        try:
            config.qms_settings = read_table(Path(app.confdir)) or {}
        except QmsError as exc:
            raise SphinxConfigError(str(exc)) from exc
    settings(app)  # validate now, so a bad table stops the build before any reading
    config.myst_enable_extensions = sorted({*config.myst_enable_extensions, "colon_fence"})
    # Front matter is validated by qms with precise locations; MyST's own, vaguer
    # "Malformed YAML" warning would only repeat it.
    config.suppress_warnings = [*config.suppress_warnings, "myst.topmatter"]
    # The same sources as the qms command reads: no build output, templates or dotfiles.
    config.exclude_patterns = [*config.exclude_patterns, *EXCLUDED_SOURCES]


def settings(app: Sphinx) -> QmsConfig:
    """The validated handbook settings of this build."""
    cached = _CACHE.get(app)
    if cached is None:
        try:
            cached = config_from_table(Path(app.confdir), app.config.qms_settings or {})
        except QmsError as exc:
            raise SphinxConfigError(str(exc)) from exc
        _CACHE[app] = cached
    return cached
