"""History: rewritten history and altered signature files are detected."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from qms.oq.handbook import DOC, commit_all, problems, qms, status_of, verify
from qms.oq.people import Team


def rollbacks(report: dict[str, object]) -> list[str]:
    high_water = report["high_water"]
    assert isinstance(high_water, dict)
    return [f"{f['path']}: {f['message']}" for f in high_water["findings"]]


@pytest.mark.requirement("URS-HIS-001")
def test_new_commits_on_top_of_the_verified_history_raise_the_mark(
    signed: Path, team: Team
) -> None:
    assert qms(signed, "verify").code == 0  # the mark now holds every record
    result = qms(
        signed, "signers", "add", str(team.outsider.public_key), "--name", team.outsider.name,
        "--email", team.outsider.email, "--role", "reviewer", *team.admin.signing(),
    )  # fmt: skip
    assert result.code == 0, result.err
    code, report = verify(signed)
    assert code == 0, problems(report)
    assert rollbacks(report) == []


@pytest.mark.requirement("URS-HIS-001", check="negative")
def test_dropping_an_approval_commit_is_caught_against_the_mark(signed: Path) -> None:
    assert qms(signed, "verify").code == 0
    repository = git.Repo(signed)
    approval = next(
        c
        for c in repository.iter_commits()
        if str(c.message).startswith(f"Approve {DOC} 1.0: approved")
    )
    record = next(str(p) for p in approval.stats.files if str(p).endswith(".json"))
    repository.git.reset("--hard", f"{approval.hexsha}^")  # a force push without it
    code, report = verify(signed)
    assert code == 1
    lines = rollbacks(report)
    assert any(line.startswith(f"{record}: is gone since this clone verified") for line in lines)


@pytest.mark.requirement("URS-HIS-001", check="negative")
def test_squashed_history_leaves_no_signature_counting(signed: Path) -> None:
    repository = git.Repo(signed)
    squashed = git.Commit.create_from_tree(
        repository, repository.head.commit.tree, "Squashed history", parent_commits=[]
    )
    repository.head.reference.set_commit(squashed)
    code, report = verify(signed, DOC)
    assert code == 1
    assert status_of(report) == "draft"
    assert all("which is no longer" in m for m in problems(report)), problems(report)


@pytest.mark.requirement("URS-HIS-002")
def test_committed_signature_files_unchanged_verify_clean(effective: Path) -> None:
    code, report = verify(effective)
    assert code == 0
    assert report["altered"] == []


@pytest.mark.requirement("URS-HIS-002", check="negative")
def test_a_deleted_or_rewritten_signature_file_is_detected(signed: Path) -> None:
    statement = next((signed / "signatures/approvals" / DOC / "1.0").glob("authored--*.json"))
    relative = statement.relative_to(signed).as_posix()
    original = statement.read_bytes()
    statement.unlink()
    code, report = verify(signed)
    assert code == 1
    assert [a["path"] for a in report["altered"]] == [relative]
    assert report["altered"][0]["message"].startswith("deleted in the working tree")
    commit_all(signed, "Withdraw the authored signature")
    head = git.Repo(signed).head.commit.hexsha[:12]
    result = qms(signed, "verify")
    assert result.code == 1
    assert (
        f"{relative}: deleted in commit {head}; signature files are only ever added" in result.out
    )
    statement.write_bytes(original.replace(b"authored", b"reviewed"))
    commit_all(signed, "Put other bytes back")
    result = qms(signed, "verify")
    assert result.code == 1 and f"{relative}: modified in commit" in result.out
