"""The example handbook shipped in docs/ builds cleanly, as with sphinx-build -W."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qms.config import load_config
from qms.services.handbook import load_handbook
from qms.services.sphinx_run import SphinxRun, run_sphinx

from .conftest import REPO


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> SphinxRun:
    out = tmp_path_factory.mktemp("example") / "html"
    return run_sphinx(load_config(REPO), "html", out, fresh=True, progress=None)


def test_example_builds_without_a_single_warning(site: SphinxRun) -> None:
    assert [f.render() for f in site.findings] == []
    assert not site.failed


def test_every_document_has_a_control_block_and_is_in_the_register(site: SphinxRun) -> None:
    handbook = load_handbook(load_config(REPO))
    assert len(handbook.documents) >= 3
    register = (site.outdir / "register.html").read_text(encoding="utf-8")
    for document in handbook.documents:
        html_path = site.outdir / Path(document.path).relative_to("docs").with_suffix(".html")
        html = html_path.read_text(encoding="utf-8")
        assert re.search(r'<div class="qms-control qms-status-\w', html), document.id
        assert f'<span class="pre">{document.id}</span>' in register


def test_example_has_the_documents_the_foundation_promises() -> None:
    ids = {document.id for document in load_handbook(load_config(REPO)).documents}
    assert {"POL-ISMS-001", "POL-ISMS-002", "SOP-QMS-001"} <= ids


def test_example_soa_has_93_rows_and_no_gaps() -> None:
    from qms.model.traceability import coverage, soa_rows
    from qms.services.traceability import load_graph

    result = load_graph(load_config(REPO))
    assert [f.render() for f in result.findings] == []
    rows = soa_rows(result.graph)
    assert len(rows) == 93
    assert {row.decision for row in rows} <= {"applicable", "excluded"}
    for key, name, kind in result.graph.catalogues():
        if kind != "management-system":
            gaps = coverage(result.graph, key).gaps
            assert gaps == (), f"{name}: {[(n.id, why) for n, why in gaps]}"
    risks = [n for n in result.graph.needs.values() if n.type == "risk"]
    assert len(risks) >= 30
