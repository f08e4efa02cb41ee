"""CRLF line endings: clones made with core.autocrlf=true, and documents saved with CRLF."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git
import pytest

from qms.model.approval import Meaning, Statement, StatementError
from qms.model.line_endings import FIX, crlf_finding, line_ending_summary
from tests.conftest import REPO, ROOTS
from tests.signing_repo import Console, Team, commit_all, make_signing_repo, run, team

__all__ = ["team"]  # the session fixture, re-exported for pytest

DOC = "POL-ACC-001"
DOC_PATH = "docs/policies/pol-acc-001.md"
STALE = "bump the version and sign again"


def sign(console: Console, root: Path, team: Team, doc: str) -> None:
    for person, meaning in (
        (team.author, "authored"),
        (team.reviewer, "reviewed"),
        (team.approver, "approved"),
    ):
        code, _, err = run(
            console, "--root", str(root), "approve", doc, "--meaning", meaning,
            "--key", person.fingerprint, "--gnupghome", str(person.home), "--yes",
        )  # fmt: skip
        assert code == 0, err


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, team: Team) -> Iterator[Path]:
    """A handbook with the shipped .gitattributes and two fully approved documents."""
    tmp = tmp_path_factory.mktemp("eol")
    with Console() as console:
        root = make_signing_repo(tmp, team, console, ROOTS / "test-handbook")
        shutil.copy(REPO / ".gitattributes", root / ".gitattributes")
        commit_all(root, "Keep signed files byte-exact")
        sign(console, root, team, DOC)
        sign(console, root, team, "POL-CRY-001")
    yield root


@pytest.fixture(scope="module")
def unattributed(signed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same handbook after a commit that removed its .gitattributes."""
    path = tmp_path_factory.mktemp("unattributed") / "handbook"
    repo = git.Repo.clone_from(str(signed), str(path))
    repo.index.remove([".gitattributes"], working_tree=True)
    repo.index.commit("No .gitattributes, as in a handbook made before it shipped")
    return path


def clone(source: Path, target: Path, autocrlf: bool = False) -> git.Repo:
    """A clone; with `autocrlf`, checked out as Git for Windows does by default."""
    if not autocrlf:
        return git.Repo.clone_from(str(source), str(target))
    # As 'git clone -c core.autocrlf=true' (GitPython refuses -c): set, then check out.
    repo = git.Repo.clone_from(str(source), str(target), no_checkout=True)
    with repo.config_writer() as config:
        config.set_value("core", "autocrlf", "true")
    repo.git.reset("--hard")
    return repo


def verify(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, str, dict[str, Any]]:
    code, out, _ = run(capsys, "--root", str(root), "verify")
    json_code, data, _ = run(capsys, "--root", str(root), "verify", "--json")
    assert json_code == code
    return code, out, json.loads(data)


def status(data: dict[str, Any], doc: str = DOC) -> str:
    return str(next(d["status"] for d in data["documents"] if d["id"] == doc))


def statuses(data: dict[str, Any]) -> dict[str, str]:
    return {d["id"]: d["status"] for d in data["documents"]}


