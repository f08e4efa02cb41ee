"""Version and change control on real temporary git repositories."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import tarfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import git
import pytest

from tests.conftest import ROOTS
from tests.signing_repo import Team, commit_all, make_signing_repo, run, team

__all__ = ["team"]

DOC = "POL-ACC-001"
DOC_PATH = "docs/policies/pol-acc-001.md"


@pytest.fixture
def repo(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    return make_signing_repo(tmp_path, team, capsys, ROOTS / "test-handbook")


def sign_all(capsys: pytest.CaptureFixture[str], root: Path, team: Team) -> None:
    for person, meaning in (
        (team.author, "authored"), (team.reviewer, "reviewed"), (team.approver, "approved"),
    ):  # fmt: skip
        code, _, err = run(
            capsys, "--root", str(root), "approve", DOC, "--meaning", meaning,
            "--key", person.fingerprint, "--gnupghome", str(person.home), "--yes",
        )  # fmt: skip
        assert code == 0, err


def edit(root: Path, old: str, new: str, path: str = DOC_PATH) -> None:
    file = root / path
    text = file.read_text(encoding="utf-8")
    assert old in text, old
    file.write_text(text.replace(old, new), encoding="utf-8")


def check(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, list[str]]:
    code, out, _ = run(capsys, "--root", str(root), "check", "--quick")
    return code, out.splitlines()


def test_change_without_bump_is_refused_then_accepted_after_bump(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    edit(repo, "least privilege", "least privilege and need to know")
    code, lines = check(capsys, repo)
    assert code == 1
    assert lines == [
        f"{DOC_PATH}:5: {DOC} changed since version 2.0 was approved; raise the version and "
        "record a change_reason"
    ]
    code, out, _ = run(capsys, "--root", str(repo), "bump", DOC, "--reason", "Need to know added")
    assert (code, out) == (0, f"{DOC}: version 2.0 -> 2.1\n")
    text = (repo / DOC_PATH).read_text()
    assert 'version: "2.1"' in text and 'change_reason: "Need to know added"' in text
    assert check(capsys, repo) == (0, [])


def test_new_version_needs_a_change_reason(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    edit(repo, 'version: "2.0"', 'version: "2.1"')
    edit(repo, "change_reason: Annual review; added MFA for remote access\n", "")
    code, lines = check(capsys, repo)
    assert code == 1
    assert lines == [
        f"{DOC_PATH}:1: version 2.1 changes approved version 2.0: change_reason must say why"
    ]


def test_version_going_backwards_is_refused(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(repo, 'version: "2.0"', 'version: "2.1"')
    commit_all(repo, "2.1")
    edit(repo, 'version: "2.1"', 'version: "1.9"')
    code, lines = check(capsys, repo)
    assert code == 1
    [line] = lines
    assert line.startswith(f"{DOC_PATH}:5: version 1.9 is lower than 2.1, recorded in commit ")
    assert line.endswith("; versions never go backwards")


def test_history_follows_renames_and_lists_approvals(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    repository = git.Repo(repo)
    repository.index.move([DOC_PATH, "docs/policies/access-control.md"])
    repository.index.commit("Rename the access control policy")
    moved = "docs/policies/access-control.md"
    edit(repo, "least privilege", "least privilege and need to know", moved)
    assert run(capsys, "--root", str(repo), "bump", DOC, "--reason", "Need to know")[0] == 0
    commit_all(repo, "Version 2.1")
    code, out, _ = run(capsys, "--root", str(repo), "history", DOC, "--json")
    assert code == 0
    versions = json.loads(out)["versions"]
    assert [v["version"] for v in versions] == ["2.0", "2.1"]
    assert versions[0]["path"] == moved  # the rename is part of version 2.0's span
    assert versions[0]["approved"] is True
    assert [s["name"] for s in versions[0]["signatures"]] == [
        "Lena Vogt", "Marco Bianchi", "Sarah ONeill"
    ]  # fmt: skip
    assert versions[1] == {**versions[1], "approved": False, "signatures": [],
                           "change_reason": "Need to know", "path": moved}  # fmt: skip
    assert versions[1]["author"] == "Test Author"
    datetime.fromisoformat(versions[1]["date"].replace("Z", "+00:00"))


def test_redline_of_a_known_change(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sign_all(capsys, repo, team)
    edit(repo, "granted on least privilege", "granted on need to know")
    run(capsys, "--root", str(repo), "bump", DOC, "--reason", "Wording")
    html = tmp_path / "redline.html"
    code, out, err = run(capsys, "--root", str(repo), "diff", DOC, "--html", str(html))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == [f"--- version 2.0 ({lines[0].split('(')[1]}", "+++ working copy"]
    assert "-Access to Corvane systems is granted on least privilege." in lines
    assert "+Access to Corvane systems is granted on need to know." in lines
    assert '-version: "2.0"' in lines and '+version: "2.1"' in lines
    page = html.read_text(encoding="utf-8")
    assert re.search(r"<del>[^<]*least[^<]*</del>", page)
    assert re.search(r"<ins>[^<]*need[^<]*</ins>", page)
    assert "<script" not in page


def test_reviews_due_in_ten_days_and_overdue(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # POL-ACC-001: effective 2026-01-15, every 12 months -> due 2027-01-15.
    # SOP-BCK-001: effective 2027-03-01, every 12 months -> due 2028-03-01.
    on = date(2027, 1, 5)
    epoch = int(datetime(on.year, on.month, on.day, tzinfo=UTC).timestamp())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    edit(repo, "effective: 2027-03-01", "effective: 2025-12-01", "docs/procedures/sop-bck-001.md")
    code, out, _ = run(capsys, "--root", str(repo), "reviews", "--json")
    assert code == 0
    reviews = {r["id"]: r for r in json.loads(out)["reviews"]}
    assert reviews["POL-ACC-001"]["days"] == 10
    assert reviews["POL-ACC-001"]["state"] == "due"
    assert reviews["SOP-BCK-001"]["state"] == "overdue"
    assert reviews["SOP-BCK-001"]["days"] == (date(2026, 12, 1) - on).days
    assert "POL-CRY-001" not in reviews  # no effective date, nothing due
    assert run(capsys, "--root", str(repo), "reviews", "--strict")[0] == 1
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch - int(timedelta(days=60).total_seconds())))
    assert run(capsys, "--root", str(repo), "reviews", "--strict")[0] == 0


def test_new_document_gets_the_next_free_id_never_a_reused_one(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--root", str(repo), "new", "--type", "procedure", "--area", "BCK",
                       "--title", "Restore testing")  # fmt: skip
    assert (code, out) == (0, "SOP-BCK-002 created at docs/procedures/sop-bck-002.md "
                              "(version 0.1, draft)\n")  # fmt: skip
    text = (repo / "docs/procedures/sop-bck-002.md").read_text()
    assert 'version: "0.1"' in text and "## Procedure" in text and "## Records" in text
    assert check(capsys, repo) == (0, [])
    # Withdraw SOP-BCK-002 after committing it: its number stays taken.
    commit_all(repo, "Draft SOP-BCK-002")
    (repo / "docs/procedures/sop-bck-002.md").unlink()
    commit_all(repo, "Withdraw SOP-BCK-002")
    code, out, _ = run(capsys, "--root", str(repo), "new", "--type", "procedure", "--area", "BCK",
                       "--title", "Restore testing again")  # fmt: skip
    assert out.startswith("SOP-BCK-003 created")
    code, out, _ = run(capsys, "--root", str(repo), "new", "--type", "work-instruction",
                       "--title", "Badge printer")  # fmt: skip
    assert out.startswith("WI-001 created at docs/work-instructions/wi-001.md")
    assert (repo / "docs/work-instructions/index.md").is_file()


def test_reusing_a_withdrawn_id_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = (repo / "docs/procedures/sop-bck-001.md").read_text()
    (repo / "docs/procedures/sop-bck-001.md").unlink()
    commit_all(repo, "Withdraw SOP-BCK-001")
    (repo / "docs/procedures/backup-new.md").write_text(
        source.replace("Backup and Restore", "Backups, reborn")
    )
    commit_all(repo, "A new document under the old id")
    code, lines = check(capsys, repo)
    assert code == 1
    [line] = lines
    assert line.startswith(
        "docs/procedures/backup-new.md:2: id SOP-BCK-001 was withdrawn in commit "
    )


def test_audit_trail_lists_every_event_in_time_order(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    edit(repo, "least privilege", "need to know")
    run(capsys, "--root", str(repo), "bump", DOC, "--reason", "Need to know")
    commit_all(repo, "2.1")
    code, out, _ = run(capsys, "--root", str(repo), "audit-trail", DOC, "--format", "json")
    assert code == 0
    events = json.loads(out)
    assert [e["event"] for e in events] == [
        "created", "authored", "reviewed", "approved", "version bumped from 2.0"
    ]  # fmt: skip
    assert [e["version"] for e in events] == ["2.0", "2.0", "2.0", "2.0", "2.1"]
    assert events[-1]["why"] == "Need to know"
    assert events[1]["who"].startswith(f"Lena Vogt (author, key {team.author.fingerprint})")
    assert [e["when"] for e in events] == sorted(e["when"] for e in events)
    code, out, _ = run(capsys, "--root", str(repo), "audit-trail", DOC, "--format", "csv")
    assert out.lstrip("\ufeff").splitlines()[0] == '"when","event","version","who","commit","why"'


def test_audit_trail_is_an_aligned_table_unless_another_format_is_asked(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    code, out, _ = run(capsys, "--root", str(repo), "audit-trail", DOC)
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split("  ")[0] == "WHEN (UTC)" and "|" not in out
    assert [row.split()[2] for row in rows] == ["created", "authored", "reviewed", "approved"]
    # Columns line up: each row's EVENT starts where the header's does.
    column = header.index("EVENT")
    assert all(row[column - 2 : column] == "  " and row[column] != " " for row in rows)
    assert f"Lena Vogt (author, key {team.author.fingerprint})" in rows[1]
    commit = json.loads(run(capsys, "--root", str(repo), "audit-trail", DOC, "--json")[1])[0]
    assert f"  {commit['commit'][:12]}  " in rows[0] and commit["commit"] not in out
    for option in (["--format", "markdown"], ["--format", "md"]):
        out = run(capsys, "--root", str(repo), "audit-trail", DOC, *option)[1]
        assert out.splitlines()[:2] == ["| when | event | version | who | commit | why |",
                                        "|---|---|---|---|---|---|"]  # fmt: skip
    as_json = run(capsys, "--root", str(repo), "audit-trail", DOC, "--format", "json")[1]
    assert run(capsys, "--root", str(repo), "audit-trail", DOC, "--json")[1] == as_json


def test_every_command_taking_a_document_id_accepts_lower_case(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    lower = DOC.lower()
    code, _, err = run(
        capsys, "--root", str(repo), "approve", lower, "--meaning", "authored",
        "--key", team.author.fingerprint, "--gnupghome", str(team.author.home), "--yes",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(run(capsys, "--root", str(repo), "history", lower, "--json")[1])["id"] == DOC
    assert run(capsys, "--root", str(repo), "audit-trail", lower)[0] == 0
    code, out, _ = run(capsys, "--root", str(repo), "verify", lower, "--json")
    assert [d["id"] for d in json.loads(out)["documents"]] == [DOC]
    edit(repo, "least privilege", "need to know")
    code, out, _ = run(capsys, "--root", str(repo), "bump", lower, "--reason", "Wording")
    assert (code, out) == (0, f"{DOC}: version 2.0 -> 2.1\n")
    code, out, _ = run(capsys, "--root", str(repo), "diff", lower, "--from", "2.0")
    assert code == 0 and '+version: "2.1"' in out.splitlines()
    code, _, err = run(capsys, "--root", str(repo), "diff", "pol-acc-01")
    assert code == 2 and "did you mean POL-ACC-001?" in err


def test_pre_commit_hook_runs_the_quick_check(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, _ = run(capsys, "--root", str(repo), "install-hook")
    assert code == 0
    hook = repo / ".git/hooks/pre-commit"
    text = hook.read_text()
    assert text.startswith("#!/bin/sh\n# Installed by 'qms install-hook'")
    assert "-m qms --root" in text and text.rstrip().endswith("check --quick")
    assert hook.stat().st_mode & 0o111
    (repo / ".git/hooks/pre-commit").write_text("#!/bin/sh\nexit 0\n")
    code, _, err = run(capsys, "--root", str(repo), "install-hook")
    assert code == 1 and "is not ours" in err
    # A repository that keeps its hooks elsewhere (core.hooksPath) gets the hook there.
    with git.Repo(repo).config_writer() as config:
        config.set_value("core", "hooksPath", ".githooks")
    code, out, _ = run(capsys, "--root", str(repo), "install-hook")
    assert code == 0 and out.strip().endswith(str(repo / ".githooks/pre-commit"))
    assert (repo / ".githooks/pre-commit").read_text() == text


def approve_version_2_1(repo: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> None:
    """Approve 2.0, then change, bump and approve 2.1: 2.0 is superseded."""
    sign_all(capsys, repo, team)
    edit(repo, "least privilege", "need to know")
    run(capsys, "--root", str(repo), "bump", DOC, "--reason", "Need to know")
    commit_all(repo, "2.1")
    sign_all(capsys, repo, team)


def build_site(repo: Path, output: Path) -> Path:
    """Build the handbook's site; return its HTML folder."""
    from qms.config import load_config
    from qms.services.sphinx_run import run_sphinx

    site = run_sphinx(load_config(repo), "html", output, fresh=True, progress=None)
    assert site.findings == ()
    return site.outdir


