"""Where the validation results live in a handbook: the IQ record and the OQ's JUnit XML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.installation import SCHEMA as IQ_SCHEMA
from qms.model.oq_results import OqResults, ResultsError, parse_junit
from qms.model.parsing import load_json
from qms.model.schemas import problems

# Below the docs folder, so that the validation report includes them (and its approval
# binds their bytes: services/content.py), but in a folder Sphinx never reads as a page.
RESULTS = Path("validation") / "_results"
IQ_RECORD = "iq.json"
OQ_JUNIT = "oq-junit.xml"


def iq_record_path(config: QmsConfig) -> Path:
    """The default IQ record of a handbook."""
    return config.docs_path / RESULTS / IQ_RECORD


def oq_junit_path(config: QmsConfig) -> Path:
    """The default OQ results of a handbook."""
    return config.docs_path / RESULTS / OQ_JUNIT


def read_oq_results(path: Path) -> OqResults:
    """The OQ results at `path`; a one-line error saying what to do otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QmsError(f"no OQ results at {path}", "run 'qms validate oq' to write them") from exc
    try:
        return parse_junit(data)
    except ResultsError as exc:
        raise QmsError(
            f"{path} is not OQ results: {exc}", "run 'qms validate oq' to write them again"
        ) from exc


def read_iq_record(path: Path) -> dict[str, Any]:
    """The IQ record at `path` as data its schema accepts; a one-line error otherwise."""
    try:
        raw = load_json(path.read_bytes())
    except OSError as exc:
        raise QmsError(f"no IQ record at {path}", "run 'qms validate iq' to write it") from exc
    except ValueError as exc:
        raise QmsError(f"{path} is not JSON: {exc}", "run 'qms validate iq' again") from exc
    found = problems(IQ_SCHEMA, raw)
    if found:
        raise QmsError(f"{path} is not an IQ record: {found[0].message}", "run 'qms validate iq'")
    return dict(raw)
