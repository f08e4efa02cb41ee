"""Validation of the tool itself: the IQ records versions and checks installed files against
RECORD; OQ results carry the requirements each test verifies, and failures show."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path

import pytest

from qms.model.installation import WHEEL, ListedFile, file_problem, files_check
from qms.model.requirement_markers import markers_in
from qms.services.validate_iq import qualify_installation

DISTRIBUTION = "qms-handbook"


@pytest.mark.requirement("URS-VAL-001")
def test_the_iq_records_component_versions_and_checks_installed_files() -> None:
    record = qualify_installation(datetime.now(tz=UTC))
    data = record.as_dict()
    assert record.to_json()  # valid against its own schema
    checks = {check["id"]: check for check in data["checks"]}
    assert {"python", "sphinx", "sphinx-needs", "GitPython", "python-gnupg", "gpg", "git"} <= set(
        checks
    )
    for name in ("sphinx", "sphinx-needs", "GitPython", "python-gnupg"):
        assert metadata.version(name) in str(checks[name]), checks[name]
    assert checks["gpg-trial"]["passed"] is True
    assert data["product"]["version"] == metadata.version(DISTRIBUTION)
    if data["product"]["install"] == WHEEL:
        assert checks["files"]["passed"] is True, checks["files"]
        assert record.passed, record.failure_lines()
    else:
        # A development checkout (editable, or run from the source tree) is never qualified:
        # its RECORD does not list the product's modules with their hashes.
        assert record.passed is False
        assert checks["install"]["passed"] is False or checks["files"]["passed"] is False


def listed_files() -> list[tuple[ListedFile, bytes]]:
    """The distribution's RECORD rows that carry a hash, with each file's installed bytes.

    A development checkout's metadata lists no hashes: there, the rows are written for the
    installed qms modules as pip writes RECORD, so the comparison itself is still exercised.
    """
    rows = []
    for path in metadata.distribution(DISTRIBUTION).files or ():
        if path.hash is not None:
            row = ListedFile(path.as_posix(), path.hash.mode, path.hash.value, path.size)
            rows.append((row, path.read_binary()))
    if rows:
        return rows
    for module in sorted(Path(str(resources.files("qms"))).glob("model/*.py")):
        content = module.read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=")
        row = ListedFile(f"qms/model/{module.name}", "sha256", digest.decode(), len(content))
        rows.append((row, content))
    return rows


@pytest.mark.requirement("URS-VAL-001", check="negative")
def test_an_altered_or_missing_installed_file_fails_against_record() -> None:
    rows = listed_files()
    assert rows, "RECORD lists no hashed file"
    assert [file_problem(row, content) for row, content in rows] == [None] * len(rows)
    row, content = rows[0]
    altered = content + b"#"
    assert file_problem(row, altered) == (
        f"{row.path}: SHA-256 differs from RECORD (installed file altered)"
    )
    assert file_problem(row, None) == f"{row.path}: listed in RECORD but not installed"
    found = [file_problem(r, altered if r is row else c) for r, c in rows]
    check = files_check("wheel", [r for r, _ in rows], found)
    assert check.passed is False


def suite_sources() -> list[tuple[str, str]]:
    """The OQ's own test modules, read from the installed package."""
    package = resources.files("qms.oq")
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in package.iterdir()
        if entry.name.startswith("test_") and entry.name.endswith(".py")
    )


@pytest.mark.requirement("URS-VAL-002")
def test_every_oq_test_names_well_formed_requirements() -> None:
    sources = suite_sources()
    assert len(sources) >= 10
    for name, source in sources:
        found = markers_in(source, name)
        assert found.problems == (), found.problems
        assert found.markers, f"{name} has no marked test"
        for marker in found.markers:
            assert marker.requirements, marker
            assert all(r.startswith("URS-") for r in marker.requirements), marker


FAILING_SUITE = """\
import pytest

@pytest.mark.requirement("URS-SIG-001")
def test_met():
    assert 1 + 1 == 2

@pytest.mark.requirement("URS-SIG-002", check="negative")
def test_violated():
    assert "signature" == "forgery"
"""


@pytest.mark.requirement("URS-VAL-002", check="negative")
def test_a_failing_test_shows_in_the_junit_xml_with_its_requirement(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(FAILING_SUITE)
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """\
            from qms.oq.conftest import pytest_configure, pytest_runtest_setup

            __all__ = ["pytest_configure", "pytest_runtest_setup"]
            """
        )
    )
    report = tmp_path / "junit.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
         str(tmp_path), f"--junitxml={report}", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    cases = {case.get("name"): case for case in ElementTree.parse(report).iter("testcase")}
    assert set(cases) == {"test_met", "test_violated"}

    def properties(name: str) -> list[tuple[str | None, str | None]]:
        return [(p.get("name"), p.get("value")) for p in cases[name].iter("property")]

    assert properties("test_met") == [("requirement", "URS-SIG-001"), ("check", "positive")]
    assert properties("test_violated") == [("requirement", "URS-SIG-002"), ("check", "negative")]
    assert cases["test_violated"].find("failure") is not None
    assert cases["test_met"].find("failure") is None
