"""`qms validate iq`: a real wheel in a fresh venv passes, a tampered file fails, -e is named."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from qms.model.installation import (
    EDITABLE,
    SOURCE,
    WHEEL,
    ListedFile,
    file_problem,
    files_check,
    install_kind,
)
from qms.model.schemas import problems
from tests.conftest import REPO

# What the wheel is built from: the project's sources as they are in this checkout.
_SOURCES = ("pyproject.toml", "README.md", "extensions", "tools")
_OFFLINE = ("--no-deps", "--no-index", "-q")


@dataclass(frozen=True)
class Installed:
    """qms-handbook installed from its wheel into a fresh venv."""

    wheel: Path
    venv: Path
    site: Path

    def iq(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "qms"), "validate", "iq", *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.venv,
        )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this checkout, built offline with the build backend the dev extras bring."""
    work = tmp_path_factory.mktemp("iq-wheel")
    source = work / "src"
    for name in _SOURCES:
        origin = REPO / name
        if origin.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(origin, source / name, ignore=ignore)
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(origin, source / name)
    offline = ("--no-deps", "--no-build-isolation", "--no-index", "-q")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", *offline, "-w", str(work / "dist"), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = (work / "dist").glob("qms_handbook-*.whl")
    return built


@pytest.fixture
def installed(wheel: Path, tmp_path: Path) -> Installed:
    """The wheel in a new venv. Its dependencies are this test run's own: a .pth names their
    site-packages (after the venv's own, so the venv's qms-handbook is the one found)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", *_OFFLINE, str(wheel)],
        check=True,
        capture_output=True,
    )
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return Installed(wheel, venv, site)


def _checks(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in record["checks"]}


def _record_rows(wheel: Path) -> int:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/RECORD")]
        return len(archive.read(name).decode().splitlines())


def test_a_wheel_installed_in_a_fresh_venv_passes_the_iq(installed: Installed) -> None:
    result = installed.iq("--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    record = json.loads(result.stdout)
    assert problems("iq-record", record) == []
    assert record["passed"] is True
    assert record["product"]["install"] == WHEEL
    assert (
        record["product"]["wheel_sha256"]
        == hashlib.sha256(installed.wheel.read_bytes()).hexdigest()
    )
    checks = _checks(record)
    assert all(check["passed"] for check in checks.values()), checks
    expected = {"install", "python", "sphinx", "sphinx-needs", "myst-parser", "GitPython"}
    expected |= {"python-gnupg", "pytest", "sphinx-test-reports"}
    assert expected | {"gpg", "git", "files", "gpg-trial"} == set(checks)
    # pip adds the compiled files and INSTALLER/REQUESTED/direct_url.json to the wheel's rows.
    listed = int(checks["files"]["detail"].split(" files listed")[0])
    assert listed > _record_rows(installed.wheel)
    assert record["environment"]["python"] == platform.python_version()
    # Nothing of this machine's layout is recorded.
    assert str(installed.venv.parent) not in result.stdout
    assert os.sep + "site-packages" not in result.stdout


def test_a_tampered_installed_file_fails_the_iq_naming_it(installed: Installed) -> None:
    target = installed.site / "qms" / "model" / "status.py"
    with target.open("ab") as handle:
        handle.write(b"#")
    result = installed.iq("--json")
    assert result.returncode == 1
    failing = [line for line in result.stderr.splitlines() if "FAIL" in line]
    assert failing == [
        "qms validate iq: FAIL files: qms/model/status.py: SHA-256 differs from RECORD "
        "(installed file altered)"
    ]
    checks = _checks(json.loads(result.stdout))
    assert checks["files"]["passed"] is False
    assert checks["gpg-trial"]["passed"] is True  # only the altered file fails


def test_a_removed_installed_file_fails_and_the_record_is_written(
    installed: Installed, tmp_path: Path
) -> None:
    (installed.site / "qms" / "model" / "css.py").unlink()
    output = tmp_path / "records" / "iq.json"
    output.parent.mkdir()
    result = installed.iq("--output", str(output))
    assert result.returncode == 1
    assert "FAIL  files" in result.stdout
    assert "qms/model/css.py: listed in RECORD but not installed" in result.stderr
    record = json.loads(output.read_text(encoding="utf-8"))
    assert problems("iq-record", record) == []
    assert record["passed"] is False


def test_an_editable_install_is_named_and_cannot_be_qualified(tmp_path: Path) -> None:
    # This test run's own qms-handbook is the checkout `make install` installed with -e; run
    # its qms away from the checkout, whose egg-info would otherwise be on the path.
    gnupg_home = Path(os.environ["GNUPGHOME"])
    before = sorted(gnupg_home.iterdir())
    qms = Path(sys.executable).parent / "qms"
    result = subprocess.run(
        [str(qms), "validate", "iq", "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    record = json.loads(result.stdout)
    checks = _checks(record)
    assert record["product"]["install"] == EDITABLE
    assert checks["install"]["passed"] is False
    assert "cannot be qualified" in checks["install"]["detail"]
    assert checks["files"]["passed"] is True
    assert checks["files"]["detail"].startswith("editable install: RECORD lists only")
    assert result.stderr.splitlines() == [
        f"qms validate iq: FAIL install: {checks['install']['detail']}"
    ]
    assert sorted(gnupg_home.iterdir()) == before  # the trial used a home of its own


def test_install_kind_reads_pep_610() -> None:
    assert install_kind('{"dir_info": {"editable": true}, "url": "file:///x"}') == (EDITABLE, None)
    digest = hashlib.sha256(b"wheel").hexdigest()
    archive = json.dumps({"archive_info": {"hashes": {"sha256": digest}}, "url": "file:///w"})
    assert install_kind(archive) == (WHEEL, digest)
    assert install_kind(None) == (WHEEL, None)  # from an index
    assert install_kind('{"dir_info": {}}') == (WHEEL, None)  # pip install . builds a wheel
    assert install_kind(None, has_record=False) == (SOURCE, None)


def test_file_problem_against_rows_pip_wrote() -> None:
    # python-gnupg's RECORD, as pip wrote it when this environment was installed.
    files = metadata.files("python-gnupg") or []
    (module,) = [path for path in files if path.name == "gnupg.py"]
    assert module.hash is not None
    row = ListedFile(module.as_posix(), module.hash.mode, module.hash.value, module.size)
    content = module.read_binary()
    assert file_problem(row, content) is None
    assert file_problem(row, content + b"\n") == (
        f"{row.path}: SHA-256 differs from RECORD (installed file altered)"
    )
    assert file_problem(row, None) == f"{row.path}: listed in RECORD but not installed"
    weak = ListedFile(row.path, "md5", row.digest, row.size)
    assert file_problem(weak, content) == f"{row.path}: RECORD gives a md5 hash, not SHA-256"
    unhashed = ListedFile(row.path, None, None, None)
    assert file_problem(unhashed, b"anything") is None
    check = files_check(WHEEL, [unhashed], [None])
    assert not check.passed  # nothing with a hash: nothing was checked
