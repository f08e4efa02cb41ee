"""Rollback and rewrite witnesses: this clone's high-water mark and published releases."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import git
import pytest

from tests.http_server import served
from tests.release_repo import make_release_repo, publish_signed
from tests.signing_repo import Team, run, team

__all__ = ["team"]


@pytest.fixture
def repo(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    return make_release_repo(tmp_path, team, capsys)


def verify(capsys: pytest.CaptureFixture[str], root: Path, *extra: str) -> tuple[int, Any]:
    code, out, _ = run(capsys, "--root", str(root), "verify", "--json", *extra)
    return code, json.loads(out)


def rollback_findings(data: Any) -> list[str]:
    return [f"{f['path']}: {f['message']}" for f in data["high_water"]["findings"]]


def push(root: Path, tmp_path: Path) -> None:
    """Push the branch to a bare remote: its commits are published from now on."""
    remote = tmp_path / "remote.git"
    if not remote.exists():
        git.Repo.init(remote, bare=True)
        git.Repo(root).create_remote("origin", str(remote))
    git.Repo(root).git.push("--force", "origin", "HEAD")
    git.Repo(root).git.fetch("origin")


def commit_named(root: Path, start: str) -> git.Commit:
    return next(c for c in git.Repo(root).iter_commits() if str(c.message).startswith(start))


def test_dropping_an_approval_commit_is_caught_by_the_clone_that_saw_it(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    push(repo, tmp_path)
    assert verify(capsys, repo)[0] == 0  # clean: the mark now holds every record
    approval = commit_named(repo, "Approve POL-ACC-001 2.0: approved")
    record = next(p for p in approval.stats.files if str(p).endswith(".json"))
    git.Repo(repo).git.rebase("--onto", f"{approval.hexsha}^", approval.hexsha)
    code, data = verify(capsys, repo)
    assert code == 1
    lines = rollback_findings(data)
    assert any(line.startswith(f"{record}: is gone since this clone verified") for line in lines)
    assert any("no longer descends from commit" in line for line in lines)
    # Nor can the rolled-back branch be released.
    code, _, err = run(capsys, "--root", str(repo), "release", "create", "R1", "--set", "policies")
    assert code == 1 and "is gone since this clone verified" in err


def test_dropping_a_revocation_is_a_rollback(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    # Revoke a reviewer who never signed: the registry gains a revision, all still verifies.
    code, _, err = run(
        capsys, "--root", str(repo), "signers", "revoke", team.second_reviewer.fingerprint,
        "--at", "2026-01-01T00:00:00Z", "--reason", "Key lost",
        "--key", team.admin.fingerprint, "--gnupghome", str(team.admin.home), "--yes",
    )  # fmt: skip
    assert code == 0, err
    code, data = verify(capsys, repo)
    assert code == 0
    revision = data["registry"]["revision"]
    # A force-push without the revocation would let the lost key's signatures count again.
    git.Repo(repo).git.reset("--hard", "HEAD~1")
    code, data = verify(capsys, repo)
    assert code == 1 and data["registry"]["revision"] == revision - 1
    lines = rollback_findings(data)
    assert any(
        line.startswith(f"signatures/registry/{revision:04d}.yaml: is gone since") for line in lines
    )


def test_a_rewrite_merged_back_with_the_old_history_is_still_a_rewrite(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    push(repo, tmp_path)
    assert verify(capsys, repo)[0] == 0
    repository = git.Repo(repo)
    old_head = repository.head.commit.hexsha
    # Rewrite the branch (same files, new commits), then merge the old history back so
    # that every statement's commit is reachable again.
    rewritten = git.Commit.create_from_tree(
        repository, repository.head.commit.tree, "Rewritten history", parent_commits=[]
    )
    repository.head.reference.set_commit(rewritten)
    repository.git.merge("-s", "ours", "--allow-unrelated-histories", "-m", "Merge", old_head)
    code, data = verify(capsys, repo)
    assert code == 1
    assert data["documents"][0]["status"] == "effective"  # the repository alone is fooled
    [line] = rollback_findings(data)
    assert f"no longer descends from commit {old_head[:12]}" in line


def test_a_deliberate_rollback_is_accepted_with_a_reason_and_recorded(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    push(repo, tmp_path)
    assert verify(capsys, repo)[0] == 0
    code, _, err = run(capsys, "--root", str(repo), "verify", "--accept-rollback")
    assert (code == 2 and "needs --reason" in err) or "no rollback to accept" in err
    git.Repo(repo).git.reset("--hard", "HEAD~1")
    assert verify(capsys, repo)[0] == 1
    code, _, err = run(capsys, "--root", str(repo), "verify", "--accept-rollback")
    assert code == 2 and "--accept-rollback needs --reason TEXT" in err
    code, _, err = run(capsys, "--root", str(repo), "verify", "--accept-rollback", "--reason",
                       "CC-2026-0160: approval made on the wrong branch")  # fmt: skip
    assert code == 0, err
    # The approval's statement and signature, and the commit that left the branch.
    assert "rollback of branch" in err and "accepted and recorded (3 item(s) lost)" in err
    mark = json.loads((Path(git.Repo(repo).git_dir) / "qms/high-water.json").read_text())
    [accepted] = mark["accepted"]
    assert accepted["reason"] == "CC-2026-0160: approval made on the wrong branch"
    assert accepted["by"] == "Test Author" and len(accepted["lost"]) == 3
    assert verify(capsys, repo)[0] == 0


def test_rewriting_ones_own_unpushed_commits_is_no_alarm(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert verify(capsys, repo)[0] == 0  # nothing pushed yet
    repository = git.Repo(repo)
    repository.git.commit("--amend", "-m", "Approve POL-ACC-001 2.0: approved (amended)")
    assert verify(capsys, repo)[0] == 0
    # Once pushed, the same amend is a rewrite of what others may have.
    push(repo, tmp_path)
    assert verify(capsys, repo)[0] == 0
    repository.git.commit("--amend", "-m", "Approve POL-ACC-001 2.0: approved (again)")
    code, data = verify(capsys, repo)
    assert code == 1 and "no longer descends from commit" in rollback_findings(data)[0]


def test_a_damaged_mark_is_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify(capsys, repo)[0] == 0
    mark = Path(git.Repo(repo).git_dir) / "qms/high-water.json"
    branch = git.Repo(repo).active_branch.name
    mark.write_text(json.dumps({"branches": {branch: {"head": 1}}}))
    code, _, err = run(capsys, "--root", str(repo), "verify")
    assert code == 2 and "high-water.json is damaged" in err and "Traceback" not in err


def test_a_detached_head_is_not_judged(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify(capsys, repo)[0] == 0
    git.Repo(repo).git.checkout("HEAD~1")
    code, data = verify(capsys, repo)
    assert code == 0 and data["high_water"]["branch"] is None
    code, _, err = run(capsys, "--root", str(repo), "verify")
    assert "HEAD is detached, so this clone's high-water mark was not checked" in err


def test_a_published_release_witnesses_what_a_fresh_clone_cannot_know(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    published = publish_signed(capsys, repo, team, tmp_path)
    assert verify(capsys, repo, "--witness", str(published))[0] == 0
    manifest = json.loads((published / "R1/manifest.json").read_text())
    attested = manifest["witness"]
    assert any(p.startswith("signatures/approvals/POL-ACC-001/2.0/") for p in attested)
    assert any(p.startswith("signatures/registry/") for p in attested)
    # Force-push a history without the release and the last approval; a new clone of it
    # has no mark to compare with, and verifies on its own.
    approval = commit_named(repo, "Approve POL-ACC-001 2.0: approved")
    git.Repo(repo).git.reset("--hard", f"{approval.hexsha}^")
    fresh = tmp_path / "fresh"
    git.Repo.clone_from(str(repo), fresh)
    code, data = verify(capsys, fresh)
    assert code == 0
    code, data = verify(capsys, fresh, "--witness", str(published))
    assert code == 1
    lines = [f"{f['path']}: {f['message']}" for f in data["witness"]]
    assert any(
        line.startswith("signatures/releases/R1/manifest.json: is gone, but published release R1")
        for line in lines
    )
    assert any(line.startswith("signatures/approvals/POL-ACC-001/2.0/approved--") for line in lines)
    # The same releases read over HTTP, as a CI job would from the staff web server.
    with served(published) as url:
        code, data = verify(capsys, fresh, "--witness", url)
    assert code == 1
    assert sorted(f"{f['path']}: {f['message']}" for f in data["witness"]) == sorted(lines)
    # A folder that does not verify is no witness.
    (published / "R1/policies/index.html").write_text("<p>edited</p>")
    code, data = verify(capsys, fresh, "--witness", str(published / "R1"))
    assert code == 1 and "not a witness, it does not verify" in data["witness"][0]["message"]


def test_a_hostile_witness_server_cannot_write_outside_or_send_the_client_elsewhere(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    site = tmp_path / "evil"
    site.mkdir()
    outside = tmp_path / "pwned"
    manifest = {
        "schema": "qms-release/1", "name": "R1", "commit": "0" * 40, "created": "x",
        "sets": {}, "files": {}, "tools": {}, "signer_roles": ["qa"],
        "trust_roots": ["../" * 12 + str(outside).lstrip("/")],
    }  # fmt: skip
    (site / "manifest.json").write_text(json.dumps(manifest))
    with served(site) as url:
        code, data = verify(capsys, repo, "--witness", url)
    assert code == 1 and "not a witness" in data["witness"][0]["message"]
    assert not list(tmp_path.glob("pwned*"))


def test_json_with_a_long_unterminated_string_is_refused_at_once() -> None:
    from qms.model.parsing import load_json

    with pytest.raises(ValueError, match="not valid JSON: Unterminated string"):
        load_json(b'"' + b'\\"' * 500_000)


def test_a_witness_server_may_not_redirect_to_another_server(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "inside").mkdir()
    (tmp_path / "inside/secret.txt").write_text("internal")

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", f"{inside}secret.txt")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    with (
        served(tmp_path / "inside") as inside,
        ThreadingHTTPServer(("127.0.0.1", 0), Redirect) as server,
    ):
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            code, _, err = run(capsys, "--root", str(repo), "verify", "--witness",
                               f"http://127.0.0.1:{server.server_address[1]}/")  # fmt: skip
        finally:
            server.shutdown()
            thread.join()
    assert code == 2 and "redirects to another server" in err
