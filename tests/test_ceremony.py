"""The signing ceremony (21 CFR 11.50, 11.200): the summary a signer confirms on a terminal,
--yes for scripts, the wording recorded in the statement, and protected keys."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import git
import pytest

from qms.adapters.gpg import UserKeys
from qms.config import load_config
from qms.model.approval import Meaning, Statement
from qms.model.capa import Act, CapaStatement
from qms.model.capa_import import CapaImport, ExternalCapa
from qms.model.ceremony import DEFAULT_WORDING, SigningPolicy, accepts, protection_refusal
from qms.model.document import Version
from qms.model.impact import Assessment, Decision
from qms.model.migration import Migration, Tie
from qms.model.risk_acceptance import Acceptance
from qms.model.roster import RosterApproval
from qms.model.training_record import Completed, Method, TrainingRecord
from qms.services.content import document_content
from qms.services.handbook import load_handbook
from tests.conftest import ROOTS
from tests.keys import Person, make_person, remove_home
from tests.signing_repo import Team, commit_all, make_signing_repo, run, team

__all__ = ["team"]

DOC = "POL-ACC-001"
WORDS = "I wrote this policy and it says what the ISMS requires"


@pytest.fixture
def repo(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    return make_signing_repo(tmp_path, team, capsys, ROOTS / "test-handbook")


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Person]:
    """A signer whose key has a passphrase (and no agent cache)."""
    person = make_person("Karl Locked", tmp_path, passphrase="correct horse battery")
    yield person
    remove_home(person)


def key_of(person: Person) -> tuple[str, ...]:
    return ("--key", person.fingerprint, "--gnupghome", str(person.home))


def written(root: Path) -> list[str]:
    """Files git does not hold as committed: new ones, and changed ones."""
    repo = git.Repo(root)
    return sorted(repo.untracked_files) + [str(d.a_path) for d in repo.index.diff(None)]


def on_terminal(root: Path, argv: list[str], answer: bytes) -> tuple[int, str]:
    """Run the real `qms` with a pseudo-terminal as its terminal; answer the question."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "qms", "--root", str(root), *argv],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    shown = b""
    answered = False
    while True:
        # A guard against a hang, not a measured time: the command waits for the answer.
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            process.kill()
            raise AssertionError(f"qms printed nothing for 2 minutes: {shown!r}")
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        shown += chunk
        if not answered and b"Sign? [y/N]" in shown:
            os.write(leader, answer)
            answered = True
    os.close(leader)
    return process.wait(), shown.decode("utf-8").replace("\r\n", "\n")


def test_wording_defaults_and_overrides_are_one_policy() -> None:
    policy = SigningPolicy.from_dict(
        {"wording": {"authored": f"  {WORDS} ", "approved": DEFAULT_WORDING["approved"]}}
    )
    assert policy.wording("authored") == WORDS
    assert policy.wording("reviewed") == DEFAULT_WORDING["reviewed"]
    # Only what differs from the defaults is policy: restating one changes nothing.
    assert policy.as_dict() == {"wording": {"authored": WORDS}}
    assert SigningPolicy.from_dict({}).as_dict() == {}
    assert SigningPolicy.from_dict({"protected_key": True}).as_dict() == {"protected_key": True}
    assert protection_refusal(True, "none") is not None
    assert protection_refusal(True, "passphrase") is None
    assert protection_refusal(True, "smartcard") is None
    assert protection_refusal(False, "none") is None
    assert [accepts(a) for a in ("y\n", "YES", "", "n", "sure", "yy")] == [
        True, True, False, False, False, False,
    ]  # fmt: skip


def test_the_key_protection_gpg_reports(team: Team, locked: Person) -> None:
    assert UserKeys(locked.home).protection(locked.fingerprint) == "passphrase"
    assert UserKeys(team.author.home).protection(team.author.fingerprint) == "none"


