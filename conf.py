"""Sphinx configuration of the handbook: loads the extensions and reads [tool.qms]."""

from __future__ import annotations

from pathlib import Path

from qms.config import load_config

_qms = load_config(Path(__file__).resolve().parent)

project = _qms.organisation
copyright = _qms.organisation
html_title = _qms.handbook_title
extensions = ["qms_sphinx"]
root_doc = "index"
html_theme = "furo"
html_last_updated_fmt = None
html_copy_source = False
