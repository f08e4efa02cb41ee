"""Field and schema violations, validated by sphinx-needs per document and logged at `file:line`.

sphinx-needs validates every need against the schemas of the traceability model on
every build, and logs the result without a source location. Authors need the
location, and an incremental build should not re-validate thousands of needs nobody
touched. So sphinx-needs' own pass is replaced by one that runs the same validators
over the needs of re-read documents only, keeps each document's violations beside the
environment, and logs all of them, each at its need's own line, on every build.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.config import Config
from sphinx.util import logging
from sphinx_needs.api import get_needs_view
from sphinx_needs.config import NeedsSphinxConfig
from sphinx_needs.data import SphinxNeedsData
from sphinx_needs.needsfile import generate_needs_schema
from sphinx_needs.schema import process as needs_schema_process
from sphinx_needs.schema.core import validate_field_link_schemas, validate_type_schema
from sphinx_needs.schema.reporting import (
    JSONFormattedWarning,
    OntologyWarning,
    get_json_formatted_warnings,
)
from sphinx_needs.views import NeedsView

from qms.model.findings import FindingCode
from qms.model.vocabulary import allowed_values
from qms.services.build_files import write_build_file
from qms_sphinx.listeners import replace_listener

logger = logging.getLogger(__name__)

SUPPRESSED = "sn_schema_violation"
# Beside the saved environment: the violations of each document as last validated.
CACHE = "qms-need-violations.json"
# Schemas that look at linked needs: a change elsewhere can change their verdict.
_NETWORK = ("network", "network_back")


def suppress_unlocated(app: Sphinx, config: Config) -> None:
    """Hide sphinx-needs' own schema messages, should its pass ever run as well."""
    config.suppress_warnings = [*config.suppress_warnings, SUPPRESSED]


def _messages(entry: Mapping[str, Any], need_type: str) -> list[str]:
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


def _validate(app: Sphinx, needs: NeedsView) -> dict[str, list[JSONFormattedWarning]]:
    """sphinx-needs' field, link and type validation of `needs`, as report entries."""
    config = NeedsSphinxConfig(app.config)
    data = SphinxNeedsData(app.env)
    fields_schema = data.get_schema()
    found: dict[str, list[OntologyWarning]] = {}
    for need_id, warnings in validate_field_link_schemas(config, fields_schema, needs).items():
        found.setdefault(need_id, []).extend(warnings)
    type_schemas = data.get_resolved_schemas()
    if type_schemas:
        properties = generate_needs_schema(fields_schema)["properties"]
        for schema in type_schemas:
            checked = validate_type_schema(
                config, schema, needs, properties, fields_schema=fields_schema
            )
            for need_id, warnings in checked.items():
                found.setdefault(need_id, []).extend(warnings)
    return get_json_formatted_warnings(found)


def _schemas_digest(app: Sphinx) -> tuple[str, bool]:
    """A digest of the field and type schemas in force, and whether any looks across links."""
    data = SphinxNeedsData(app.env)
    schemas = data.get_resolved_schemas()
    fields = generate_needs_schema(data.get_schema())
    text = json.dumps([fields, schemas], sort_keys=True, default=str)
    local_only = all(
        not any(key in schema.get("validate", {}) for key in _NETWORK) for schema in schemas
    )
    return hashlib.sha256(text.encode()).hexdigest(), local_only


def _load(path: Path, digest: str) -> dict[str, Any]:
    """The kept violations by document, if made under the same schemas; else none."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict) or kept.get("digest") != digest:
        return {}
    documents = kept.get("documents")
    return documents if isinstance(documents, dict) else {}


def validate(app: Sphinx, builder: Builder) -> None:
    """Validate the needs of documents read since their last validation; log them all."""
    if not NeedsSphinxConfig(app.config).schema_validation_enabled:
        return
    needs = get_needs_view(app)
    digest, local_only = _schemas_digest(app)
    # The environment is saved before the write phase, so what is learnt here is kept
    # beside it, stamped with each document's time of reading.
    path = Path(app.doctreedir) / CACHE
    # needextend lets one document change another's needs: then nothing is kept.
    independent = local_only and not SphinxNeedsData(app.env).get_or_create_extends()
    kept = _load(path, digest) if independent else {}
    by_doc: dict[str, list[str]] = {}
    for need_id, need in needs.items():
        by_doc.setdefault(need["docname"] or "", []).append(need_id)
    read_at = {docname: app.env.all_docs.get(docname, 0) for docname in by_doc}
    # Needs without a source document (imported ones) have no stamp: always validated.
    stale = [d for d in by_doc if not d or kept.get(d, {}).get("read") != read_at[d]]
    if stale:
        found = _validate(app, needs.filter_ids(i for d in stale for i in by_doc[d]))
        for docname in stale:
            violations = {i: found[i] for i in by_doc[docname] if i in found}
            kept[docname] = {"read": read_at[docname], "violations": violations}
        documents = {d: kept[d] for d in by_doc}
        write_build_file(path, json.dumps({"digest": digest, "documents": documents}).encode())
    for docname in sorted(by_doc):
        violations = kept[docname]["violations"]
        for need_id in sorted(violations):
            need = needs[need_id]
            location = (docname, need["lineno"]) if docname else None
            for entry in violations[need_id]:
                for message in _messages(entry, need["type"]):
                    logger.warning(
                        f"need {need_id}: {message}",
                        location=location,
                        type="qms",
                        subtype=FindingCode.NEED_FIELD,
                    )


def setup(app: Sphinx) -> None:
    """Validate on write-started, where sphinx-needs would."""
    replace_listener(
        app, "write-started", needs_schema_process.process_schemas, validate, priority=600
    )
    app.connect("config-inited", suppress_unlocated)
