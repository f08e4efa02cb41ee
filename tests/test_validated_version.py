"""Change control of the tool: `qms verify` against the last signed validation release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import qms
from tests.release_repo import approve_fully, make_release_repo, sign
from tests.signing_repo import Team, as_, commit_all, team
from tests.signing_repo import qms as run_qms
from tests.test_validate_oq import FAILED, REPORT, SKIPPED, _passing_iq, write_suite

__all__ = ["team"]

VALIDATION_SET = """
[tool.qms.sets.validation]
title = "Validation package"
types = ["policy"]
"""


def _add_set(root: Path) -> None:
    with (root / "pyproject.toml").open("a") as handle:
        handle.write(VALIDATION_SET)


@pytest.fixture
def released(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    root = make_release_repo(tmp_path, team, capsys, _add_set)
    # Before any validation release there is nothing to compare with: verify says nothing.
    code, out, err = run_qms(capsys, root, "verify")
    assert code == 0 and "validation report" not in out + err
    code, _, err = run_qms(capsys, root, "release", "create", "R1", "--set", "validation")
    assert code == 0, err
    assert sign(capsys, root, team.approver)[0] == 0
    return root


def test_verify_warns_when_the_installed_version_is_not_the_validated_one(
    released: Path, team: Team, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    validated = qms.__version__
    # Signed for one role of two: no signed release yet, so no comparison.
    monkeypatch.setattr(qms, "__version__", "9.9.9")
    code, out, err = run_qms(capsys, released, "verify")
    assert code == 0 and "validation report" not in out + err
    code, _, err = sign(capsys, released, team.reviewer)
    assert code == 0, err
    code, out, err = run_qms(capsys, released, "verify")
    assert code == 0, out + err
    assert (
        f"qms verify: warning: qms-handbook 9.9.9 is installed, but the last signed validation "
        f"report (release R1) covers {validated}" in err
    )
    code, out, _ = run_qms(capsys, released, "verify", "--json")
    assert json.loads(out)["version_change"] == {
        "installed": "9.9.9", "validated": validated, "release": "R1", "fail": False,
    }  # fmt: skip
    # The validated version itself: nothing to say.
    monkeypatch.setattr(qms, "__version__", validated)
    code, out, err = run_qms(capsys, released, "verify")
    assert code == 0 and "validation report" not in out + err


def test_fail_mode_makes_a_changed_version_a_failure(
    released: Path, team: Team, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sign(capsys, released, team.reviewer)[0] == 0
    with (released / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.qms.validation]\non_version_change = "fail"\n')
    commit_all(released, "A changed tool version fails verify")
    monkeypatch.setattr(qms, "__version__", "9.9.9")
    code, _, err = run_qms(capsys, released, "verify")
    assert code == 1 and "qms verify: FAIL: qms-handbook 9.9.9 is installed" in err
    # The setting is checked against its schema.
    text = (released / "pyproject.toml").read_text().replace('"fail"', '"ignore"')
    (released / "pyproject.toml").write_text(text)
    code, _, err = run_qms(capsys, released, "verify")
    assert code == 2 and 'on_version_change must be "warn" or "fail"' in err


REPORT_SET = """
[tool.qms.sets.validation]
title = "Validation package"
types = ["validation"]
"""


def test_the_approved_report_is_released_as_the_validation_set(
    tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    def edit(root: Path) -> None:
        with (root / "pyproject.toml").open("a") as handle:
            handle.write(REPORT_SET)
        suite = write_suite(tmp_path / "suite")
        results = root / "docs" / "validation" / "_results"
        code, _, err = run_qms(capsys, root, "validate", "oq", "--suite", str(suite), "--out",
                               str(results / "oq-junit.xml"))  # fmt: skip
        assert code == 1, err
        _passing_iq(results / "iq.json")
        # In force once approved: a release holds only effective documents.
        text = REPORT.replace("review_months: 12\n", "review_months: 12\neffective: 2026-01-01\n")
        (root / "docs" / "validation" / "val-qms-002.md").write_text(text)
        index = root / "docs" / "index.md"
        index.write_text(
            index.read_text().replace("register\n", "register\nvalidation/val-qms-002\n")
        )

    root = make_release_repo(tmp_path, team, capsys, edit)
    for test_id in (FAILED, SKIPPED):
        code, _, err = run_qms(capsys, root, "validate", "disposition", test_id, "--decision",
                               "accepted", "--reason", "Assessed", *as_(team.approver))  # fmt: skip
        assert code == 0, err
    approve_fully(capsys, root, team, "VAL-QMS-002")
    code, out, err = run_qms(capsys, root, "release", "create", "R1", "--set", "validation")
    assert code == 0, out + err
    assert sign(capsys, root, team.approver)[0] == 0 and sign(capsys, root, team.reviewer)[0] == 0
    manifest = json.loads((root / "signatures" / "releases" / "R1" / "manifest.json").read_text())
    assert [d["id"] for d in manifest["sets"]["validation"]] == ["VAL-QMS-002"]
    assert manifest["tools"]["qms"] == qms.__version__
    # Each approval of the report binds the results it shows; the page shows the dispositions.
    folder = root / "signatures" / "approvals" / "VAL-QMS-002" / "0.1"
    for statement in folder.glob("*.json"):
        bound = {item["path"] for item in json.loads(statement.read_text())["includes"]}
        assert bound == {
            "docs/validation/_results/iq.json",
            "docs/validation/_results/oq-junit.xml",
        }
    page = next(p for p in manifest["files"] if p.endswith("val-qms-002.html"))
    html = (root / "_build" / "releases" / "R1" / page).read_text()
    assert "accepted by" in html and "UNDISPOSED" not in html
    code, out, err = run_qms(capsys, root, "verify")
    assert code == 0 and "validation report" not in out + err
