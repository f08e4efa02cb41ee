"""sphinx-test-reports inside the handbook: its need types beside the generated model.

The extension (sphinx-needs' companion for test results) renders the OQ's JUnit XML as
test-file, test-suite and test-case needs. Its ids are its own ("TF_OQ", "TF_OQ_1A2",
"TC_3F9A1"): the handbook's id rule (`model/vocabulary.py` ID_SHAPE) still binds every
need of the handbook's own types, and the id pattern sphinx-needs checks admits these too.
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.config import Config

from qms.model.vocabulary import ID_SHAPE

# The ids sphinx-test-reports makes: a prefix, then upper-case hex digits joined by "_".
TEST_REPORT_ID = r"T[FSC]_[A-Z0-9]+(?:_[A-Z0-9]+)*"
NEED_ID_REGEX = rf"^(?:{ID_SHAPE}|{TEST_REPORT_ID})$"
# The need types it adds, as the handbook names them.
TEST_FILE = ["test-file", "testfile", "Test file", "TF_", "#f2f2f2", "node"]
TEST_SUITE = ["test-suite", "testsuite", "Test suite", "TS_", "#e0e0e0", "folder"]
TEST_CASE = ["test-case", "testcase", "Test case", "TC_", "#c8c8c8", "rectangle"]


def configure(app: Sphinx, config: Config) -> None:
    """After the handbook's needs model (priority 5), before sphinx-test-reports reads it."""
    config.needs_id_regex = NEED_ID_REGEX
    config.tr_file = TEST_FILE
    config.tr_suite = TEST_SUITE
    config.tr_case = TEST_CASE
    # Never read a [test_reports] table from a pyproject.toml: [tool.qms] configures it.
    config.tr_config_from_toml = None


def setup(app: Sphinx) -> None:
    """Load sphinx-test-reports with the handbook's settings."""
    app.setup_extension("sphinx_test_reports")
    app.connect("config-inited", configure, priority=6)
