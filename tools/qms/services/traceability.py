"""Auditor exports: the SoA and the risk register, from the same graph the site renders."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.csvcells import csv_text
from qms.model.findings import Finding
from qms.model.traceability import Graph, Need, soa_rows
from qms.services.sphinx_run import run_sphinx

FORMATS = ("csv", "json", "markdown")


@dataclass(frozen=True)
class GraphRun:
    """The handbook's traceability graph and the warnings of the read that built it."""

    graph: Graph
    findings: tuple[Finding, ...]


def load_graph(config: QmsConfig, kept: Path | None = None) -> GraphRun:
    """Read the whole handbook with Sphinx (needs builder) and build the graph; with `kept`,
    a folder whose Sphinx environment a read of another tree left, only what changed."""
    with tempfile.TemporaryDirectory(prefix="qms-needs-") as scratch:
        outdir = kept / "needs" if kept is not None else Path(scratch) / "needs"
        run = run_sphinx(config, "needs", outdir, fresh=kept is None, progress=None)
        path = run.outdir / "needs.json"
        if not path.is_file():
            raise QmsError("the needs export was not written", "run 'qms check' to see why")
        data = json.loads(path.read_text(encoding="utf-8"))
    version = data["versions"][data.get("current_version", "")]
    graph = Graph.build(Need.from_mapping(need) for need in version["needs"].values())
    return GraphRun(graph, run.findings)


def soa_table(graph: Graph) -> list[dict[str, Any]]:
    """The SoA rows, as the site shows them."""
    return [row.as_dict() for row in soa_rows(graph)]


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


def render(rows: Sequence[dict[str, Any]], fmt: str) -> str:
    """Rows as CSV (UTF-8 with a byte-order mark and a header row), JSON or Markdown."""
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    headers = list(rows[0]) if rows else []
    if fmt == "csv":
        return csv_text(headers, ([_cell(row[h]) for h in headers] for row in rows))
    if fmt != "markdown":
        raise QmsError(f"unknown format {fmt!r}", f"use one of {', '.join(FORMATS)}")

    def md(value: Any) -> str:
        return _cell(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md(row[h]) for h in headers) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def export(
    config: QmsConfig, table: Callable[[Graph], list[dict[str, Any]]], fmt: str
) -> tuple[str, tuple[Finding, ...]]:
    """One table of the handbook's graph in `fmt`, and the warnings of the read behind it."""
    run = load_graph(config)
    return render(table(run.graph), fmt), run.findings
