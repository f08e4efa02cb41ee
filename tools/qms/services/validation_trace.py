"""The trace of the user requirements to the OQ suite's tests, read from the suite's source."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path

from qms.adapters.files import files_under, read_text
from qms.model.requirement_markers import MarkerProblem, markers_in
from qms.model.validation_trace import SuiteMarkers, UrsItem, ValidationTrace, trace

# The operational qualification shipped with the product (tools/qms/oq/).
OQ_PACKAGE = "qms.oq"
TEST_MODULE = "test_"


def installed_suite() -> Path | None:
    """The folder of the installed OQ suite, found without importing it; None if absent."""
    try:
        spec = importlib.util.find_spec(OQ_PACKAGE)
    except ModuleNotFoundError:
        return None
    locations = list(spec.submodule_search_locations or ()) if spec else []
    return Path(locations[0]) if locations else None


def suite_markers(suite: Path | None) -> SuiteMarkers:
    """Every requirement marker of the suite's test modules, read from source, never run.

    A suite that is not there marks nothing: every requirement then lacks its test.
    """
    if suite is None or not suite.is_dir():
        return SuiteMarkers()
    markers = []
    problems = []
    for path in files_under(suite, ".py"):
        if not path.name.startswith(TEST_MODULE):
            continue
        module = path.relative_to(suite).as_posix()
        try:
            source = read_text(path)
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(MarkerProblem(str(path), 1, f"cannot be read as UTF-8 text: {exc}"))
            continue
        read = markers_in(source, str(path))
        markers += [(module, marker) for marker in read.markers]
        problems += read.problems
    return SuiteMarkers(tuple(markers), tuple(problems))


def trace_of(urs_items: Iterable[UrsItem], suite: Path | None = None) -> ValidationTrace:
    """Each user requirement with the tests that verify it, and the trace's findings.

    `suite` is a folder of test modules; by default the installed `qms.oq` package.
    """
    return trace(urs_items, suite_markers(suite if suite is not None else installed_suite()))
