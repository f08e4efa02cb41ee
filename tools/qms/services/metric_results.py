"""Reading the manual KPI results of a handbook from its data folder (docs/_metrics/)."""

from __future__ import annotations

from pathlib import Path

from qms.adapters.files import read_text
from qms.model.findings import Finding
from qms.model.metrics import ResultFile, parse_results

RESULTS_FOLDER = "_metrics"


def load_results(
    folder: Path, shown_from: Path
) -> tuple[tuple[ResultFile, ...], tuple[Finding, ...]]:
    """Read every `*.yaml` in `folder`; paths in findings are relative to `shown_from`."""
    files: list[ResultFile] = []
    findings: list[Finding] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        shown = (
            path.relative_to(shown_from).as_posix()
            if path.is_relative_to(shown_from)
            else str(path)
        )
        found, problems = parse_results(shown, read_text(path))
        findings.extend(problems)
        if found is not None:
            files.append(found)
    return tuple(files), tuple(findings)