def to_crlf(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


# --- clones made with Git for Windows' default ------------------------------------------


def test_a_clone_with_autocrlf_verifies_with_the_shipped_gitattributes(
    signed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = clone(signed, tmp_path / "clone", autocrlf=True)
    assert copy.config_reader().get_value("core", "autocrlf") is True
    # Files without a rule are converted, so the setting is in force ...
    assert b"\r\n" in (tmp_path / "clone/pyproject.toml").read_bytes()
    # ... but documents and signature files are checked out exactly as signed.
    for path in [DOC_PATH, "signatures/signers.yaml", "signatures/registry/0001.yaml"]:
        assert (tmp_path / "clone" / path).read_bytes() == (signed / path).read_bytes()
    code, out, data = verify(capsys, tmp_path / "clone")
    assert code == 0, out
    assert statuses(data) == statuses(verify(capsys, signed)[2])
    assert status(data) == "effective"
    assert data["line_endings"] is None


def test_a_clone_with_autocrlf_and_no_gitattributes_names_the_fix_in_one_line(
    unattributed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "clone"
    copy = clone(unattributed, root, autocrlf=True)
    assert b"\r\n" in (root / DOC_PATH).read_bytes()  # git converted what was signed
    code, out, data = verify(capsys, root)
    assert code == 1
    # Nothing counts: a CRLF copy is not what was signed.
    assert status(data) == "draft" and status(data, "POL-CRY-001") == "draft"
    lines = out.splitlines()
    summary = next(i for i, line in enumerate(lines) if "line endings" in line)
    failures = lines[summary + 1 :]
    assert lines[summary] == (
        f"{len(failures)} failures are only line endings: files with CRLF where LF was "
        "signed, which count as signed only once restored; if git wrote them on checkout "
        f"(core.autocrlf=true), {FIX}; otherwise save them with LF line endings"
    )
    assert data["line_endings"] == lines[summary]
    assert failures[0] == (
        "signatures/registry/0001.yaml: registry revision 1 differs from what was signed only "
        "in line endings (CRLF)"
    )
    assert len(failures) == 7  # the registry's first revision and six statements
    assert all(
        line.endswith(": the statement differs from what was signed only in line endings (CRLF)")
        for line in failures[1:]
    ), failures
    assert STALE not in out and "canonical" not in out and "signature bad" not in out
    # The fix the line names works.
    with copy.config_writer() as config:
        config.set_value("core", "autocrlf", "false")
    copy.git.rm("--cached", "-r", ".", quiet=True)
    copy.git.reset("--hard")
    code, out, data = verify(capsys, root)
    assert code == 0, out
    assert status(data) == "effective"


# --- files converted by hand ------------------------------------------------------------


@pytest.fixture
def working_copy(unattributed: Path, tmp_path: Path) -> Path:
    clone(unattributed, tmp_path / "copy")
    return tmp_path / "copy"


def test_a_document_saved_with_crlf_is_named_not_sent_for_a_new_signature(
    working_copy: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    to_crlf(working_copy / DOC_PATH)
    code, out, data = verify(capsys, working_copy)
    assert code == 1
    assert status(data) == "not approved"  # still not the signed bytes
    assert status(data, "POL-CRY-001") == "approved"  # untouched (it names no effective date)
    messages = [f["message"] for d in data["documents"] for f in d["findings"]]
    assert (
        messages
        == [f"{DOC} 2.0: {DOC_PATH} differs from what was signed only in line endings (CRLF)"] * 3
    )
    assert data["line_endings"].startswith("3 failures are only line endings: ")
    assert STALE not in out
    # check and the pre-commit hook say where, and to use LF; not to raise the version.
    code, out, _ = run(capsys, "--root", str(working_copy), "check", "--quick")
    assert code == 1
    expected = crlf_finding(DOC_PATH, (working_copy / DOC_PATH).read_bytes())
    assert expected is not None and out.splitlines() == [expected.render()]  # the only one
    assert out.startswith(f"{DOC_PATH}:1: CRLF line endings (the first on this line): ")
    assert "save it with LF line endings" in out
    # Nobody can sign the CRLF bytes: approve refuses while check fails.
    code, _, err = run(
        capsys, "--root", str(working_copy), "approve", DOC, "--meaning", "authored",
        "--key", team.author.fingerprint, "--gnupghome", str(team.author.home), "--yes",
    )  # fmt: skip
    assert code == 1 and "CRLF line endings" in err, err


def test_a_real_edit_saved_with_crlf_still_needs_a_new_version(
    working_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = working_copy / DOC_PATH
    text = path.read_text(encoding="utf-8")
    assert "least privilege" in text
    path.write_bytes(
        text.replace("least privilege", "need to know").encode().replace(b"\n", b"\r\n")
    )
    code, out, data = verify(capsys, working_copy)
    assert code == 1
    assert data["line_endings"] is None
    assert f"{DOC} 2.0: authored by Lena Vogt: content changed after it was signed; {STALE}" in out


def test_a_crlf_line_in_the_middle_is_located(
    working_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = working_copy / DOC_PATH
    lines = path.read_bytes().split(b"\n")
    lines[11] += b"\r"
    path.write_bytes(b"\n".join(lines))
    code, out, _ = run(capsys, "--root", str(working_copy), "check", "--quick")
    assert code == 1
    assert out.startswith(f"{DOC_PATH}:12: CRLF line endings"), out


def test_the_full_check_and_the_build_report_crlf_at_its_line(
    working_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    to_crlf(working_copy / DOC_PATH)
    code, out, _ = run(capsys, "--root", str(working_copy), "check")
    assert code == 1
    assert f"{DOC_PATH}:1: CRLF line endings (the first on this line): " in out
    assert "changed since version" not in out and STALE not in out


def test_a_statement_saved_with_crlf_is_named(
    working_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    statement = next((working_copy / "signatures/approvals" / DOC / "2.0").glob("reviewed--*.json"))
    to_crlf(statement)
    _, out, data = verify(capsys, working_copy)
    assert status(data) == "in review"  # the review no longer counts, so neither does approval
    problem = "the statement differs from what was signed only in line endings (CRLF)"
    assert f"{DOC} 2.0: {statement.name}: {problem}" in out
    assert data["line_endings"].startswith("1 failure is only line endings: ")


def test_a_registry_saved_with_crlf_is_named(
    working_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    to_crlf(working_copy / "signatures/signers.yaml")
    code, out, data = verify(capsys, working_copy)
    assert code == 1
    assert data["registry"]["findings"] == [
        {
            "path": "signatures/signers.yaml",
            "line": None,
            "message": "differs from approved revision 5 only in line endings (CRLF)",
            "code": "line-endings",
        }
    ]
    assert status(data) == "draft"
    assert "edited by hand" not in out


# --- the model --------------------------------------------------------------------------


def test_a_crlf_statement_is_refused_and_named() -> None:
    statement = Statement(
        "POL-X-001", "1.0", "ab" * 32, Meaning.AUTHORED, "N", "F" * 40, "author",
        datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    assert Statement.from_bytes(statement.to_bytes()) == statement
    with pytest.raises(StatementError, match="differs from what was signed only in line endings"):
        Statement.from_bytes(statement.to_bytes().replace(b"\n", b"\r\n"))
    with pytest.raises(StatementError, match="not in canonical form"):
        Statement.from_bytes(statement.to_bytes().replace(b":", b": ", 1))


def test_crlf_findings_and_the_summary() -> None:
    assert crlf_finding("a.md", b"---\nid: X\n") is None
    finding = crlf_finding("a.md", b"---\nid: X\r\ntitle: T\r\n")
    assert finding is not None and (finding.line, finding.code) == (2, "line-endings")
    assert line_ending_summary([]) == ""
    assert line_ending_summary([finding]).startswith("1 failure is only line endings")
    assert line_ending_summary([finding, finding]).startswith("2 failures are only")
