"""Who may sign is itself approved: [tool.qms]'s signing policy is bound to a registry revision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from qms.adapters.gpg import UserKeys
from qms.config import config_from_table
from qms.errors import ConfigError
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
               "--key", person.fingerprint, "--gnupghome", str(person.home), "--yes")  # fmt: skip


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
        "--key", team.admin.fingerprint, "--gnupghome", str(team.admin.home), "--yes",
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


def add_role_titles(root: Path) -> None:
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8")
        + '\n[tool.qms.roles]\nqa = "Head of Quality Assurance"\nauthor = "Document Author"\n',
        encoding="utf-8",
    )
    commit_all(root, "Role titles")


def test_role_titles_count_only_once_approved_and_then_name_the_signers_role(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    add_role_titles(repo)
    # A title is what a reader takes a signature to mean: changing one is a policy change.
    code, data, _ = verify(capsys, repo, DOC)
    assert (code, doc_status(data)) == (1, "draft")
    [finding] = data["registry"]["findings"]
    assert finding["message"].startswith(
        "[tool.qms] role_titles differ from what registry revision 5 approves"
    )
    code, out, err = policy(capsys, repo, team.admin)
    assert code == 0, err
    assert "(changed: role_titles)" in out
    approved = yaml.safe_load((repo / "signatures/registry/0006.yaml").read_text("utf-8"))
    assert approved["policy"]["role_titles"] == {
        "author": "Document Author",
        "qa": "Head of Quality Assurance",
    }
    code, data, _ = verify(capsys, repo, DOC)
    assert (code, doc_status(data)) == (0, "effective")

    code, _, err = run(capsys, "--root", str(repo), "build")
    assert code == 0, err
    html = (repo / "_build/html/policies/pol-acc-001.html").read_text(encoding="utf-8")
    block = html[html.index('class="qms-signatures') :]
    block = block[: block.index("</table>")]
    assert "<p>Head of Quality Assurance</p>" in block and "<p>Document Author</p>" in block
    assert "<p>qa</p>" not in block
    # The reviewer's role has no title: its key is shown.
    assert "<p>reviewer</p>" in block
    code, out, _ = run(capsys, "--root", str(repo), "audit-trail", DOC, "--format", "json")
    assert code == 0
    who = [event["who"] for event in json.loads(out) if event["event"] == "approved"]
    assert who == [
        f"{team.approver.name} (Head of Quality Assurance, key {team.approver.fingerprint})"
    ]


def test_removing_the_approved_titles_is_a_policy_change_too(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    add_role_titles(repo)
    assert policy(capsys, repo, team.admin)[0] == 0
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text[: text.index("\n[tool.qms.roles]")] + "\n", encoding="utf-8")
    commit_all(repo, "No titles")
    code, data, _ = verify(capsys, repo, DOC)
    assert (code, doc_status(data)) == (1, "draft")
    assert (
        "differ from what registry revision 6 approves"
        in data["registry"]["findings"][0]["message"]
    )


def test_a_handbook_without_titles_keeps_its_approved_policy(tmp_path: Path) -> None:
    # Registries approved before titles existed stay valid: no key, not an empty one.
    config = config_from_table(tmp_path, {})
    assert "role_titles" not in config.signing_policy()
    assert config.role_title("qa") == "qa"


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ({"qa": ""}, "[tool.qms.roles] qa must be non-empty text"),
        ({"qa": 3}, "[tool.qms.roles] qa must be non-empty text"),
        ({"quality": "Head of QA"}, "[tool.qms.roles] names roles no approval rule or release "
                                    "uses: quality; use one of"),
        ("Head of QA", "[tool.qms.roles] must be a table of role = title"),
    ],
)  # fmt: skip
def test_role_titles_are_validated(tmp_path: Path, roles: object, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_table(tmp_path, {"roles": roles})
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_role_titles_may_name_every_role_in_use(tmp_path: Path) -> None:
    config = config_from_table(
        tmp_path,
        {"roles": {"qa": "Head of  QA", "registry-admin": "Registry Administrator"}},
    )
    assert config.role_title("qa") == "Head of QA"
    assert config.role_title("registry-admin") == "Registry Administrator"
    assert config.signing_policy()["role_titles"] == {
        "qa": "Head of QA",
        "registry-admin": "Registry Administrator",
    }
