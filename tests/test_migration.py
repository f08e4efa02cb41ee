"""Statements that name no commit (qms-approval/1): findings until a signed migration ties them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git
import pytest

from qms.adapters.gpg import UserKeys
from qms.config import load_config
from qms.model.approval import SCHEMA_V1, Meaning, Statement
from qms.model.migration import Migration, Tie
from qms.services.content import document_content, sha256_of
from qms.services.handbook import load_handbook, select
from qms.services.layout import SignatureLayout
from tests.conftest import ROOTS
from tests.keys import Person
from tests.signing_repo import Team, commit_all, make_signing_repo, run, squash_history, team
from tests.test_approvals import DOC, doc_status, failures, verify

__all__ = ["team"]  # the session fixture, re-exported for pytest

MIGRATION = "signatures/migrations/0001.json"
NAMES_NO_COMMIT = "names no commit (qms-approval/1)"


def sign_v1(root: Path, person: Person, meaning: Meaning, role: str) -> Path:
    """Sign DOC as versions before qms-approval/2 did: a statement without a commit."""
    config = load_config(root)
    [document] = select(load_handbook(config).documents, [DOC])
    content = document_content(config, document)
    statement = Statement(
        document_id=document.id,
        version=str(document.version),
        content_sha256=content.sha256,
        includes=content.includes,
        meaning=meaning,
        signer_name=person.name,
        signer_fingerprint=person.fingerprint,
        role=role,
        signed_at=datetime.now(tz=UTC).replace(microsecond=0),
    )
    data = statement.to_bytes()
    assert json.loads(data)["schema"] == SCHEMA_V1
    signature, _ = UserKeys(person.home).sign_detached(data, person.fingerprint)
    path = SignatureLayout.of(config).statement_file(statement)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    SignatureLayout.signature_of(path).write_bytes(signature)
    commit_all(root, f"Approve {DOC}: {meaning} (qms-approval/1)")
    return path


@pytest.fixture
def repo(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    """A handbook whose DOC carries three qms-approval/1 signatures, as old versions wrote."""
    root = make_signing_repo(tmp_path, team, capsys, ROOTS / "test-handbook")
    sign_v1(root, team.author, Meaning.AUTHORED, "author")
    sign_v1(root, team.reviewer, Meaning.REVIEWED, "reviewer")
    sign_v1(root, team.approver, Meaning.APPROVED, "qa")
    return root


def migrate(capsys: pytest.CaptureFixture[str], root: Path, person: Person) -> tuple[int, str, str]:
    return run(
        capsys, "--root", str(root), "signers", "migrate",
        "--key", person.fingerprint, "--gnupghome", str(person.home), "--yes",
    )  # fmt: skip


def all_failures(data: dict[str, Any]) -> list[str]:
    return failures(data) + [f["message"] for f in data["migrations"] + data["altered"]]


def test_a_statement_naming_no_commit_counts_only_once_migrated(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data, _ = verify(capsys, repo, DOC)
    messages = all_failures(data)
    assert (code, doc_status(data)) == (1, "draft")
    assert len(messages) == 3
    assert all(NAMES_NO_COMMIT in m and "qms signers migrate" in m for m in messages)

    code, out, err = migrate(capsys, repo, team.admin)
    assert (code, err) == (0, "")
    assert "Tied 3 qms-approval/1 statements to their commits in migration 1" in out
    code, data, _ = verify(capsys, repo, DOC)
    assert (code, doc_status(data), all_failures(data)) == (0, "effective", [])
    names = sorted(s["name"] for s in data["documents"][0]["signatures"])
    assert names == ["Lena Vogt", "Marco Bianchi", "Sarah ONeill"]


def test_each_record_is_tied_to_a_commit_that_held_its_content(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    assert migrate(capsys, repo, team.admin)[0] == 0
    migration = Migration.from_bytes((repo / MIGRATION).read_bytes())
    assert migration.signer_fingerprint == team.admin.fingerprint
    repository = git.Repo(repo)
    content = (repo / "docs/policies/pol-acc-001.md").read_bytes()
    assert len(migration.ties) == 3
    for tie in migration.ties:
        assert tie.sha256 == sha256_of((repo / tie.path).read_bytes())
        held = repository.commit(tie.commit).tree / "docs/policies/pol-acc-001.md"
        assert held.data_stream.read() == content
        # The commit the record was added on top of, as a qms-approval/2 statement names.
        added = repository.git.log("--diff-filter=A", "--format=%H", "--", tie.path)
        assert repository.commit(added).parents[0].hexsha == tie.commit


def test_migrating_twice_finds_nothing_to_do(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    assert migrate(capsys, repo, team.admin)[0] == 0
    head = git.Repo(repo).head.commit.hexsha
    code, out, err = migrate(capsys, repo, team.admin)
    assert (code, err) == (0, "")
    assert out == "Nothing to migrate: every approval statement names its commit\n"
    assert git.Repo(repo).head.commit.hexsha == head
    assert not (repo / "signatures/migrations/0002.json").exists()


def test_a_rewrite_that_drops_the_tied_commit_fails_naming_it(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    assert migrate(capsys, repo, team.admin)[0] == 0
    commits = {tie.commit for tie in Migration.from_bytes((repo / MIGRATION).read_bytes()).ties}
    assert len(commits) == 3
    squash_history(repo)
    code, data, _ = verify(capsys, repo, DOC)
    messages = all_failures(data)
    assert (code, doc_status(data), len(messages)) == (1, "draft", 3)
    for commit in commits:
        assert any(
            f"signed the content of commit {commit}, which is no longer" in m for m in messages
        )


def test_only_a_registry_administrator_migrates(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = migrate(capsys, repo, team.author)
    assert code == 1
    assert "cannot sign the migration: Lena Vogt is not a registry-admin" in err
    assert not (repo / MIGRATION).exists()


def test_a_migration_signed_by_a_non_administrator_does_not_count(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    # Forged by hand, as someone without the role could: right ties, wrong signer.
    head = git.Repo(repo).head.commit.hexsha
    records = sorted((repo / "signatures/approvals" / DOC).glob("*/*.json"))
    ties = tuple(
        Tie(p.relative_to(repo).as_posix(), sha256_of(p.read_bytes()), head) for p in records
    )
    forged = Migration(
        1,
        team.author.name,
        team.author.fingerprint,
        datetime.now(tz=UTC).replace(microsecond=0),
        ties,
    )
    data = forged.to_bytes()
    signature, _ = UserKeys(team.author.home).sign_detached(data, team.author.fingerprint)
    (repo / MIGRATION).parent.mkdir(parents=True)
    (repo / MIGRATION).write_bytes(data)
    (repo / (MIGRATION + ".asc")).write_bytes(signature)
    commit_all(repo, "Tie the records myself")
    code, data_out, _ = verify(capsys, repo, DOC)
    assert (code, doc_status(data_out)) == (1, "draft")
    [refused] = data_out["migrations"]
    assert refused["path"] == MIGRATION
    assert refused["message"].startswith(
        "migration 1 does not count: Lena Vogt is not a registry-admin in the registry in force"
    )
    assert sum(NAMES_NO_COMMIT in m for m in all_failures(data_out)) == 3


def test_a_tampered_migration_is_a_finding(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    assert migrate(capsys, repo, team.admin)[0] == 0
    path = repo / MIGRATION
    migration = Migration.from_bytes(path.read_bytes())
    # Still canonical JSON, only the signature no longer covers it.
    moved = tuple(Tie(t.path, t.sha256, git.Repo(repo).head.commit.hexsha) for t in migration.ties)
    path.write_bytes(Migration(1, migration.signer_name, migration.signer_fingerprint,
                               migration.signed_at, moved).to_bytes())  # fmt: skip
    commit_all(repo, "Point the ties elsewhere")
    code, data, _ = verify(capsys, repo, DOC)
    assert (code, doc_status(data)) == (1, "draft")
    [refused] = data["migrations"]
    assert refused["message"].startswith("migration 1 does not count: signature does not verify")
    assert [f["path"] for f in data["altered"]] == [MIGRATION]
    assert sum(NAMES_NO_COMMIT in m for m in all_failures(data)) == 3
