"""Document control: front matter, ids and versions, change reasons, periodic reviews,
retirement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import git
import pytest

from qms.oq.handbook import DOC, DOC_PATH, commit_all, copy_handbook, edit, qms, verify
from qms.oq.people import Team

REASON = "Replaced by the new identity and access management policy"


@pytest.mark.requirement("URS-DOC-001")
def test_a_well_formed_handbook_checks_clean(registered: Path) -> None:
    result = qms(registered, "check", "--quick")
    assert (result.code, result.out) == (0, "")


@pytest.mark.requirement("URS-DOC-001", check="negative")
def test_bad_front_matter_is_an_error_at_its_line(fresh: Path) -> None:
    edit(fresh, "classification: internal", "classification: secret", commit=False)
    line = (fresh / DOC_PATH).read_text().splitlines().index("classification: secret") + 1
    result = qms(fresh, "check", "--quick")
    assert result.code == 1
    [finding] = result.out.splitlines()
    assert finding.startswith(f"{DOC_PATH}:{line}: ")
    assert "secret" in finding


@pytest.mark.requirement("URS-DOC-002")
def test_a_new_document_gets_the_next_free_id_never_a_withdrawn_one(fresh: Path) -> None:
    made = qms(fresh, "new", "--type", "policy", "--area", "ACC", "--title", "Remote access")
    assert made.code == 0, made.err
    assert made.out.startswith("POL-ACC-002 created at docs/policies/pol-acc-002.md")
    commit_all(fresh, "Draft POL-ACC-002")
    (fresh / "docs/policies/pol-acc-002.md").unlink()
    commit_all(fresh, "Withdraw POL-ACC-002")
    again = qms(fresh, "new", "--type", "policy", "--area", "ACC", "--title", "Remote access")
    assert again.out.startswith("POL-ACC-003 created")


@pytest.mark.requirement("URS-DOC-002", check="negative")
def test_a_reused_id_or_a_version_going_backwards_is_refused(fresh: Path) -> None:
    source = (fresh / DOC_PATH).read_text()
    edit(fresh, 'version: "1.0"', 'version: "1.1"')
    edit(fresh, 'version: "1.1"', 'version: "0.9"', commit=False)
    result = qms(fresh, "check", "--quick")
    assert result.code == 1
    assert "version 0.9 is lower than 1.1, recorded in commit " in result.out
    assert result.out.rstrip().endswith("versions never go backwards")
    # Withdrawn, then a new file under the old id.
    (fresh / DOC_PATH).unlink()
    commit_all(fresh, "Withdraw POL-ACC-001")
    (fresh / "docs/policies/reborn.md").write_text(source.replace("Access Control", "Reborn"))
    commit_all(fresh, "A new document under the old id")
    result = qms(fresh, "check", "--quick")
    assert result.code == 1
    assert result.out.startswith(f"docs/policies/reborn.md:2: id {DOC} was withdrawn in commit ")


@pytest.mark.requirement("URS-DOC-003")
def test_a_change_bumped_with_a_reason_checks_clean(signed: Path) -> None:
    edit(signed, "least privilege", "least privilege and need to know", commit=False)
    bumped = qms(signed, "bump", DOC, "--reason", "Need to know added")
    assert (bumped.code, bumped.out) == (0, f"{DOC}: version 1.0 -> 1.1\n")
    text = (signed / DOC_PATH).read_text()
    assert 'version: "1.1"' in text and 'change_reason: "Need to know added"' in text
    assert qms(signed, "check", "--quick").code == 0


@pytest.mark.requirement("URS-DOC-003", check="negative")
def test_a_changed_approved_document_without_bump_or_reason_is_refused(signed: Path) -> None:
    edit(signed, "least privilege", "least privilege and need to know", commit=False)
    result = qms(signed, "check", "--quick")
    assert result.code == 1
    assert result.out.splitlines() == [
        f"{DOC_PATH}:5: {DOC} changed since version 1.0 was approved; raise the version and "
        "record a change_reason"
    ]
    edit(signed, 'version: "1.0"', 'version: "1.1"', commit=False)
    result = qms(signed, "check", "--quick")
    assert result.code == 1
    assert result.out.splitlines() == [
        f"{DOC_PATH}:1: version 1.1 changes approved version 1.0: change_reason must say why"
    ]


def reviews_on(root: Path, day: str, monkeypatch: pytest.MonkeyPatch, *options: str) -> object:
    moment = datetime.fromisoformat(day).replace(tzinfo=UTC)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(moment.timestamp())))
    return qms(root, "reviews", *options)


@pytest.mark.requirement("URS-DOC-004")
def test_reviews_due_are_computed_and_overdue_ones_listed(
    registered: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # POL-ACC-001: effective 2026-01-15, reviewed every 12 months: due 2027-01-15.
    result = reviews_on(registered, "2027-01-05", monkeypatch, "--json")
    reviews = {r["id"]: r for r in result.json()["reviews"]}  # type: ignore[attr-defined]
    assert reviews[DOC]["state"] == "due" and reviews[DOC]["days"] == 10
    assert "POL-CRY-001" not in reviews  # every 24 months: not due until 2028
    result = reviews_on(registered, "2027-02-01", monkeypatch, "--json")
    reviews = {r["id"]: r for r in result.json()["reviews"]}  # type: ignore[attr-defined]
    assert reviews[DOC]["state"] == "overdue"
    assert reviews_on(registered, "2027-02-01", monkeypatch, "--strict").code == 1  # type: ignore[attr-defined]
    assert reviews_on(registered, "2026-06-01", monkeypatch, "--strict").code == 0  # type: ignore[attr-defined]


def retire(root: Path, team: Team) -> None:
    for person, meaning in (
        (team.author, "authored"),
        (team.reviewer, "reviewed"),
        (team.approver, "approved"),
    ):
        result = qms(root, "retire", DOC, "--meaning", meaning, "--reason", REASON,
                     *person.signing())  # fmt: skip
        assert result.code == 0, result.err


@pytest.fixture(scope="module")
def retired(
    effective: Path, team: Team, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """POL-ACC-001 retired by signature, and the site built."""
    root = copy_handbook(effective, tmp_path_factory.mktemp("retired") / "handbook")
    retire(root, team)
    built = qms(root, "build")
    assert built.code == 0, built.out + built.err
    yield root


@pytest.mark.requirement("URS-DOC-005")
def test_a_retired_document_leaves_the_handbook_and_keeps_archive_and_reason(
    retired: Path, team: Team
) -> None:
    code, report = verify(retired, DOC)
    assert code == 0
    [document] = report["documents"]
    assert document["status"] == "retired"
    assert document["retirement"]["reason"] == REASON
    assert len(document["retirement"]["signatures"]) == 3
    assert document["retirement"]["at"].endswith("Z")
    site = retired / "_build/html"
    register = (site / "register.html").read_text(encoding="utf-8")
    current, _, out_of_force = register.partition('<p class="rubric">Superseded and withdrawn')
    assert DOC not in current and "POL-CRY-001" in current
    assert DOC in out_of_force and REASON in out_of_force
    page = (site / "policies/pol-acc-001.html").read_text(encoding="utf-8")
    assert "RETIRED: withdrawn from use" in page  # the archive copy stays readable
    # No new approval of a retired document.
    result = qms(retired, "approve", DOC, "--meaning", "authored", *team.author.signing())
    assert result.code == 1 and "is retired" in result.err
    assert git.Repo(retired).is_dirty() is False


@pytest.mark.requirement("URS-DOC-005", check="negative")
def test_a_retirement_without_a_reason_is_refused_and_nothing_written(
    signed: Path, team: Team
) -> None:
    result = qms(signed, "retire", DOC, "--meaning", "authored", *team.author.signing())
    assert result.code == 1 and "needs a reason" in result.err
    assert not (signed / "signatures/retirements").exists()
    code, report = verify(signed, DOC)
    assert (code, report["documents"][0]["status"]) == (0, "effective")