def test_site_shows_revision_history_and_superseded_pages(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    approve_version_2_1(repo, team, capsys)
    outdir = build_site(repo, tmp_path / "site")
    html = (outdir / "policies/pol-acc-001.html").read_text(encoding="utf-8")
    history = html[html.index("Revision history") :]
    assert 'href="../superseded/pol-acc-001-v2.0.html">2.0</a>' in history
    assert "Need to know" in history
    old = (outdir / "superseded/pol-acc-001-v2.0.html").read_text(encoding="utf-8")
    assert (
        'SUPERSEDED: version 2.0 was replaced by <a href="../policies/pol-acc-001.html">'
        "version 2.1, the version in force</a>; not for use"
    ) in old
    assert "granted on least privilege" in old  # the approved text of 2.0, rendered
    # Not in the search index (the register, which is, names the word "superseded").
    assert "pol-acc-001-v2.0" not in (outdir / "searchindex.js").read_text()


def test_register_lists_superseded_versions_and_withdrawn_documents_below(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    approve_version_2_1(repo, team, capsys)
    (repo / "docs/policies/pol-cry-001.md").unlink()
    commit_all(repo, "Withdraw POL-CRY-001")
    withdrawn_in = git.Repo(repo).head.commit.hexsha
    outdir = build_site(repo, tmp_path / "site")
    html = (outdir / "register.html").read_text(encoding="utf-8")
    statuses = re.search(r'<select name="status">(.*?)</select>', html, re.S)
    assert statuses, "no status filter"
    offered = re.findall(r'<option value="([^"]+)">', statuses.group(1))
    assert offered == ["draft", "effective", "retired", "superseded"]
    current, _, retired = html.partition('<p class="rubric">Superseded and withdrawn</p>')
    assert retired, "no section for documents out of force"
    assert "POL-CRY-001" not in current and "POL-ACC-001" in current
    body = retired[retired.index("<tbody>") :]
    rows = re.findall(r"<tr class=\"row-(?:even|odd)\"(.*?)</tr>", body, re.S)
    assert len(rows) == 2
    superseded, withdrawn = rows
    assert 'data-status="superseded"' in superseded
    assert 'href="superseded/pol-acc-001-v2.0.html"' in superseded and "<p>2.0</p>" in superseded
    assert (
        'replaced by <a class="reference internal" href="policies/pol-acc-001.html">' in superseded
    )
    assert 'data-type="policy" data-status="retired"' in withdrawn
    assert "POL-CRY-001" in withdrawn and "href" not in withdrawn  # no page to link to
    assert f"withdrawn in commit {withdrawn_in[:12]}" in withdrawn
    # The control block's tables scroll in their own containers on small screens.
    block = (outdir / "policies/pol-acc-001.html").read_text(encoding="utf-8")
    for table in ("qms-signatures", "qms-history"):
        assert re.search(
            rf'<div class="qms-scroll docutils container">\s*<table class="{table}', block
        )


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_new_and_bump_write_files_as_an_editor_would(
    repo: Path, capsys: pytest.CaptureFixture[str], umask: int
) -> None:
    previous = os.umask(umask)
    try:
        code, _, err = run(capsys, "--root", str(repo), "new", "--type", "procedure",
                           "--area", "BCK", "--title", "Restore testing")  # fmt: skip
        assert code == 0, err
        created = repo / "docs/procedures/sop-bck-002.md"
        # The mode the umask gives a new file, not mkstemp's owner-only 0600.
        assert stat.S_IMODE(created.stat().st_mode) == 0o666 & ~umask
        # A file that exists keeps the mode its owner gave it.
        (repo / DOC_PATH).chmod(0o664)
        edit(repo, "least privilege", "need to know")
        code, _, err = run(capsys, "--root", str(repo), "bump", DOC, "--reason", "Need to know")
        assert code == 0, err
        assert stat.S_IMODE((repo / DOC_PATH).stat().st_mode) == 0o664
    finally:
        os.umask(previous)


def test_an_export_without_git_says_history_is_unavailable(
    repo: Path, team: Team, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    commit_all(repo, "Approve")
    # What `git archive HEAD` hands out: the files of the commit, no .git.
    archive = io.BytesIO()
    git.Repo(repo).archive(archive, format="tar")
    archive.seek(0)
    export = tmp_path / "export"
    with tarfile.open(fileobj=archive) as tar:
        tar.extractall(export, filter="data")
    assert not (export / ".git").exists() and (export / DOC_PATH).is_file()
    reason = "the handbook is not in a git repository (an export without .git has no history)"
    for command in ("history", "audit-trail"):
        code, out, err = run(capsys, "--root", str(export), command, DOC)
        assert (code, out) == (2, "")
        assert err == (
            f"qms {command}: history is unavailable: {reason}; run it in a clone of the handbook\n"
        )
        code, out, err = run(capsys, "--root", str(export), command, DOC, "--json")
        key = "versions" if command == "history" else "events"
        assert code == 2 and json.loads(out) == {"id": DOC, key: [], "history_unavailable": reason}
    code, out, _ = run(capsys, "--root", str(export), "audit-trail", DOC, "--format", "csv")
    assert (code, out) == (2, "")
    # In the clone, the same commands run and say history is available.
    code, out, _ = run(capsys, "--root", str(repo), "history", DOC, "--json")
    assert code == 0 and json.loads(out)["history_unavailable"] is None
    assert json.loads(out)["versions"][0]["approved"]
