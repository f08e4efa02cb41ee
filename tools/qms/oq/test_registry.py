"""The signer registry: a chain from a pinned trust root, each revision approved by an
administrator of the one before, and the signing policy changed only by a signed revision."""

from __future__ import annotations

from pathlib import Path

import pytest

from qms.oq.handbook import DOC, Result, commit_all, edit, problems, qms, status_of, verify
from qms.oq.people import Team

REVISIONS = 6  # the team registered one signer per revision


def add_outsider(root: Path, team: Team, *, admin: bool = True) -> Result:
    """Register the outsider as qa, signed by the administrator (or by the author)."""
    person = team.admin if admin else team.author
    return qms(
        root, "signers", "add", str(team.outsider.public_key), "--name", team.outsider.name,
        "--email", team.outsider.email, "--role", "qa", *person.signing(),
    )  # fmt: skip


@pytest.mark.requirement("URS-REG-001", "URS-REG-002")
def test_the_chain_from_the_pinned_trust_root_is_trusted(effective: Path, team: Team) -> None:
    code, report = verify(effective, DOC)
    assert code == 0, problems(report)
    assert report["registry"] == {"revision": REVISIONS, "trusted": True, "findings": []}
    listing = qms(effective, "signers", "list")
    assert listing.code == 0
    for person in (team.admin, team.author, team.reviewer, team.approver):
        assert person.name in listing.out


@pytest.mark.requirement("URS-REG-001", check="negative")
def test_a_registry_not_begun_by_the_pinned_root_is_not_trusted(signed: Path, team: Team) -> None:
    edit(signed, team.admin.fingerprint, team.outsider.fingerprint, "pyproject.toml")
    code, report = verify(signed, DOC)
    assert code == 1
    assert report["registry"]["trusted"] is False
    assert status_of(report) == "draft"  # no signature counts without a trusted registry


@pytest.mark.requirement("URS-REG-002")
def test_an_administrator_adds_a_signer_in_a_new_revision(fresh: Path, team: Team) -> None:
    result = add_outsider(fresh, team)
    assert result.code == 0, result.err
    assert (fresh / f"signatures/registry/{REVISIONS + 1:04d}.yaml").is_file()
    code, report = verify(fresh)
    assert code == 0, problems(report)
    assert report["registry"]["revision"] == REVISIONS + 1


@pytest.mark.requirement("URS-REG-002", check="negative")
def test_a_revision_not_approved_by_an_administrator_breaks_the_chain(
    signed: Path, team: Team
) -> None:
    result = add_outsider(signed, team, admin=False)
    assert result.code == 1
    assert "is not a registry-admin in the previous approved registry" in result.err
    assert not (signed / f"signatures/registry/{REVISIONS + 1:04d}.yaml").exists()
    for signature in (signed / "signatures/registry").glob(f"{REVISIONS:04d}.*.asc"):
        signature.unlink()
    commit_all(signed, "Drop the approval of the latest revision")
    code, report = verify(signed, DOC)
    assert code == 1
    assert report["registry"]["trusted"] is False
    assert any("is not approved by a registry administrator" in m for m in problems(report))
    assert status_of(report) == "draft"


@pytest.mark.requirement("URS-REG-003", check="negative")
def test_an_unapproved_policy_change_counts_no_signature(signed: Path, team: Team) -> None:
    edit(signed, 'approved = ["qa"]', 'approved = ["qa", "reviewer"]', "pyproject.toml")
    code, report = verify(signed, DOC)
    assert code == 1
    assert status_of(report) == "draft"
    [finding] = report["registry"]["findings"]
    assert finding["path"] == "pyproject.toml"
    assert "approvals differ from what registry revision" in finding["message"]
    # A non-administrator cannot approve it.
    result = qms(signed, "signers", "policy", *team.author.signing())
    assert result.code == 1
    assert "is not a registry-admin" in result.err


@pytest.mark.requirement("URS-REG-003")
def test_a_policy_change_approved_in_a_signed_revision_takes_effect(
    signed: Path, team: Team
) -> None:
    edit(signed, 'approved = ["qa"]', 'approved = ["qa", "reviewer"]', "pyproject.toml")
    result = qms(signed, "signers", "policy", *team.admin.signing())
    assert result.code == 0, result.err
    assert f"registry revision {REVISIONS + 1}" in result.out
    code, report = verify(signed, DOC)
    assert (code, status_of(report)) == (0, "effective")
    assert report["registry"]["revision"] == REVISIONS + 1
