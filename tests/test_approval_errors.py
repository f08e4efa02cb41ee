"""Errors an approver will meet: one actionable line, exit 2, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import git
import gnupg
import pytest

from qms.config import load_config
from qms.services.sphinx_run import run_sphinx
from tests.conftest import ROOTS
from tests.keys import Person, make_person, remove_home, short_tempdir
from tests.signing_repo import Team, commit_all, make_signing_repo, run, team
from tests.test_approvals import approve, forge_review

__all__ = ["team"]

DOC = "POL-ACC-001"


@pytest.fixture
def repo(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    return make_signing_repo(tmp_path, team, capsys, ROOTS / "test-handbook")


def one_line(err: str) -> str:
    assert err.count("\n") == 1, err
    assert err.startswith("qms: error: ")
    return err


def test_gpg_not_installed(
    repo: Path,
    team: Team,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for argv in (("verify",), ("approve", DOC, "--meaning", "authored")):
        code, _, err = run(capsys, "--root", str(repo), *argv)
        assert code == 2
        assert one_line(err) == (
            "qms: error: gpg (GnuPG 2) is not installed or cannot run; install it "
            "(Debian/Ubuntu: apt-get install gnupg) and try again\n"
        )


def test_no_secret_key_for_key(repo: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "--root", str(repo), "approve", DOC, "--meaning", "authored",
        "--key", team.author.fingerprint, "--gnupghome", str(team.reviewer.home), "--yes",
    )  # fmt: skip
    assert code == 2
    assert one_line(err) == (
        f"qms: error: no secret key for {team.author.fingerprint} in this GnuPG home; pass "
        "--key with one of your own keys, or --gnupghome where it lives\n"
    )


def test_locked_key_without_agent(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    locked = make_person("Karl Locked", tmp_path, passphrase="correct horse battery")
    try:
        code, _, err = run(
            capsys, "--root", str(repo), "signers", "add", str(locked.public_key),
            "--name", locked.name, "--email", locked.email, "--role", "author",
            "--key", team.admin.fingerprint, "--gnupghome", str(team.admin.home), "--yes",
        )  # fmt: skip
        assert code == 0, err
        code, _, err = run(
            capsys, "--root", str(repo), "approve", DOC, "--meaning", "authored",
            "--key", locked.fingerprint, "--gnupghome", str(locked.home), "--yes",
        )  # fmt: skip
        assert code == 2
        assert one_line(err).startswith(f"qms: error: gpg could not sign with {locked.fingerprint}")
        assert "if the key is locked, unlock it in gpg-agent" in err
    finally:
        remove_home(locked)


def test_corrupted_key_file_is_a_located_failure(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = next((repo / "signatures/keys").glob("*.asc"))
    key.write_text(
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\ngarbage\n-----END PGP PUBLIC KEY BLOCK-----\n"
    )
    code, out, _ = run(capsys, "--root", str(repo), "verify")
    assert code == 1
    assert (
        f"signatures/keys/{key.name}: not a valid public key; restore it from git history, "
        "keys are never edited"
    ) in out


def test_corrupted_signature_file_is_a_named_failure(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    assert approve(capsys, repo, team.author, "authored")[0] == 0
    signature = next((repo / "signatures/approvals" / DOC / "2.0").glob("*.asc"))
    signature.write_text("not a signature\n")
    commit_all(repo, "Corrupt")
    code, out, _ = run(capsys, "--root", str(repo), "verify", DOC)
    assert code == 1
    assert f"{DOC} 2.0: authored by Lena Vogt: signature does not verify: " in out
    code, out, _ = run(capsys, "--root", str(repo), "verify", DOC, "--json")
    [finding] = json.loads(out)["documents"][0]["findings"]
    assert finding["path"] == signature.with_suffix("").relative_to(repo).as_posix()
    assert finding["message"].startswith(f"{DOC} 2.0: signature does not verify")


def test_malformed_registry_is_a_located_failure(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "signatures/signers.yaml").write_text("revision: [1\n")
    (repo / "signatures/registry/0002.yaml").write_text("revision: 2\n")
    code, out, _ = run(capsys, "--root", str(repo), "verify")
    assert code == 1
    assert (
        "signatures/registry/0002.yaml: malformed signer registry: expected the keys "
        "'revision' and 'signers', and optionally 'policy' and 'wording'; restore the last "
        "approved version with git, then change it only with qms signers"
    ) in out
    assert "signatures/signers.yaml: malformed signer registry: not valid YAML" in out
    code, out, err = run(capsys, "--root", str(repo), "signers", "list")
    assert code == 1
    assert "signatures/registry/0002.yaml: malformed signer registry" in err


def test_registry_change_by_a_non_administrator_is_refused(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "--root", str(repo), "signers", "add", str(team.outsider.public_key),
        "--name", team.outsider.name, "--email", team.outsider.email, "--role", "qa",
        "--key", team.author.fingerprint, "--gnupghome", str(team.author.home), "--yes",
    )  # fmt: skip
    assert code == 1
    assert one_line(err) == (
        "qms: error: cannot approve the registry change: Lena Vogt is not a registry-admin "
        "in the previous approved registry; pass --key with a registry administrator's key\n"
    )


def test_key_file_with_two_keys_is_refused(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    both = tmp_path / "both.asc"
    both.write_bytes(team.outsider.public_key.read_bytes() + team.author.public_key.read_bytes())
    code, _, err = run(
        capsys, "--root", str(repo), "signers", "add", str(both), "--name", "Two Keys",
        "--email", "two@corvane.example", "--role", "qa",
        "--key", team.admin.fingerprint, "--gnupghome", str(team.admin.home), "--yes",
    )  # fmt: skip
    assert code == 2
    assert "the key file holds 2 keys" in one_line(err)


def test_signers_list(repo: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--root", str(repo), "signers", "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["FINGERPRINT", "NAME", "ROLES"]
    assert len(lines) == 6
    assert any(team.approver.fingerprint in line and "qa,author" in line for line in lines)


def test_secret_key_files_are_refused(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    secret = team.outsider.gpg().export_keys(
        team.outsider.fingerprint, secret=True, armor=True, expect_passphrase=False
    )
    key_file = tmp_path / "secret.asc"
    key_file.write_text(secret)
    code, _, err = run(
        capsys,
        "--root",
        str(repo),
        "signers",
        "add",
        str(key_file),
        "--name",
        "Olaf",
        "--email",
        "olaf@corvane.example",
        "--role",
        "qa",
        "--key",
        team.admin.fingerprint,
        "--gnupghome",
        str(team.admin.home),
        "--yes",
    )
    assert code == 2
    assert "holds a secret key, which must never be shared or committed" in one_line(err)
    assert not list((repo / "signatures/keys").glob(f"{team.outsider.fingerprint}.asc"))


def test_a_deleted_or_rewritten_signature_file_fails_verify(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    assert approve(capsys, repo, team.author, "authored")[0] == 0
    statement = next((repo / "signatures/approvals" / DOC / "2.0").glob("*.json"))
    relative = statement.relative_to(repo).as_posix()
    original = statement.read_bytes()
    statement.unlink()
    code, out, _ = run(capsys, "--root", str(repo), "verify", "--json")
    assert code == 1
    [altered] = json.loads(out)["altered"]
    assert altered["path"] == relative
    assert altered["message"].startswith("deleted in the working tree; signature files are")
    # Committing the deletion (here as a rename) does not make it go away: history remembers.
    statement.with_name(statement.name + ".asc").rename(repo / "kept.asc")
    commit_all(repo, "Withdraw the authored signature")
    code, out, _ = run(capsys, "--root", str(repo), "verify")
    assert code == 1
    head = git.Repo(repo).head.commit.hexsha[:12]
    assert f"{relative}: deleted in commit {head}; signature files are only ever added" in out
    # Nor does putting other bytes in its place.
    statement.write_bytes(original.replace(b"authored", b"reviewed"))
    commit_all(repo, "Put something back")
    code, out, _ = run(capsys, "--root", str(repo), "verify")
    assert code == 1
    assert f"{relative}: modified in commit" in out
    # The exact bytes first committed, restored, are fine again.
    statement.write_bytes(original)
    (repo / "kept.asc").rename(statement.with_name(statement.name + ".asc"))
    commit_all(repo, "Restore the record")
    assert run(capsys, "--root", str(repo), "verify")[0] == 0


def test_the_site_build_reports_altered_signature_files_every_build(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert approve(capsys, repo, team.author, "authored")[0] == 0
    statement = next((repo / "signatures/approvals" / DOC / "2.0").glob("*.json"))
    statement.with_name(statement.name + ".asc").unlink()
    commit_all(repo, "Drop a signature")
    statement.unlink()  # and, not yet committed, its statement
    config = load_config(repo)
    for fresh in (True, False):  # the second build keeps what it learnt of the history
        run = run_sphinx(config, "html", tmp_path / "site", fresh=fresh, progress=None)
        messages = [f.render() for f in run.findings if f.code == "qms.altered"]
        assert len(messages) == 2, messages
        assert any("deleted in the working tree" in m for m in messages)
        assert any(".json.asc: deleted in commit" in m for m in messages)


def revoke(capsys: pytest.CaptureFixture[str], repo: Path, team: Team, who: Person) -> None:
    code, _, err = run(
        capsys, "--root", str(repo), "signers", "revoke", who.fingerprint,
        "--at", "2020-01-01T00:00:00Z", "--reason", "Key lost",
        "--key", team.admin.fingerprint, "--gnupghome", str(team.admin.home), "--yes",
    )  # fmt: skip
    assert code == 0, err


def test_approve_without_key_lists_the_registered_keys_to_choose_from(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    home = short_tempdir("qk-")  # one person's keyring holding two registered keys
    try:
        keyring = gnupg.GPG(gnupghome=str(home))
        for person in (team.author, team.approver):
            secret = person.gpg().export_keys(
                person.fingerprint, secret=True, expect_passphrase=False
            )
            assert keyring.import_keys(secret).count == 1
        argv = ["--root", str(repo), "approve", DOC, "--meaning", "authored", "--yes"]
        argv += ["--gnupghome"]
        code, out, err = run(capsys, *argv, str(home))
        assert (code, out) == (2, "")
        first, *listed = err.splitlines()
        assert first == "qms: error: you hold 2 registered keys; choose one with --key FINGERPRINT:"
        assert sorted(listed) == sorted([
            f"  {team.author.fingerprint}  Lena Vogt  (author)",
            f"  {team.approver.fingerprint}  Sarah ONeill  (qa, author)",
        ])  # fmt: skip
        # A key whose registration no longer counts is not a choice: the other one signs.
        revoke(capsys, repo, team, team.approver)
        code, out, err = run(capsys, *argv, str(home))
        assert code == 0, err
        assert out.startswith(f"{DOC} 2.0: authored by Lena Vogt (author) at ")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_verify_prints_one_short_line_per_failed_signature(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    for person, meaning in (
        (team.author, "authored"), (team.reviewer, "reviewed"), (team.approver, "approved"),
    ):  # fmt: skip
        assert approve(capsys, repo, person, meaning)[0] == 0
    revoke(capsys, repo, team, team.reviewer)
    code, out, err = run(capsys, "--root", str(repo), "verify")
    assert code == 1
    lines = out.splitlines()
    failed = lines[lines.index(next(line for line in lines if line.startswith(f"{DOC} 2.0: "))) :]
    assert failed == [
        f"{DOC} 2.0: reviewed by Marco Bianchi: signed after Marco Bianchi's key was revoked "
        "at 2020-01-01T00:00:00Z (Key lost)",
        f"{DOC} 2.0: approved by Sarah ONeill: approved before it was reviewed: signatures "
        "must follow the order authored, reviewed, approved",
    ]
    assert "signatures/approvals" not in out
    assert err.endswith(
        "qms verify: 2 failures ('qms verify --json' has each file and the full detail)\n"
    )
    data = json.loads(run(capsys, "--root", str(repo), "verify", "--json")[1])
    [document] = [d for d in data["documents"] if d["id"] == DOC]
    paths = [f["path"] for f in document["findings"]]
    assert [p.split("/")[-1].split("--")[0] for p in paths] == ["reviewed", "approved"]
    assert all(p.startswith(f"signatures/approvals/{DOC}/2.0/") for p in paths)


def test_verify_lines_shorten_fingerprints_to_the_long_key_id(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    for person, meaning in ((team.author, "authored"), (team.reviewer, "reviewed")):
        assert approve(capsys, repo, person, meaning)[0] == 0
    forge_review(repo, team)
    code, out, _ = run(capsys, "--root", str(repo), "verify")
    assert code == 1
    assert (
        f"{DOC} 2.0: reviewed by Marco Bianchi: signed with key {team.outsider.fingerprint[-16:]}, "
        f"but the statement names {team.reviewer.fingerprint[-16:]}"
    ) in out.splitlines()
    assert team.outsider.fingerprint not in out
