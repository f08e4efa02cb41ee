"""Training: requirements by role, status from verified acknowledgements only, refusals
that write nothing, overdue reports; personal data only in sets that admit it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import pytest

from qms.oq.handbook import (
    DOC,
    DOC_PATH,
    PAGES,
    approve_fully,
    commit_all,
    copy_handbook,
    new_handbook,
    qms,
)
from qms.oq.people import Team

TRAINING = """
[tool.qms.training]
due_days = 30

[[tool.qms.training.requirements]]
roles = ["operator"]
types = ["policy"]

[tool.qms.sets.staff]
title = "Staff handbook"
classifications = ["public", "internal"]

[tool.qms.sets.auditor]
title = "Auditor pack"
classifications = ["public", "internal", "confidential", "restricted"]
pages = ["training"]
"""

SITE_PAGES = 'site_pages = ["index", "register", "*/index", "training"]'


@dataclass(frozen=True)
class Trained:
    """A handbook with training requirements, an HR-approved roster and POL-ACC-001 in force."""

    root: Path
    roster: list[tuple[str, str]]  # employee number and name of everyone on it


def roster_csv(team: Team) -> str:
    return (
        "employee,name,role,from,until,keys\n"
        f"E1001,{team.operator.name},operator,2025-01-06,,{team.operator.fingerprint}\n"
        "E1002,Ben Ortiz,operator,2025-03-01,,\n"
        f"E2001,{team.hr.name},hr,2023-05-01,,\n"
    )


@pytest.fixture(scope="module")
def trained(team: Team, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    base = tmp_path_factory.mktemp("training")
    index = PAGES["index.md"].replace("register\n", "register\ntraining\n", 1)
    files = {
        "docs/index.md": index,
        "docs/training.md": "# Training matrix\n\n```{qms-training-matrix}\n```\n",
    }
    root = new_handbook(base / "handbook", team, TRAINING, files, head=SITE_PAGES)
    approve_fully(root, team)
    (base / "hr.csv").write_text(roster_csv(team))
    result = qms(root, "training", "roster", "import", str(base / "hr.csv"), *team.hr.signing())
    assert result.code == 0, result.err
    rows = [line.split(",")[:2] for line in roster_csv(team).splitlines()[1:]]
    return Trained(root, [(employee, name) for employee, name in rows])


def status(root: Path, *argv: str) -> tuple[int, list[Any]]:
    result = qms(root, "training", "status", "--json", *argv)
    return result.code, list(result.json())


def state_of(rows: list[dict[str, str]], employee: str) -> str:
    [row] = [r for r in rows if r["employee"] == employee and r["document"] == DOC]
    return row["state"]


@pytest.fixture
def training_copy(trained: Trained, tmp_path: Path) -> Path:
    return copy_handbook(trained.root, tmp_path / "handbook")


@pytest.mark.requirement("URS-TRN-001")
def test_training_is_required_by_role_and_a_major_version_resets_it(
    training_copy: Path, team: Team
) -> None:
    code, rows = status(training_copy)
    assert code == 0
    assert {r["employee"] for r in rows} == {"E1001", "E1002"}  # operators; HR is not
    assert qms(training_copy, "training", "ack", DOC, *team.operator.signing()).code == 0
    assert state_of(status(training_copy)[1], "E1001") == "done"
    path = training_copy / DOC_PATH
    path.write_text(path.read_text() + "\nA new duty for every operator.\n")
    bumped = qms(training_copy, "bump", DOC, "--major", "--reason", "New duty")
    assert bumped.code == 0, bumped.err
    commit_all(training_copy, "2.0")
    approve_fully(training_copy, team)
    _, rows = status(training_copy, "--document", DOC)
    [row] = [r for r in rows if r["employee"] == "E1001"]
    assert row["version"] == "2.0" and row["state"] != "done"


@pytest.mark.requirement("URS-TRN-002")
def test_a_verified_acknowledgement_makes_training_done(training_copy: Path, team: Team) -> None:
    assert state_of(status(training_copy)[1], "E1001") == "overdue"
    result = qms(training_copy, "training", "ack", DOC, *team.operator.signing())
    assert result.code == 0, result.err
    assert result.out.startswith(f"acknowledged: 1 completion signed by {team.operator.name};")
    _, rows = status(training_copy)
    assert state_of(rows, "E1001") == "done" and state_of(rows, "E1002") == "overdue"


@pytest.mark.requirement("URS-TRN-002", check="negative")
def test_a_tampered_acknowledgement_or_roster_does_not_count(
    training_copy: Path, team: Team
) -> None:
    assert qms(training_copy, "training", "ack", DOC, *team.operator.signing()).code == 0
    [record] = (training_copy / "signatures/training/records").rglob("*.json")
    record.write_bytes(record.read_bytes().replace(b'"completed_on":"', b'"completed_on":"1'))
    code, rows = status(training_copy)
    assert code == 1 and state_of(rows, "E1001") == "overdue"
    roster = training_copy / "signatures/training/roster.yaml"
    roster.write_text(roster.read_text().replace("Ben Ortiz", "Ben Ortega"))
    result = qms(training_copy, "training", "status")
    assert result.code == 1 and "the roster is not approved by HR" in result.err


@pytest.mark.requirement("URS-TRN-003", check="negative")
def test_an_acknowledgement_for_an_unknown_person_or_version_writes_nothing(
    training_copy: Path, team: Team, tmp_path: Path
) -> None:
    before = git.Repo(training_copy).head.commit.hexsha
    result = qms(training_copy, "training", "ack", DOC, *team.author.signing())
    assert result.code == 1 and "is not listed for anyone on the staff roster" in result.err
    result = qms(training_copy, "training", "ack", "POL-CRY-001", *team.operator.signing())
    assert result.code == 1, result.out
    assert git.Repo(training_copy).head.commit.hexsha == before
    assert not git.Repo(training_copy).is_dirty(untracked_files=True)
    assert not (training_copy / "signatures/training/records").exists()


@pytest.mark.requirement("URS-TRN-004")
def test_overdue_training_is_reported_and_strict_fails_a_scheduled_job(trained: Trained) -> None:
    result = qms(trained.root, "training", "overdue")
    assert result.code == 0 and "E1001" in result.out and "2 overdue trainings" in result.err
    assert qms(trained.root, "training", "overdue", "--strict").code == 1
    # Five days after the policy took effect, nothing is overdue yet (30 days are given).
    assert qms(trained.root, "training", "overdue", "--strict", "--on", "2026-01-20").code == 0


@pytest.fixture(scope="module")
def release(trained: Trained, team: Team, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Release R1 of every set, signed by both release roles."""
    root = copy_handbook(trained.root, tmp_path_factory.mktemp("training-release") / "handbook")
    assert qms(root, "training", "ack", DOC, *team.operator.signing()).code == 0
    result = qms(root, "release", "create", "R1")
    assert result.code == 0, result.err
    for person in (team.approver, team.reviewer):
        assert qms(root, "release", "sign", "R1", *person.signing()).code == 0
    return root


@pytest.mark.requirement("URS-REL-005")
def test_names_reach_only_the_set_that_admits_personal_data(
    release: Path, trained: Trained, tmp_path: Path
) -> None:
    built = release / "_build/releases/R1"
    auditor = (built / "auditor/training.html").read_text()
    assert "Ben Ortiz" in auditor and "E1002" in auditor
    assert not (built / "staff/training.html").exists()
    for path in (built / "staff").rglob("*"):
        if path.is_file() and path.suffix in (".html", ".js", ".json", ".txt"):
            text = path.read_text(errors="replace")
            for employee, name in trained.roster:
                assert employee not in text and name not in text, (path, name)
    result = qms(release, "release", "publish", "R1", "--to", str(tmp_path / "p"), "--restricted")
    assert result.code == 0, result.err


@pytest.mark.requirement("URS-REL-005", check="negative")
def test_a_set_with_personal_data_is_never_published_where_anyone_may_read(
    release: Path, tmp_path: Path
) -> None:
    published = tmp_path / "open"
    result = qms(release, "release", "publish", "R1", "--to", str(published))
    assert result.code == 1
    assert "holds the set auditor, which admits confidential" in result.err
    assert not published.exists()
