"""Sphinx extension that turns a folder of Markdown into a controlled ISMS handbook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

from qms import __version__
from qms_sphinx import (
    approvals,
    capa,
    catalogue,
    changes,
    completeness,
    control_block,
    dashboard,
    determinism,
    docrefs,
    documents,
    external,
    graph,
    impact,  # change impact (issue 17)
    metrics,
    navigation,
    need_findings,
    needs_purge,
    raw_html,
    register,
    release_diff,
    release_mode,
    search,
    superseded,
    templating,
    test_reports,  # validation kit (issue 19)
    training,
    validation,
    validation_report,  # validation kit (issue 19)
    views,
)
from qms_sphinx.needs_model import configure_needs
from qms_sphinx.settings import apply_settings

STATIC = Path(__file__).parent / "static"


def _add_static(app: Sphinx, config: Config) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def setup(app: Sphinx) -> dict[str, Any]:
    """Load MyST and sphinx-needs, then the handbook's own pieces."""
    app.setup_extension("myst_parser")
    app.setup_extension("sphinx_needs")
    app.add_config_value("qms_settings", None, "env", types=(dict, type(None)))
    app.connect("config-inited", apply_settings, priority=5)
    app.connect("config-inited", configure_needs, priority=5)
    app.connect("config-inited", _add_static)
    documents.setup(app)
    docrefs.setup(app)
    approvals.setup(app)
    control_block.setup(app)
    register.setup(app)
    training.setup(app)
    capa.setup(app)
    changes.setup(app)  # change control (issue 15)
    navigation.setup(app)
    need_findings.setup(app)
    needs_purge.setup(app)
    raw_html.setup(app)
    catalogue.setup(app)
    views.setup(app)
    completeness.setup(app)
    impact.setup(app)  # change impact (issue 17)
    graph.setup(app)  # retired items leave the back links (issue 17)
    external.setup(app)  # external documents (issue 17)
    release_diff.setup(app)  # release comparison (issue 17)
    metrics.setup(app)  # monitoring and measurement (issue 16)
    dashboard.setup(app)  # monitoring and measurement (issue 16)
    validation.setup(app)  # validation of the tool (issue 19)
    superseded.setup(app)
    release_mode.setup(app)
    test_reports.setup(app)  # validation kit (issue 19)
    validation_report.setup(app)  # validation kit (issue 19)
    search.setup(app)
    determinism.setup(app)
    templating.setup(app)
    app.add_css_file("qms.css")
    app.add_js_file("qms.js")
    app.add_js_file("qms-nav.js")
    return {
        "version": __version__,
        # Raised whenever what the extension keeps on the environment changes shape
        # (2: one SiteState, pages with their training), so an old pickle is re-read.
        "env_version": 2,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
