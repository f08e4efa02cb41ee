"""Sphinx's warnings become findings from its log records, exactly as Sphinx writes them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from qms.config import load_config
from qms.model.findings import Finding
from qms.services.sphinx_run import run_sphinx

from .conftest import HandbookFactory

# conf.py is an extension too: its setup warns before any page is read.
CONF = textwrap.dedent(
    """\
    from sphinx.util import logging

    extensions = ["qms_sphinx"]
    suppress_warnings = ["conftest.hidden"]


    def setup(app):
        log = logging.getLogger("qms_test_conf")
        log.warning("set up\\nwith a second line", type="conftest", subtype="setup")
        log.warning("suppressed", type="conftest", subtype="hidden")
        log.warning("said once", once=True)
        log.warning("said once", once=True)
    """
)


def test_warnings_are_findings_located_and_coded_as_written(
    make_handbook: HandbookFactory, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("handbook")
    (repo / "conf.py").write_text(CONF, encoding="utf-8")
    index = repo / "docs" / "index.md"
    lines = index.read_text(encoding="utf-8").splitlines()
    index.write_text("\n".join([*lines, "", "```{nosuchdirective}", "```", ""]), encoding="utf-8")
    run = run_sphinx(load_config(repo), "html", tmp_path / "out", fresh=True, progress=None)
    prefix = "while setting up extension conf.py: "
    assert Finding("(handbook)", None, prefix + "set up", "conftest.setup") in run.findings
    assert [f for f in run.findings if f.message.endswith("said once")] == [
        Finding("(handbook)", None, prefix + "said once", "sphinx")
    ]
    assert not any("suppressed" in f.message for f in run.findings)
    unknown = Finding(
        "docs/index.md", len(lines) + 2, "Unknown directive type: 'nosuchdirective'",
        "myst.directive_unknown",
    )  # fmt: skip
    assert unknown in run.findings
    assert run.failed
    # The findings are the report: Sphinx's own text of them goes nowhere.
    assert "WARNING" not in capfd.readouterr().err
