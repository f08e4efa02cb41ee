"""Training end to end: roster, acknowledgements, sessions and imports on real git and gpg."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import gnupg
import pytest

from qms.adapters.gpg import fingerprints_in
from qms.model.ceremony import DEFAULT_WORDING
from tests.conftest import ROOTS
from tests.keys import Person, make_person, remove_home, short_tempdir
from tests.signing_repo import Team, commit_all, make_signing_repo, register, run, team

__all__ = ["team"]

DOC = "POL-ACC-001"
DOC_PATH = "docs/policies/pol-acc-001.md"
TRAINING = """
[tool.qms.training]
due_days = 30

[[tool.qms.training.requirements]]
roles = ["operator"]
types = ["policy"]
"""


@dataclass(frozen=True)
class Staff:
    """People training needs besides the approvers."""

    ana: Person  # an operator who acknowledges with her own key
    hanna: Person  # HR
    tom: Person  # trainer
    cleo: Person  # training coordinator


@pytest.fixture(scope="module")
def staff(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Staff]:
    folder = tmp_path_factory.mktemp("staff-keys")
    people = Staff(
        *(make_person(n, folder) for n in ("Ana Petrova", "Hanna Berg", "Tom Ito", "Cleo Wu"))
    )
    yield people
    for person in vars(people).values():
        remove_home(person)


def qms(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, str, str]:
    return run(capsys, "--root", str(root), *argv)


def as_(person: Person) -> tuple[str, ...]:
    return ("--key", person.fingerprint, "--gnupghome", str(person.home), "--yes")


def roster_csv(staff: Staff, extra: str = "") -> str:
    return (
        "employee,name,role,from,until,keys\n"
        f"E1001,Ana Petrova,operator,2025-01-06,,{staff.ana.fingerprint}\n"
        "E1002,Ben Ortiz,operator,2025-03-01,,\n"
        "E1003,Cy Dunn,operator,2024-01-01,2025-12-31,\n"
        "E2001,Hanna Berg,hr,2023-05-01,,\n" + extra
    )


@pytest.fixture
def repo(tmp_path: Path, team: Team, staff: Staff, capsys: pytest.CaptureFixture[str]) -> Path:
    root = make_signing_repo(tmp_path, team, capsys, ROOTS / "test-handbook")
    # Ana only acknowledges for herself: the roster lists her key, the registry does not.
    for person, role in ((staff.hanna, "hr"), (staff.tom, "trainer"),
                         (staff.cleo, "training-coordinator")):  # fmt: skip
        register(capsys, root, team.admin, person, role)
    with (root / "pyproject.toml").open("a") as handle:
        handle.write(TRAINING)
    commit_all(root, "Training requirements")
    code, _, err = qms(capsys, root, "signers", "policy", *as_(team.admin))
    assert code == 0, err
    for person, meaning in ((team.author, "authored"), (team.reviewer, "reviewed"),
                            (team.approver, "approved")):  # fmt: skip
        code, _, err = qms(capsys, root, "approve", DOC, "--meaning", meaning, *as_(person))
        assert code == 0, err
    (tmp_path / "hr.csv").write_text(roster_csv(staff))
    code, out, err = qms(capsys, root, "training", "roster", "import", str(tmp_path / "hr.csv"),
                         *as_(staff.hanna))  # fmt: skip
    assert code == 0, err
    assert "roster: 4 persons, approved by Hanna Berg" in out
    return root


def status(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, list[Any]]:
    code, out, err = qms(capsys, root, "training", "status", "--json", *argv)
    assert "Traceback" not in err
    return code, json.loads(out)


def state_of(rows: list[dict[str, str]], employee: str) -> str:
    [row] = [r for r in rows if r["employee"] == employee and r["document"] == DOC]
    return row["state"]


def head(root: Path) -> str:
    return git.Repo(root).head.commit.hexsha


def test_an_acknowledgement_makes_training_done_until_a_major_version(
    repo: Path, staff: Staff, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, rows = status(capsys, repo)
    assert code == 0
    # The leaver's role ended, so nothing is required of them; HR holds no operator role.
    assert {r["employee"] for r in rows} == {"E1001", "E1002"}
    assert state_of(rows, "E1001") == "overdue"  # effective since 2026-01-15, due in 30 days
    code, out, err = qms(capsys, repo, "training", "ack", DOC, *as_(staff.ana))
    assert code == 0, err
    assert out.startswith("acknowledged: 1 completion signed by Ana Petrova;")
    _, rows = status(capsys, repo)
    assert state_of(rows, "E1001") == "done" and state_of(rows, "E1002") == "overdue"
    [done] = [r for r in rows if r["employee"] == "E1001" and r["document"] == DOC]
    assert done["method"] == "self"
    [record] = (repo / "signatures/training/records").rglob("*.json")
    assert json.loads(record.read_text())["wording"] == DEFAULT_WORDING["training"]

    # A major version resets it: bump, approve 2.0... then 3.0 effective in the future.
    text = (repo / DOC_PATH).read_text().replace("effective: 2026-01-15", "effective: 2099-01-01")
    (repo / DOC_PATH).write_text(text + "\nA new duty for every operator.\n")
    code, _, err = qms(capsys, repo, "bump", DOC, "--major", "--reason", "New duty")
    assert code == 0, err
    commit_all(repo, "3.0")
    for person, meaning in ((team.author, "authored"), (team.reviewer, "reviewed"),
                            (team.approver, "approved")):  # fmt: skip
        code, _, err = qms(capsys, repo, "approve", DOC, "--meaning", meaning, *as_(person))
        assert code == 0, err
    _, rows = status(capsys, repo, "--document", DOC)
    [row] = [r for r in rows if r["employee"] == "E1001"]
    assert row["version"] == "3.0" and row["state"] == "due" and row["due"] == "2099-01-31"


def test_a_session_and_an_import_count_and_show_in_the_record(
    repo: Path, staff: Staff, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = qms(
        capsys, repo, "training", "session", DOC, "--attendee", "E1002", "--form", "classroom",
        "--title", "Access control refresher", "--date", "2026-02-01", *as_(staff.tom),
    )  # fmt: skip
    assert code == 0, err
    export = tmp_path / "lms.csv"
    export.write_text(
        "employee,document_id,version,completed_on\nE1001,POL-ACC-001,2.0,2026-02-03\n"
    )
    code, out, err = qms(capsys, repo, "training", "import", str(export), "--system", "Cornerstone",
                         *as_(staff.cleo))  # fmt: skip
    assert code == 0, err and out.startswith("imported: 1 completion")
    _, rows = status(capsys, repo, "--document", DOC)
    assert {r["employee"]: r["method"] for r in rows} == {"E1001": "import", "E1002": "session"}
    code, out, err = qms(capsys, repo, "training", "record", "E1002", "--json")
    record = json.loads(out)
    assert code == 0 and record["name"] == "Ben Ortiz"
    [completion] = record["completions"]
    assert completion["method"] == "session" and completion["completed_on"] == "2026-02-01"
    assert completion["record"].startswith("signatures/training/records/")
    code, out, err = qms(capsys, repo, "training", "import", str(export), "--system", "Cornerstone",
                         *as_(staff.cleo))  # fmt: skip
    assert code == 1 and "was imported before" in err
    code, out, _ = qms(capsys, repo, "audit-trail", DOC, "--json")
    trained = [e for e in json.loads(out) if e["event"].startswith("trained")]
    assert [(e["event"], e["why"]) for e in trained] == [
        ("trained (session): 1 person", "Access control refresher"),
        ("trained (import): 1 person", "Cornerstone"),
    ]
    assert trained[0]["who"].startswith("Tom Ito (key ")


def test_overdue_strict_fails_a_scheduled_job(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = qms(capsys, repo, "training", "overdue")
    assert code == 0 and "E1001" in out and "2 overdue trainings" in err
    code, _, _ = qms(capsys, repo, "training", "overdue", "--strict")
    assert code == 1
    code, _, _ = qms(capsys, repo, "training", "overdue", "--strict", "--on", "2026-01-20")
    assert code == 0


def test_refusals_name_the_problem_and_write_nothing(
    repo: Path, staff: Staff, team: Team, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = head(repo)
    # A registered signer whose key the roster does not list for anyone.
    code, _, err = qms(capsys, repo, "training", "ack", DOC, *as_(team.author))
    assert code == 1 and "is not listed for anyone on the staff roster" in err
    # A trainer role is needed to attest a session.
    code, _, err = qms(capsys, repo, "training", "session", DOC, "--attendee", "E1001",
                       "--form", "classroom", "--title", "x", "--date", "2026-02-01",
                       *as_(staff.cleo))  # fmt: skip
    assert code == 1 and "does not hold the role 'trainer'" in err
    # A person not on the roster.
    code, _, err = qms(capsys, repo, "training", "session", DOC, "--attendee", "E9999",
                       "--form", "classroom", "--title", "x", "--date", "2026-02-01",
                       *as_(staff.tom))  # fmt: skip
    assert code == 1 and "not on the staff roster: E9999" in err
    # An import is all or nothing, every bad row named.
    export = tmp_path / "bad.csv"
    export.write_text(
        "employee,document_id,version,completed_on\n"
        "E1001,POL-ACC-001,2.0,2026-02-03\n"
        "E4040,POL-ACC-001,2.0,2026-02-03\n"
        "E1002,POL-XXX-001,2.0,2026-02-03\n"
        "E1002,POL-ACC-001,1.0,2026-02-03\n"
    )
    code, _, err = qms(capsys, repo, "training", "import", str(export), "--system", "LMS",
                       *as_(staff.cleo))  # fmt: skip
    assert code == 1
    assert "3 bad row(s) in " in err
    assert f"{export}:3: employee E4040 is not on the roster" in err
    assert f"{export}:4: POL-XXX-001 is not a document of this handbook" in err
    assert f"{export}:5: POL-ACC-001 1.0 was never approved" in err
    # A roster export with a bad row, or one that drops a person.
    bad = tmp_path / "hr-bad.csv"
    bad.write_text(roster_csv(staff, "E1004,Dee,operator,soon,,\n"))
    code, _, err = qms(capsys, repo, "training", "roster", "import", str(bad), *as_(staff.hanna))
    assert code == 1 and f"{bad}:6: from: 'soon' is not a date" in err
    dropped = tmp_path / "hr-dropped.csv"
    dropped.write_text("\n".join(roster_csv(staff).splitlines()[:-1]) + "\n")
    code, _, err = qms(
        capsys, repo, "training", "roster", "import", str(dropped), *as_(staff.hanna)
    )
    assert code == 1 and "drops E2001" in err
    # Only HR approves the roster.
    code, _, err = qms(capsys, repo, "training", "roster", "import", str(tmp_path / "hr.csv"),
                       *as_(staff.tom))  # fmt: skip
    assert code == 1 and "does not hold the role 'hr'" in err
    assert head(repo) == before
    assert "Traceback" not in err


def test_a_tampered_record_or_roster_does_not_count(
    repo: Path, staff: Staff, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = qms(capsys, repo, "training", "ack", DOC, *as_(staff.ana))
    assert code == 0, err
    [record] = (repo / "signatures/training/records").rglob("*.json")
    record.write_bytes(record.read_bytes().replace(b'"completed_on":"', b'"completed_on":"1'))
    code, rows = status(capsys, repo)
    assert code == 1 and state_of(rows, "E1001") == "overdue"
    roster = repo / "signatures/training/roster.yaml"
    roster.write_text(roster.read_text().replace("Ben Ortiz", "Ben Ortega"))
    code, out, err = qms(capsys, repo, "training", "status")
    assert code == 1, err
    assert "the roster is not approved by HR" in err and "E1002" not in out


def test_an_effectiveness_gate_and_the_page_show_training_per_role(
    repo: Path, staff: Staff, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "due_days = 30\n", "due_days = 30\ngates = { policy = 1.0 }\n"
        )
    )
    commit_all(repo, "Every operator trained before a policy is in force")
    code, _, err = qms(capsys, repo, "signers", "policy", *as_(team.admin))
    assert code == 0, err

    def status_of_doc() -> tuple[str, str]:
        _, out, _ = qms(capsys, repo, "status", "--json")
        [row] = [r for r in json.loads(out)["documents"] if r["id"] == DOC]
        return row["status"], row["status_reason"]

    assert status_of_doc() == (
        "approved",
        "approved; effective once 100% of the affected staff are trained (0 of 2 so far)",
    )
    code, _, err = qms(capsys, repo, "training", "ack", DOC, *as_(staff.ana))
    assert code == 0, err
    code, _, err = qms(
        capsys, repo, "training", "session", DOC, "--attendee", "E1002", "--form", "on-the-job",
        "--title", "Badge and account rules", "--date", "2026-02-02", *as_(staff.tom),
    )  # fmt: skip
    assert code == 0, err
    assert status_of_doc()[0] == "effective"
    code, _, err = qms(capsys, repo, "build")
    assert code == 0, err
    page = (repo / "_build/html/policies/pol-acc-001.html").read_text()
    assert "2 of 2 people trained" in page and "operator: 2 of 2" in page
    assert "Ana Petrova" not in page and "E1001" not in page


SETS = """
[tool.qms.sets.staff]
title = "Staff handbook"
classifications = ["public", "internal"]

