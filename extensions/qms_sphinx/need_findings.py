"""Field and schema violations found by sphinx-needs, reported again at `file:line`.

sphinx-needs validates need fields against the schemas of the traceability model
and writes the result to ``schema_violations.json``, but logs it without a source
location. Authors need the location, so its unlocated messages are suppressed and
each violation is logged here at the need's own line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.config import Config
from sphinx.util import logging
from sphinx_needs.api import get_needs_view

from qms_sphinx.needs_model import allowed_values

logger = logging.getLogger(__name__)

REPORT = "schema_violations.json"
SUPPRESSED = "sn_schema_violation"


def suppress_unlocated(app: Sphinx, config: Config) -> None:
    """Hide sphinx-needs' own schema messages; `relocate` reports them with a location."""
    config.suppress_warnings = [*config.suppress_warnings, SUPPRESSED]


def _messages(entry: dict[str, Any], need_type: str) -> list[str]:
    """The readable lines of one reported violation and its nested causes."""
    details = entry.get("details", {})
    found: list[str] = []
    message = str(details.get("validation_msg", ""))
    field = str(details.get("field", ""))
    if message and field:
        allowed = allowed_values(need_type, field)
        found.append(f"field '{field}': {message}" + (f"; allowed: {allowed}" if allowed else ""))
    elif message:
        rule = str(details.get("user_msg", ""))
        found.append(f"{rule}: {message}" if rule else message)
    for child in entry.get("children", []):
        found.extend(_messages(child, need_type))
    return found


def relocate(app: Sphinx, builder: Builder) -> None:
    """Log each schema violation of the report at its need's file and line."""
    report = Path(app.outdir) / REPORT
    if not report.is_file():
        return
    violations: dict[str, list[dict[str, Any]]] = json.loads(
        report.read_text(encoding="utf-8")
    ).get("validation_warnings", {})
    needs = get_needs_view(app)
    for need_id in sorted(violations):
        need = needs.get(need_id)
        location = (need["docname"], need["lineno"]) if need is not None else None
        need_type = need["type"] if need is not None else ""
        for entry in violations[need_id]:
            for message in _messages(entry, need_type):
                logger.warning(
                    f"need {need_id}: {message}",
                    location=location,
                    type="qms",
                    subtype="need-field",
                )


def setup(app: Sphinx) -> None:
    """Run after sphinx-needs has validated (it does so on write-started)."""
    app.connect("config-inited", suppress_unlocated)
    app.connect("write-started", relocate, priority=600)
