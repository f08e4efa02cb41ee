"""Derived status: from verified signatures only; effective when every role signed;
superseded versions marked; segregation of duties."""

from __future__ import annotations

from pathlib import Path

import pytest

from qms.oq.handbook import DOC, approve, edit, qms, status_of, verify
from qms.oq.people import Team

CRY = "POL-CRY-001"
CRY_PATH = "docs/policies/pol-cry-001.md"


def listed(root: Path) -> dict[str, str]:
    result = qms(root, "status", "--json")
    return {d["id"]: d["status"] for d in result.json()["documents"]}


@pytest.mark.requirement("URS-STA-001")
def test_status_comes_from_the_verified_signatures(effective: Path) -> None:
    # Both policies carry an effective date; only the signed one is effective.
    assert listed(effective) == {DOC: "effective", CRY: "draft"}
    table = qms(effective, "status", DOC).out.splitlines()
    assert table[1].split()[:3] == [DOC, "1.0", "EFFECTIVE"]


@pytest.mark.requirement("URS-STA-001", check="negative")
def test_a_typed_status_field_is_refused_and_changes_nothing(fresh: Path) -> None:
    edit(fresh, "review_months: 24\n", "review_months: 24\nstatus: effective\n", CRY_PATH)
    checked = qms(fresh, "check", "--quick")
    assert checked.code == 1
    assert checked.out.splitlines() == [
        f"{CRY_PATH}:9: front matter field 'status' is not allowed: it is derived from "
        "verified signatures, never typed; remove the line"
    ]
    # The typed field gives the document no status: it is not even listed as a document.
    result = qms(fresh, "status", "--json")
    assert result.code == 1
    assert {d["id"]: d["status"] for d in result.json()["documents"]} == {DOC: "draft"}


@pytest.mark.requirement("URS-STA-002", check="negative")
def test_a_version_lacking_the_approval_is_not_effective(fresh: Path, team: Team) -> None:
    assert approve(fresh, team.author, "authored").code == 0
    assert approve(fresh, team.reviewer, "reviewed").code == 0
    code, report = verify(fresh, DOC)
    assert (code, status_of(report)) == (0, "in review")
    assert listed(fresh)[DOC] == "in review"


@pytest.mark.requirement("URS-STA-003")
def test_a_replaced_version_is_marked_superseded_on_the_site(revised: Path) -> None:
    html = revised / "_build/html"
    old = (html / "superseded/pol-acc-001-v1.0.html").read_text(encoding="utf-8")
    assert "SUPERSEDED: version 1.0 was replaced by" in old
    assert "version 1.1, the version in force" in old
    assert "granted on least privilege." in old  # the approved text of 1.0
    current = (html / "policies/pol-acc-001.html").read_text(encoding="utf-8")
    assert "SUPERSEDED:" not in current
    assert 'href="../superseded/pol-acc-001-v1.0.html">1.0</a>' in current
    assert listed(revised)[DOC] == "effective"


@pytest.mark.requirement("URS-SOD-001", check="negative")
def test_the_author_may_not_approve_their_own_version(fresh: Path, team: Team) -> None:
    assert approve(fresh, team.approver, "authored").code == 0
    assert approve(fresh, team.reviewer, "reviewed").code == 0
    result = approve(fresh, team.approver, "approved")
    assert result.code == 1
    assert f"segregation of duties: {team.approver.name} authored this version" in result.err
    assert listed(fresh)[DOC] == "in review"


@pytest.mark.requirement("URS-SOD-001", "URS-SOD-002")
def test_distinct_people_for_each_role_make_it_effective(fresh: Path, team: Team) -> None:
    # The approver may author a document someone else approves... and approve another's.
    assert approve(fresh, team.author, "authored").code == 0
    assert approve(fresh, team.reviewer, "reviewed").code == 0
    assert approve(fresh, team.approver, "approved").code == 0
    assert listed(fresh)[DOC] == "effective"


@pytest.mark.requirement("URS-SOD-002", check="negative")
def test_one_person_with_two_keys_cannot_fill_two_roles(fresh: Path, team: Team) -> None:
    assert team.approver.email == team.approver_again.email
    assert team.approver.fingerprint != team.approver_again.fingerprint
    assert approve(fresh, team.author, "authored").code == 0
    # Sarah reviews with her second key, registered as reviewer...
    reviewed = approve(fresh, team.approver_again, "reviewed")
    # ... and approves with her first: one person in two required roles.
    approved = approve(fresh, team.approver, "approved")
    assert reviewed.code == 0, reviewed.err
    assert approved.code == 1
    assert f"segregation of duties: {team.approver.name} reviewed this version" in approved.err
    code, report = verify(fresh, DOC)
    assert (code, status_of(report)) == (0, "in review")
