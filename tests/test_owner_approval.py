"""A risk treatment plan approved by its risk owners (6.1.3 e), end to end on real git and gpg."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import pytest

from tests.keys import Person
from tests.signing_repo import (
    Team,
    as_,
    commit_all,
    qms,
    register,
    team,
    throwaway_people,
    traceability_repo,
)

__all__ = ["team"]

# Each risk owner a plan names approves it; their titles are the register's owner names.
SETTINGS = """
[tool.qms.approvals.plan]
authored = ["author"]
reviewed = ["reviewer"]
approved = ["qa", "isms-manager"]
risk_owners = "approved"

[tool.qms.risk_acceptance]
owner_roles = ["site-head", "it-operations"]
levels = [{ up_to = 25, roles = ["risk-owner"] }]

[tool.qms.roles]
site-head = "Site Head Cork"
it-operations = "IT Operations Lead"
"""
PLAN = "docs/plan.md"
PLAN_TEXT = """\
---
id: PLN-ISMS-002
title: Risk Treatment Plan
type: plan
version: "1.0"
owner: ISMS Manager
classification: confidential
review_months: 12
risk_owners: [site-head, it-operations]
---

## Treatment Actions

| Action | Risk | Owner |
| --- | --- | --- |
| RTP-01 | RSK-001 Shared accounts on the EBR system | Site Head Cork |
| RTP-02 | RSK-002 Restores never tested | IT Operations Lead |
"""


@dataclass(frozen=True)
class Owners:
    """The two risk owners and a signer who owns none of the plan's risks."""

    site: Person
    operations: Person
    facilities: Person


@pytest.fixture(scope="module")
def owners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Owners]:
    names = ("Siobhan Murphy", "Ivo Operations", "Fritz Facilities")
    for people in throwaway_people(tmp_path_factory, "owner-keys", *names):
        yield Owners(*people)


@pytest.fixture
def repo(tmp_path: Path, team: Team, owners: Owners, capsys: pytest.CaptureFixture[str]) -> Path:
    root = traceability_repo(tmp_path, team, capsys, SETTINGS)
    (root / PLAN).write_text(PLAN_TEXT)
    index = root / "docs" / "index.md"
    index.write_text(index.read_text().replace("risks\n", "risks\nplan\n"))
    commit_all(root, "Risk treatment plan")
    code, _, err = qms(capsys, root, "signers", "policy", *as_(team.admin))
    assert code == 0, err
    register(capsys, root, team.admin, owners.site, "site-head")
    register(capsys, root, team.admin, owners.operations, "it-operations")
    register(capsys, root, team.admin, owners.facilities, "facilities")
    return root


def approve(
    capsys: pytest.CaptureFixture[str], root: Path, person: Person, meaning: str
) -> tuple[int, str, str]:
    return qms(capsys, root, "approve", "PLN-ISMS-002", "--meaning", meaning, *as_(person))


def sign_in_turn(
    capsys: pytest.CaptureFixture[str], root: Path, team: Team, approver: Person
) -> None:
    """The plan authored, reviewed, and approved by `approver`."""
    for person, meaning in (
        (team.author, "authored"), (team.reviewer, "reviewed"), (approver, "approved"),
    ):  # fmt: skip
        code, _, err = approve(capsys, root, person, meaning)
        assert code == 0, err


def plan_row(capsys: pytest.CaptureFixture[str], root: Path) -> dict[str, object]:
    code, out, err = qms(capsys, root, "status", "--json", "PLN-ISMS-002")
    assert code == 0, err
    [row] = json.loads(out)["documents"]
    assert isinstance(row, dict)
    return row


