"""`qms validate oq`: the shipped operational qualification run by pytest in this process."""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from qms.adapters.files import write_atomic
from qms.errors import QmsError
from qms.model.oq_results import OqResults, ResultsError, parse_junit

# The OQ suite ships inside the product (tools/qms/oq/): it needs only what is installed.
SUITE_PACKAGE = "qms.oq"
MARKER = "requirement(*ids, check='positive'): the user requirements a test verifies"

# (done, total) as test cases finish.
CaseProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class OqRun:
    """What one OQ run wrote and found."""

    results: OqResults
    path: Path
    exit_code: int  # pytest's: 0 all passed, 1 a test failed, 2+ the run itself failed
    output: str  # pytest's own report (shown when the run itself failed)

    @property
    def failed(self) -> bool:
        """Whether a test failed or errored (a skipped test is a deviation, not a failure)."""
        return self.exit_code != 0


def shipped_suite() -> Path:
    """The folder of the installed OQ suite."""
    try:
        folder = resources.files(SUITE_PACKAGE)
    except ModuleNotFoundError as exc:
        raise QmsError(
            f"the OQ suite {SUITE_PACKAGE} is not installed with this qms",
            "install the qms-handbook wheel again, or pass --suite DIR",
        ) from exc
    return Path(str(folder))


class _Recorder:
    """A pytest plugin: each case's node id as a JUnit property, and progress."""

    def __init__(self, progress: CaseProgress) -> None:
        self.progress = progress
        self.total = 0
        self.done = 0

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", MARKER)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            # The id a disposition names: stable across machines, since the root is the suite.
            item.user_properties.append(("nodeid", item.nodeid))
            # The requirements, also of a test skipped before its fixtures run; the suite's
            # conftest may record them again, and the reader keeps each once.
            for marker in item.iter_markers("requirement"):
                item.user_properties.extend(("requirement", str(i)) for i in marker.args)
                item.user_properties.append(("check", str(marker.kwargs.get("check", "positive"))))
        self.total = len(items)
        self.progress(0, self.total)

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        self.done += 1
        self.progress(self.done, self.total)


def run_oq(suite: Path, out: Path, progress: CaseProgress | None = None) -> OqRun:
    """Run the OQ suite in `suite` and write its JUnit XML to `out`, atomically."""
    if not suite.is_dir():
        raise QmsError(f"no OQ suite at {suite}", "pass the folder of the OQ tests to --suite")
    recorder = _Recorder(progress or (lambda done, total: None))
    with tempfile.TemporaryDirectory(prefix="qms-oq-") as scratch:
        junit = Path(scratch) / "junit.xml"
        ini = Path(scratch) / "pytest.ini"
        # Its own configuration: no handbook's pytest settings (addopts, testpaths) apply.
        ini.write_text("[pytest]\njunit_family = xunit1\n", encoding="utf-8")
        args = [
            str(suite),
            "-c",
            str(ini),
            "--rootdir",
            str(suite),
            "--import-mode=importlib",
            "--strict-markers",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rfEs",
            f"--junitxml={junit}",
            "-o",
            "junit_suite_name=qms-oq",
        ]
        log = io.StringIO()
        with contextlib.redirect_stdout(log), _forgetting_modules(suite):
            code = int(pytest.main(args, plugins=[recorder]))
        if not junit.is_file():
            raise QmsError(
                f"the OQ did not run (pytest exit {code}): {_last_line(log.getvalue())}",
                "check that the suite's tests import; run pytest on it to see why",
            )
        data = junit.read_bytes()
    try:
        results = parse_junit(data)
    except ResultsError as exc:
        raise QmsError(f"pytest wrote unreadable results: {exc}", "report this as a bug") from exc
    if code not in (0, 1) or not results.cases:
        raise QmsError(
            f"the OQ did not run (pytest exit {code}): {_last_line(log.getvalue())}",
            "check that the suite's tests are collected; run pytest on it to see why",
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, data)
    return OqRun(results, out, code, log.getvalue())


@contextlib.contextmanager
def _forgetting_modules(suite: Path) -> Iterator[None]:
    """Forget the suite's modules after the run, so that a second run in this process
    imports its own files, not the first run's."""
    before = set(sys.modules)
    root = str(suite.resolve())
    try:
        yield
    finally:
        for name in set(sys.modules) - before:
            where = getattr(sys.modules[name], "__file__", None) or ""
            if where.startswith(root):
                del sys.modules[name]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