def test_the_summary_on_a_terminal_and_declining_writes_nothing(repo: Path, team: Team) -> None:
    config = load_config(repo)
    [document] = [d for d in load_handbook(config).documents if d.id == DOC]
    digest = document_content(config, document).sha256
    head = git.Repo(repo).head.commit.hexsha
    argv = ["approve", DOC, "--meaning", "authored", *key_of(team.author)]
    code, shown = on_terminal(repo, argv, b"n\n")
    summary = shown.split("Sign? [y/N]")[0]
    assert f"Approve {DOC} {document.version}:" in summary
    assert f"{DOC} {document.title}" in summary
    assert digest in summary
    assert f"authored: \u201c{DEFAULT_WORDING['authored']}\u201d" in summary
    assert f"{team.author.name} (author)" in summary
    assert team.author.fingerprint in summary
    assert "time source" in summary and "local clock" in summary
    # Declined: exit 1, one line, nothing written or committed.
    assert code == 1, shown
    assert shown.rstrip().splitlines()[-1] == (
        "qms: error: not signed: you did not confirm; nothing was written"
    )
    assert git.Repo(repo).head.commit.hexsha == head
    assert written(repo) == []

    code, shown = on_terminal(repo, argv, b"y\n")
    assert code == 0, shown
    assert f"{DOC} {document.version}: authored by {team.author.name}" in shown
    assert git.Repo(repo).head.commit.hexsha != head