def test_the_plan_stays_in_review_until_every_owner_named_has_approved(
    repo: Path, team: Team, owners: Owners, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = qms(capsys, repo, "build", "--fresh")
    assert code == 0, out + err
    sign_in_turn(capsys, repo, team, team.approver)
    row = plan_row(capsys, repo)
    assert (row["status"], row["awaiting_owners"]) == ("in review", ["site-head", "it-operations"])
    assert row["status_reason"] == "awaiting risk owners site-head, it-operations"
    awaited = "PLN-ISMS-002 1.0: in review, awaiting the risk owners' signature: "
    code, out, _ = qms(capsys, repo, "status")
    assert f"{awaited}site-head, it-operations\n" in out
    # A signer who owns none of the plan's risks may not approve it, and nothing is written.
    before = git.Repo(repo).head.commit.hexsha
    code, _, err = approve(capsys, repo, owners.facilities, "approved")
    assert code == 1
    assert err.startswith(
        "qms: error: Fritz Facilities may not sign plan PLN-ISMS-002 as approved: holds "
        "facilities, needs one of qa, isms-manager, site-head, it-operations"
    ), err
    assert git.Repo(repo).head.commit.hexsha == before

    code, _, err = approve(capsys, repo, owners.site, "approved")
    assert code == 0, err
    assert plan_row(capsys, repo)["awaiting_owners"] == ["it-operations"]
    code, out, _ = qms(capsys, repo, "verify")
    assert code == 0 and f"{awaited}it-operations\n" in out
    code, _, err = approve(capsys, repo, owners.operations, "approved")
    assert code == 0, err
    row = plan_row(capsys, repo)
    assert (row["status"], row["awaiting_owners"]) == ("approved", [])
    code, out, _ = qms(capsys, repo, "verify")
    assert code == 0 and "awaiting the risk owners" not in out


def test_an_owner_signature_in_a_role_the_plan_does_not_name_does_not_count(
    repo: Path, team: Team, owners: Owners, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in_turn(capsys, repo, team, owners.site)
    # The site head's approval counts for the site head only: the plan's approver is awaited.
    row = plan_row(capsys, repo)
    assert row["status"] == "in review"
    assert row["status_reason"] == "awaiting approved, risk owners it-operations"
    # Once the plan no longer names the site head, her signature is refused for its role
    # (before its content, which the edit changed for every signature).
    plan = repo / PLAN
    plan.write_text(plan.read_text().replace("[site-head, it-operations]", "[it-operations]"))
    commit_all(repo, "Site head dropped")
    code, data, _ = verify_json(capsys, repo)
    [document] = [d for d in data["documents"] if d["id"] == "PLN-ISMS-002"]
    assert code == 1 and document["status"] == "not approved"
    messages = [f["message"] for f in document["findings"]]
    assert (
        "PLN-ISMS-002 1.0: Siobhan Murphy signed as 'site-head', which may not give 'approved' "
        "here (allowed: qa, isms-manager, it-operations; Siobhan Murphy holds: site-head)"
    ) in messages


def verify_json(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, Any, str]:
    code, out, err = qms(capsys, root, "verify", "--json")
    return code, json.loads(out), err


def test_risk_owners_that_do_not_match_the_register_are_located_warnings(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = repo / PLAN
    text = PLAN_TEXT.replace("[site-head, it-operations]", "[site-head, facilities]")
    plan.write_text(text)
    commit_all(repo, "Owners mistyped")
    code, out, err = qms(capsys, repo, "build", "--fresh")
    lines = text.splitlines()
    field = next(n for n, line in enumerate(lines, 1) if line.startswith("risk_owners:"))
    row = next(n for n, line in enumerate(lines, 1) if "RSK-002" in line)
    assert code == 1
    assert (
        f"{PLAN}:{field}: PLN-ISMS-002: risk_owners names 'facilities', which owns none of "
        "the 2 risks the plan names; remove it\n"
    ) in out
    assert (
        f"{PLAN}:{row}: PLN-ISMS-002 names RSK-002, owned by 'it-operations' (IT Operations "
        "Lead), but risk_owners does not list 'it-operations': add it, so that the owner "
        "approves\n"
    ) in out
    assert "qms build: 2 warnings;" in err
    code, out, _ = qms(capsys, repo, "check", "--json")
    codes = sorted(f["code"] for f in json.loads(out)["findings"])
    assert code == 1 and codes == ["qms.risk-owners", "qms.risk-owners"]
