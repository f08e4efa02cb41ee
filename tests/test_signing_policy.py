"""Who may sign is itself approved: [tool.qms]'s signing policy is bound to a registry revision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from qms.adapters.gpg import UserKeys
from qms.model.signers import Registry
from tests.conftest import ROOTS
from tests.keys import Person
from tests.signing_repo import Team, commit_all, make_signing_repo, run, team
from tests.test_approvals import DOC, doc_status, sign_all, verify

__all__ = ["team"]  # the session fixture, re-exported for pytest


@pytest.fixture
def repo(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    root = make_signing_repo(tmp_path, team, capsys, ROOTS / "test-handbook")
    sign_all(capsys, root, team)
    return root


def loosen_rules(root: Path) -> None:
    """What an insider might try: let authors approve, without asking anyone."""
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert 'approved = ["qa", "isms-manager"]' in text
    pyproject.write_text(
        text.replace('approved = ["qa", "isms-manager"]', 'approved = ["qa", "author"]'),
        encoding="utf-8",
    )
    commit_all(root, "Let authors approve")


def policy(capsys: pytest.CaptureFixture[str], root: Path, person: Person) -> tuple[int, str, str]:
    return run(capsys, "--root", str(root), "signers", "policy",
               "--key", person.fingerprint, "--gnupghome", str(person.home))  # fmt: skip


def test_the_first_revision_approves_the_policy_the_handbook_starts_with(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = yaml.safe_load((repo / "signatures/registry/0001.yaml").read_text(encoding="utf-8"))
    assert first["policy"]["approvals"]["default"]["approved"] == ["qa", "isms-manager"]
    code, out, _ = run(capsys, "--root", str(repo), "signers", "list", "--json")
    assert code == 0
    assert json.loads(out)["policy"]["release_signer_roles"] == ["qa"]
    code, data, _ = verify(capsys, repo, DOC)
    assert (code, doc_status(data)) == (0, "effective")


def test_an_unapproved_rule_change_counts_no_signature_until_approved(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    loosen_rules(repo)
    code, data, _ = verify(capsys, repo, DOC)
    assert code == 1
    assert doc_status(data) == "draft"
    [finding] = data["registry"]["findings"]
    assert finding["path"] == "pyproject.toml"
    assert finding["message"].startswith(
        "[tool.qms] approvals differ from what registry revision 5 approves"
    )
    assert "qms signers policy --key FINGERPRINT" in finding["message"]
    # Nothing else changes in the registry while its policy is unapproved.
    code, _, err = run(
        capsys, "--root", str(repo), "signers", "revoke", team.author.fingerprint,
        "--at", "2026-01-01T00:00:00Z", "--reason", "test",
        "--key", team.admin.fingerprint, "--gnupghome", str(team.admin.home),
    )  # fmt: skip
    assert code == 1 and "approvals differ" in err

    code, out, err = policy(capsys, repo, team.admin)
    assert code == 0, err
    assert out.startswith("Approved the signing policy in [tool.qms] (changed: approvals) as ")
    assert "registry revision 6" in out
    code, data, _ = verify(capsys, repo, DOC)
    assert (code, doc_status(data)) == (0, "effective")


def test_only_a_registry_administrator_approves_the_policy(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    loosen_rules(repo)
    code, _, err = policy(capsys, repo, team.author)
    assert code == 1
    assert "is not a registry-admin in the previous approved registry" in err
    assert not (repo / "signatures/registry/0006.yaml").exists()


def test_approving_an_unchanged_policy_is_refused(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = policy(capsys, repo, team.admin)
    assert code == 1
    assert "registry revision 5 already approves [tool.qms] as it stands" in err


def test_a_revision_without_a_policy_is_not_trusted(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    # A registry written before policies were recorded: its latest revision approves none.
    # Re-signing it is what an administrator would have done; here the test strips the
    # policy and signs the result with the administrator's own key.
    registry = repo / "signatures/registry"
    latest = registry / "0005.yaml"
    data = yaml.safe_load(latest.read_text(encoding="utf-8"))
    del data["policy"]
    text = Registry.from_bytes(yaml.safe_dump(data).encode(), "0005.yaml").to_bytes()
    latest.write_bytes(text)
    (repo / "signatures/signers.yaml").write_bytes(text)
    signature, _ = UserKeys(team.admin.home).sign_detached(text, team.admin.fingerprint)
    next(registry.glob("0005.*.asc")).write_bytes(signature)
    commit_all(repo, "Registry without a policy")

    code, data, _ = verify(capsys, repo, DOC)
    assert code == 1
    assert doc_status(data) == "draft"
    assert (
        "registry revision 5 approves no signing policy"
        in data["registry"]["findings"][0]["message"]
    )
    code, out, err = policy(capsys, repo, team.admin)
    assert code == 0, err
    assert "(changed: trust_roots, approvals, release_signer_roles)" in out


def test_naming_oneself_a_trust_root_gains_nothing(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace(
            f'trust_roots = ["{team.admin.fingerprint}"]',
            f'trust_roots = ["{team.admin.fingerprint}", "{team.outsider.fingerprint}"]',
        ),
        encoding="utf-8",
    )
    commit_all(repo, "Trust me")
    code, _, err = policy(capsys, repo, team.outsider)
    assert code == 1
    assert "cannot approve the registry change" in err
    assert not (repo / "signatures/registry/0006.yaml").exists()
    code, data, _ = verify(capsys, repo, DOC)
    assert (code, doc_status(data)) == (1, "draft")
    assert "[tool.qms] trust_roots differ" in data["registry"]["findings"][0]["message"]
