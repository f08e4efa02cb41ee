"""Retirement (issue 17) end to end: signed like an approval, RETIRED derived, out of releases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.keys import Person
from tests.release_repo import make_release_repo
from tests.signing_repo import Team, commit_all, run, team

__all__ = ["team"]

DOC = "POL-ACC-001"
REASON = "Merged into POL-ISMS-001 2.0"


@pytest.fixture
def repo(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    return make_release_repo(tmp_path, team, capsys)


def retire(
    capsys: pytest.CaptureFixture[str], root: Path, person: Person, meaning: str, *reason: str
) -> tuple[int, str, str]:
    return run(
        capsys, "--root", str(root), "retire", DOC, "--meaning", meaning, *reason,
        "--key", person.fingerprint, "--gnupghome", str(person.home), "--yes",
    )  # fmt: skip


def status(capsys: pytest.CaptureFixture[str], root: Path) -> str:
    code, out, err = run(capsys, "--root", str(root), "verify", "--json", DOC)
    assert code == 0, err
    return str(next(d["status"] for d in json.loads(out)["documents"] if d["id"] == DOC))


def test_a_retirement_follows_the_approval_rules_and_derives_retired(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = retire(capsys, repo, team.author, "authored")
    assert code == 1 and "needs a reason" in err  # nothing written
    assert not (repo / "signatures/retirements").exists()
    code, out, err = retire(capsys, repo, team.author, "authored", "--reason", REASON)
    assert code == 0 and "retirement authored" in out and REASON in out, err
    assert status(capsys, repo) == "effective"  # a request alone withdraws nothing
    code, _, err = retire(capsys, repo, team.approver, "approved")
    assert code == 1 and "approved before it was reviewed" in err
    code, _, err = retire(capsys, repo, team.reviewer, "reviewed", "--reason", "another")
    assert code == 1 and "another reason" in err
    assert retire(capsys, repo, team.reviewer, "reviewed")[0] == 0  # takes the request's reason
    assert retire(capsys, repo, team.approver, "approved")[0] == 0
    assert status(capsys, repo) == "retired"
    author = ("--key", team.author.fingerprint, "--gnupghome", str(team.author.home), "--yes")
    code, _, err = run(
        capsys, "--root", str(repo), "approve", DOC, "--meaning", "authored", *author
    )
    assert code == 1 and "is retired" in err
    # It leaves every new release: no earlier version stands in for it.
    code, _, err = run(capsys, "--root", str(repo), "release", "create", "R1", "--set", "policies")
    assert f"left out {DOC}" in err and "is retired" in err


def test_an_edit_after_retirement_undoes_nothing_silently(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    for person, meaning in ((team.author, "authored"), (team.reviewer, "reviewed"),
                            (team.approver, "approved")):  # fmt: skip
        assert retire(capsys, repo, person, meaning, "--reason", REASON)[0] == 0
    path = repo / "docs/policies/pol-acc-001.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nA later line.\n", encoding="utf-8")
    commit_all(repo, "Edit a retired policy")
    code, out, _ = run(capsys, "--root", str(repo), "verify", "--json", DOC)
    report = json.loads(out)
    assert code == 1 and next(d["status"] for d in report["documents"]) == "not approved"
    assert "retirement: content changed after it was signed" in out


def test_a_draft_is_not_retired_it_is_deleted(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--root", str(repo), "retire", "SOP-BCK-001", "--meaning",
                       "authored", "--reason", REASON, "--key", team.author.fingerprint,
                       "--gnupghome", str(team.author.home), "--yes")  # fmt: skip
    assert code == 1 and "is not approved" in err and "deleting its file" in err