[tool.qms.sets.auditor]
title = "Auditor pack"
classifications = ["public", "internal", "confidential", "restricted"]
pages = ["training"]

[tool.qms.release]
signer_roles = ["qa", "reviewer"]
"""


def test_names_reach_only_the_set_that_admits_personal_data(
    repo: Path, staff: Staff, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = qms(capsys, repo, "training", "ack", DOC, *as_(staff.ana))
    assert code == 0, err
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text().replace(
        "[tool.qms]\n", '[tool.qms]\nsite_pages = ["index", "register", "*/index", "training"]\n'
    )
    pyproject.write_text(text + SETS)
    (repo / "docs/training.md").write_text("# Training matrix\n\n```{qms-training-matrix}\n```\n")
    index = repo / "docs/index.md"
    index.write_text(index.read_text().replace("register\n", "register\ntraining\n", 1))
    commit_all(repo, "Release sets and a training page")
    code, _, err = qms(capsys, repo, "signers", "policy", *as_(team.admin))
    assert code == 0, err
    code, _, err = qms(capsys, repo, "release", "create", "R1")
    assert code == 0, err
    built = repo / "_build/releases/R1"
    auditor = (built / "auditor/training.html").read_text()
    assert "Ana Petrova" in auditor and "E1002" in auditor and "operator" in auditor
    assert not (built / "staff/training.html").exists()
    roster = [
        line.split(",")[:2] for line in roster_csv(staff).splitlines()[1:]
    ]  # employee number and name of everyone on the roster
    for path in (built / "staff").rglob("*"):
        if path.is_file() and path.suffix in (".html", ".js", ".json", ".txt"):
            text = path.read_text(errors="replace")
            for employee, name in roster:
                assert employee not in text and name not in text, (path, name)
    page = (built / "staff/policies/pol-acc-001.html").read_text()
    assert "1 of 2 people trained" in page
    # Ana's key is kept with the roster, not with the signers' keys a release publishes.
    [kept] = (repo / "signatures/training/keys").glob("*.asc")
    assert fingerprints_in(kept.read_bytes()) == (staff.ana.fingerprint,)
    assert not (repo / f"signatures/keys/{staff.ana.fingerprint}.asc").exists()
    for person in (team.approver, team.reviewer):
        code, _, err = qms(capsys, repo, "release", "sign", "R1", *as_(person))
        assert code == 0, err
    published = repo.parent / "published"
    # The auditor pack admits personal data: never into a folder anyone may read.
    code, _, err = qms(capsys, repo, "release", "publish", "R1", "--to", str(published))
    assert code == 1 and "holds the set auditor, which admits confidential" in err
    assert not published.exists()
    code, _, err = qms(capsys, repo, "release", "publish", "R1", "--to", str(published),
                       "--restricted")  # fmt: skip
    assert code == 0, err
    # Everyone on the roster who signs nothing but their own training stays out of every
    # file of the published release outside the auditor set: pages, keys and registry.
    unregistered = [(e, n) for e, n in roster if n not in ("Hanna Berg",)]
    fingerprint = staff.ana.fingerprint
    checked = 0
    for path in published.rglob("*"):
        if path.is_file() and "auditor" not in path.relative_to(published).parts:
            data = path.read_bytes()
            checked += 1
            assert fingerprint.encode() not in data, path
            for employee, name in unregistered:
                assert name.encode() not in data and employee.encode() not in data, (path, name)
    assert checked > 20


def revoked_copy(person: Person) -> str:
    """`person`'s public key with the revocation gpg made at key generation applied."""
    certificate = person.home / "openpgp-revocs.d" / f"{person.fingerprint}.rev"
    scratch = short_tempdir("qt-")
    try:
        gpg = gnupg.GPG(gnupghome=str(scratch))
        gpg.import_keys(person.public_key.read_bytes())
        gpg.import_keys(certificate.read_text().replace(":-----BEGIN", "-----BEGIN"))
        armored: str = gpg.export_keys(person.fingerprint, armor=True)
        return armored
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_an_older_approved_roster_put_back_does_not_count(
    repo: Path, staff: Staff, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = qms(capsys, repo, "training", "ack", DOC, *as_(staff.ana))
    assert code == 0, err
    assert state_of(status(capsys, repo)[1], "E1001") == "done"
    roster = repo / "signatures/training/roster.yaml"
    approved_first = roster.read_bytes()
    # HR takes Ana's key off the roster: what it signed no longer counts.
    (tmp_path / "hr2.csv").write_text(roster_csv(staff).replace(staff.ana.fingerprint, ""))
    code, _, err = qms(capsys, repo, "training", "roster", "import", str(tmp_path / "hr2.csv"),
                       *as_(staff.hanna))  # fmt: skip
    assert code == 0, err
    # However fast the second import, it is stated later than the first: the latest is
    # never a tie that a filename would decide.
    approvals = sorted((repo / "signatures/training/roster-approvals").glob("*.json"))
    stamps = [a.name.split("--")[0] for a in approvals]
    assert len(stamps) >= 2 and len(set(stamps)) == len(stamps), stamps
    assert state_of(status(capsys, repo)[1], "E1001") != "done"
    # Someone without the HR key puts the earlier approved roster back.
    roster.write_bytes(approved_first)
    commit_all(repo, "Restore the roster")
    code, out, err = qms(capsys, repo, "training", "status", "--json")
    assert code == 1 and json.loads(out) == []
    assert "it is an older roster HR approved" in err and "signatures/training/roster.yaml" in err


def test_a_key_belongs_to_one_person_on_the_roster(
    repo: Path, staff: Staff, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = roster_csv(staff).replace(
        "E1002,Ben Ortiz,operator,2025-03-01,,",
        f"E1002,Ben Ortiz,operator,2025-03-01,,{staff.ana.fingerprint}",
    )
    (tmp_path / "hr3.csv").write_text(shared)
    before = head(repo)
    code, _, err = qms(capsys, repo, "training", "roster", "import", str(tmp_path / "hr3.csv"),
                       *as_(staff.hanna))  # fmt: skip
    assert code == 1 and head(repo) == before
    assert f"hr3.csv:3: key {staff.ana.fingerprint} is listed for E1001 above" in err
    # A roster edited by hand to the same effect is refused as it is read.
    roster = repo / "signatures/training/roster.yaml"
    text = roster.read_text()
    ben = text.index('employee: "E1002"')
    listed = f'keys: ["{staff.ana.fingerprint}"]\n    roles:'
    roster.write_text(text[:ben] + text[ben:].replace("roles:", listed, 1))
    code, _, err = qms(capsys, repo, "training", "status")
    assert code == 1 and "a key belongs to one person" in err


def test_a_staff_key_keeps_its_revocation_and_a_bad_one_is_a_training_finding(
    repo: Path, staff: Staff, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = qms(capsys, repo, "training", "ack", DOC, *as_(staff.ana))
    assert code == 0, err
    [key_file] = (repo / "signatures/training/keys").glob("*.asc")
    original = key_file.read_bytes()
    key_file.write_text(revoked_copy(staff.ana))
    commit_all(repo, "Ana revokes her key")
    assert state_of(status(capsys, repo)[1], "E1001") != "done"
    # Undoing the revocation is found, though the file is a key and may change.
    key_file.write_bytes(original)
    commit_all(repo, "Drop the revocation")
    code, out, err = qms(capsys, repo, "verify", "--json")
    assert code == 1
    [altered] = json.loads(out)["altered"]
    assert altered["path"] == key_file.relative_to(repo).as_posix()
    assert f"no longer holds the revocation of {staff.ana.fingerprint}" in altered["message"]
    # A file that is no key at all, among staff keys, leaves the registry and approvals be.
    (repo / "signatures/training/keys/0000000000000000.asc").write_text("not a key\n")
    commit_all(repo, "A broken staff key")
    code, out, _ = qms(capsys, repo, "status", "--json")
    [row] = [r for r in json.loads(out)["documents"] if r["id"] == DOC]
    assert row["status"] == "effective"
    code, _, err = qms(capsys, repo, "training", "status")
    assert code == 1 and "0000000000000000.asc: not a valid public key" in err