def test_without_a_terminal_it_asks_for_yes_and_writes_nothing(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    head = git.Repo(repo).head.commit.hexsha
    argv = ["--root", str(repo), "approve", DOC, "--meaning", "authored", *key_of(team.author)]
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err == (
        "qms: error: not signed: there is no terminal to confirm the summary on; "
        "pass --yes to sign from a script\n"
    )
    assert git.Repo(repo).head.commit.hexsha == head and written(repo) == []
    # The registry commands ask the same way.
    outsider = team.outsider
    code, _, err = run(
        capsys, "--root", str(repo), "signers", "add", str(outsider.public_key), "--name",
        outsider.name, "--email", outsider.email, "--role", "author", *key_of(team.admin),
    )  # fmt: skip
    assert code == 2 and "pass --yes" in err, err
    assert git.Repo(repo).head.commit.hexsha == head and written(repo) == []
    code, _, err = run(capsys, *argv, "--yes")
    assert code == 0, err


def test_the_wording_is_configured_approved_and_recorded(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    with (repo / "pyproject.toml").open("a") as handle:
        handle.write(f'\n[tool.qms.signing.wording]\nauthored = "{WORDS}"\n')
    commit_all(repo, "Our own wording")
    approve = ["--root", str(repo), "approve", DOC, "--meaning", "authored", "--yes"]
    # New wording is a change of what signatures mean: it counts once approved.
    code, _, err = run(capsys, *approve, *key_of(team.author))
    assert code == 1 and "signing differ from what registry revision" in err, err
    code, out, err = run(capsys, "--root", str(repo), "signers", "policy", "--yes",
                         *key_of(team.admin))  # fmt: skip
    assert code == 0, err
    # The administrator's revision records the words they confirmed, as approvals do.
    revision = sorted((repo / "signatures/registry").glob("*.yaml"))[-1]
    assert f"wording: {DEFAULT_WORDING['registry']}\n" in revision.read_text()
    assert run(capsys, *approve, *key_of(team.author))[0] == 0
    [path] = (repo / "signatures/approvals" / DOC).glob("*/authored--*.json")
    data = json.loads(path.read_bytes())
    assert data["schema"] == "qms-approval/4"
    assert data["wording"] == WORDS
    code, out, err = run(capsys, "--root", str(repo), "verify", "--json", DOC)
    [signature] = next(d for d in json.loads(out)["documents"] if d["id"] == DOC)["signatures"]
    assert signature["wording"] == WORDS
    # A statement of an earlier version, without wording, still reads as it was.
    earlier = Statement.from_bytes(path.read_bytes())
    assert earlier.meaning is Meaning.AUTHORED
    older = replace(earlier, wording="")
    assert json.loads(older.to_bytes())["schema"] == "qms-approval/3"
    assert Statement.from_bytes(older.to_bytes()) == older


def test_a_policy_requiring_protected_keys_refuses_a_bare_key(
    repo: Path, team: Team, locked: Person, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = (*key_of(team.admin), "--yes")
    code, _, err = run(
        capsys, "--root", str(repo), "signers", "add", str(locked.public_key), "--name",
        locked.name, "--email", locked.email, "--role", "author", *admin,
    )  # fmt: skip
    assert code == 0, err
    with (repo / "pyproject.toml").open("a") as handle:
        handle.write("\n[tool.qms.signing]\nprotected_key = true\n")
    commit_all(repo, "Signing keys must be protected")
    assert run(capsys, "--root", str(repo), "signers", "policy", *admin)[0] == 0
    head = git.Repo(repo).head.commit.hexsha
    approve = ["--root", str(repo), "approve", DOC, "--meaning", "authored", "--yes"]
    code, _, err = run(capsys, *approve, *key_of(team.author))
    assert code == 1
    assert err == (
        f"qms: error: cannot sign with {team.author.fingerprint}: the signing policy requires "
        "a protected key (passphrase or smartcard) and this one has neither; set a passphrase "
        f"(gpg --change-passphrase {team.author.fingerprint}) or move the key to a smartcard\n"
    )
    assert git.Repo(repo).head.commit.hexsha == head and written(repo) == []
    # A protected key passes the rule; here gpg then needs its passphrase, which no
    # terminal gives: the refusal is gpg's, not the policy's.
    code, _, err = run(capsys, *approve, *key_of(locked))
    assert code == 2 and f"gpg could not sign with {locked.fingerprint}" in err, err
    # The registry administrator's own bare key is refused for registry changes too.
    code, _, err = run(capsys, "--root", str(repo), "signers", "revoke", locked.fingerprint,
                       "--at", "2026-01-01T00:00:00Z", "--reason", "Left", *admin)  # fmt: skip
    assert code == 1 and "requires a protected key" in err, err


def test_the_summary_names_the_time_source_the_policy_plans_for_each_kind() -> None:
    from qms.model.ceremony import LOCAL_CLOCK, STATEMENT_KINDS, WORDING_KEYS
    from qms.model.timestamp_policy import (
        KINDS,
        Need,
        TimestampAuthority,
        TimestampPolicy,
        planned_source,
    )

    assert set(STATEMENT_KINDS) == set(WORDING_KEYS) and set(STATEMENT_KINDS.values()) <= set(KINDS)
    tsa = TimestampAuthority("Corvane TSA", "http://127.0.0.1:1/tsr", "PEM")
    policy = TimestampPolicy((tsa,), (("approval", Need.REQUIRED), ("release", Need.OPTIONAL)))
    assert planned_source(None, "approval", LOCAL_CLOCK) == LOCAL_CLOCK
    assert planned_source(policy, "training", LOCAL_CLOCK) == LOCAL_CLOCK  # off
    assert planned_source(policy, "approval", LOCAL_CLOCK).startswith("TSA Corvane TSA (required")
    assert planned_source(policy, "release", LOCAL_CLOCK) == f"TSA Corvane TSA, else {LOCAL_CLOCK}"


def test_every_kind_of_statement_keeps_its_wording_and_one_made_before_keeps_its_bytes() -> None:
    moment = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    fpr = "A" * 40
    statements: list[Any] = [
        Acceptance("RSK-001", 2, 3, "REG-ISMS-002", "1.0", date(2027, 1, 1), "N", fpr, "qa",
                   moment),
        CapaStatement("CAPA-2026-001", Act.CLOSE, "qa", "N", fpr, moment),
        CapaImport((ExternalCapa("QE-2026-0114", "closed", date(2026, 11, 30)),),
                   "Veeva Vault QMS", "b" * 64, "qa", "N", fpr, moment),
        Assessment("SOP-ACC-001", "PRC-ACC-01", "CTL-5-15", "f" * 64, "e" * 64,
                   Decision.NO_CHANGE, "CC-2026-0187", "no change needed", "N", fpr, "qa", moment),
        Migration(1, "N", fpr, moment, (Tie("approvals/x.json", "d" * 64, "1" * 40),)),
        RosterApproval("c" * 64, 3, "N", fpr, moment),
        TrainingRecord(Method.SELF, (Completed("E1001", "SOP-ACC-001", Version.parse("1.0"),
                                               "a" * 64, date(2026, 12, 1)),), "N", fpr, moment),
    ]  # fmt: skip
    for statement in statements:
        worded = replace(statement, wording="I mean exactly this")
        data = worded.to_bytes()
        assert json.loads(data)["wording"] == "I mean exactly this"
        assert type(statement).from_bytes(data) == worded
        # Without wording, the bytes are those a statement had before wording was recorded.
        assert "wording" not in json.loads(statement.to_bytes())
