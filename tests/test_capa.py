"""CAPA end to end: closures and effectiveness checks signed on real git and gpg, states derived."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import git
import pytest

from qms.adapters.gpg import UserKeys
from qms.config import load_config
from qms.model.capa import Act, CapaStatement, Result
from qms.services.capa import capa_counts, capa_log
from qms.services.layout import SignatureLayout
from qms.services.metrics import metrics_report
from qms.services.signed_files import write_signed
from qms.services.traceability import load_graph
from tests.conftest import ROOTS
from tests.keys import Person, make_person, remove_home
from tests.signing_repo import Team, commit_all, make_signing_repo, register, run, team

__all__ = ["team"]

GXP = "CAPA-2026-0031"  # GxP-relevant, its action done
PLAIN = "CAPA-2026-0032"  # not GxP, its action due 2026-02-28 and not done
CAPA_POLICY = """
[tool.qms.capa]
close_roles = ["isms-manager"]
verify_roles = ["isms-manager"]
gxp_roles = ["qa"]
"""


@pytest.fixture(scope="module")
def isms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Person]:
    person = make_person("Ivo Manager", tmp_path_factory.mktemp("isms-key"))
    yield person
    remove_home(person)


def qms(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, str, str]:
    code, out, err = run(capsys, "--root", str(root), *argv)
    assert "Traceback" not in err
    return code, out, err


def as_(person: Person) -> tuple[str, ...]:
    return ("--key", person.fingerprint, "--gnupghome", str(person.home), "--yes")


def _repo(tmp_path: Path, team: Team, isms: Person, capsys: pytest.CaptureFixture[str]) -> Path:
    root = make_signing_repo(tmp_path, team, capsys, ROOTS / "test-capa")
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text().replace(
        'organisation = "Test Pharma"\n',
        'organisation = "Test Pharma"\nsite_pages = ["index", "frameworks/*", "matrix"]\n',
    )
    pyproject.write_text(text)
    commit_all(root, "Pages outside document control")
    register(capsys, root, team.admin, isms, "isms-manager")
    return root


@pytest.fixture
def repo(tmp_path: Path, team: Team, isms: Person, capsys: pytest.CaptureFixture[str]) -> Path:
    root = _repo(tmp_path, team, isms, capsys)
    with (root / "pyproject.toml").open("a") as handle:
        handle.write(CAPA_POLICY)
    commit_all(root, "Who closes and verifies CAPAs")
    code, _, err = qms(capsys, root, "signers", "policy", *as_(team.admin))
    assert code == 0, err
    return root


def log(
    capsys: pytest.CaptureFixture[str], root: Path, on: str, *argv: str
) -> tuple[int, dict[str, dict[str, Any]], str]:
    code, out, err = qms(capsys, root, "capa", "--json", "--on", on, *argv)
    return code, {row["id"]: row for row in json.loads(out)}, err


def head(root: Path) -> str:
    return git.Repo(root).head.commit.hexsha


def today() -> str:
    return datetime.now(tz=UTC).date().isoformat()


def test_states_follow_actions_closure_and_check_dates(
    repo: Path, team: Team, isms: Person, capsys: pytest.CaptureFixture[str]
) -> None:
    code, rows, err = log(capsys, repo, "2026-02-01")
    assert code == 0, err
    assert rows[GXP]["state"] == "open" and rows[PLAIN]["state"] == "open"
    assert rows[GXP]["changes"] == ["SOP-ACC-001 1.0"] and rows[GXP]["findings"] == ["FND-2026-01"]
    # An action past its due date and not done: overdue, and --strict fails.
    code, rows, _ = log(capsys, repo, "2026-03-01")
    assert code == 0 and rows[PLAIN]["state"] == "action overdue"
    code, _, err = log(capsys, repo, "2026-03-01", "--strict")
    assert code == 1 and "1 CAPA overdue on 2026-03-01" in err

    code, out, err = qms(capsys, repo, "capa", "close", GXP, *as_(team.approver))
    assert code == 0, err
    assert out.startswith(f"{GXP} closed: signed by Sarah ONeill as qa;")
    closed_on = today()
    code, rows, _ = log(capsys, repo, closed_on)
    assert rows[GXP]["state"] == "closed, awaiting effectiveness check"
    assert rows[GXP]["closed_on"] == closed_on and rows[GXP]["closed_by"] == "Sarah ONeill"
    # Past the check's due date with no verification: the check is overdue.
    later = (date.fromisoformat(max(closed_on, "2026-12-31")) + timedelta(days=1)).isoformat()
    code, rows, _ = log(capsys, repo, later, "--strict")
    assert code == 1 and rows[GXP]["state"] == "effectiveness check overdue"

    code, out, err = qms(
        capsys, repo, "capa", "verify", GXP, "--result", "effective", *as_(team.approver)
    )
    assert code == 0, err
    code, rows, _ = log(capsys, repo, later)
    assert code == 0 and rows[GXP]["state"] == "effective"
    assert rows[GXP]["result"] == "effective" and rows[GXP]["verified_by"] == "Sarah ONeill"
    # The text and CSV forms say the same.
    code, out, err = qms(capsys, repo, "capa", "--on", later)
    assert f"{GXP}  effective" in out and "3 CAPAs, 1 CAPA overdue" in err
    code, out, _ = qms(capsys, repo, "capa", "--csv", "--on", later)
    assert out.startswith('\ufeff"id","title","source"') and "ACT-2026-0031-1 due 2026-06-30" in out
    # The KPIs on open and overdue CAPAs count the log as `qms capa` shows it.
    config = load_config(repo)
    counts = capa_counts(capa_log(config, load_graph(config).graph, date.fromisoformat(later)))
    assert counts is not None
    _, rows, _ = log(capsys, repo, later)
    # A CAPA of another eQMS that no import lists has no known state and is not counted.
    known = [row["state"] for row in rows.values() if row["state"] != "not in any import"]
    assert counts.open == sum(state != "effective" for state in known) >= 1
    assert counts.overdue == 1


def test_a_not_effective_check_is_its_own_state(
    repo: Path, isms: Person, capsys: pytest.CaptureFixture[str]
) -> None:
    path = repo / "docs" / "capa.md"
    path.write_text(
        path.read_text().replace(":due: 2026-02-28\n", ":due: 2026-02-28\n:done: 2026-02-20\n")
    )
    commit_all(repo, "Rota in place")
    code, _, err = qms(capsys, repo, "capa", "close", PLAIN, *as_(isms))
    assert code == 0, err
    code, _, err = qms(
        capsys, repo, "capa", "verify", PLAIN, "--result", "not-effective", *as_(isms)
    )
    assert code == 0, err
    _, rows, _ = log(capsys, repo, today())
    assert rows[PLAIN]["state"] == "not effective"


def test_refusals_write_nothing(
    repo: Path, team: Team, isms: Person, capsys: pytest.CaptureFixture[str]
) -> None:
    before = head(repo)
    cases = [
        (("close", "CAPA-2026-0039", *as_(isms)), 2, "no CAPA CAPA-2026-0039 in the handbook"),
        # Only QA closes a GxP-relevant CAPA.
        (("close", GXP, *as_(isms)), 1, "holds none of the roles that may close a GxP-relevant"),
        (("close", PLAIN, *as_(isms)), 1, "has actions not done (ACT-2026-0032-1)"),
        (("verify", GXP, "--result", "effective", *as_(team.approver)), 1, "is not closed"),
    ]
    for argv, expected, message in cases:
        code, _, err = qms(capsys, repo, "capa", *argv)
        assert code == expected and message in err, (argv, err)
        assert len(err.strip().splitlines()) == 1
    code, _, err = qms(capsys, repo, "capa", "close", GXP, *as_(team.approver))
    assert code == 0, err
    closed = head(repo)
    yesterday = (date.fromisoformat(today()) - timedelta(days=1)).isoformat()
    for argv, message in (
        (("close", GXP), "is already closed"),
        (("verify", GXP, "--result", "effective", "--on", yesterday), "before the closure"),
        (("verify", GXP, "--result", "effective", "--on", "2099-01-01"), "after it was signed"),
    ):
        code, _, err = qms(capsys, repo, "capa", *argv, *as_(team.approver))
        assert code == 1 and message in err and "nothing was written" in err, err
    assert head(repo) == closed != before
    assert not git.Repo(repo).is_dirty(untracked_files=True)


def test_a_statement_the_rules_refuse_is_a_finding_and_does_not_count(
    repo: Path, team: Team, isms: Person, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = qms(capsys, repo, "capa", "close", GXP, *as_(team.approver))
    assert code == 0, err
    layout = SignatureLayout.of(load_config(repo))
    moment = datetime.now(tz=UTC).replace(microsecond=0)
    # Filed by hand, past the CLI: a check dated before the closure, and an ISMS manager
    # verifying a GxP-relevant CAPA.
    for person, role, checked in (
        (team.approver, "qa", date(2026, 1, 1)),
        (isms, "isms-manager", moment.date()),
    ):
        statement = CapaStatement(
            GXP, Act.VERIFY, role, person.name, person.fingerprint, moment,
            checked_on=checked, criterion="c", result=Result.EFFECTIVE,
        )  # fmt: skip
        path = layout.capa_statement_file(GXP, "verify", person.fingerprint, moment)
        write_signed(
            layout, path, statement.to_bytes(), moment, UserKeys(person.home), person.fingerprint,
            timestamps=None,
        )  # fmt: skip
    commit_all(repo, "Verifications by hand")
    code, rows, err = log(capsys, repo, today())
    assert code == 1
    assert rows[GXP]["state"] == "closed, awaiting effectiveness check"
    assert "the effectiveness check is dated 2026-01-01, before the closure" in err
    assert (
        "the role 'isms-manager' may not verify a GxP-relevant CAPA; [tool.qms.capa] names qa"
        in err
    )
    assert err.count(f"signatures/capa/{GXP}/verify--") == 2


def test_without_capa_configuration_nothing_is_signed_and_the_policy_is_unchanged(
    tmp_path: Path, team: Team, isms: Person, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repo(tmp_path, team, isms, capsys)
    assert "capa" not in load_config(root).signing_policy()
    code, rows, err = log(capsys, root, "2026-03-01")
    assert code == 0, err
    assert rows[PLAIN]["state"] == "action overdue"
    code, _, err = qms(capsys, root, "capa", "close", GXP, *as_(team.approver))
    assert code == 2 and "no [tool.qms.capa] names who closes and verifies CAPAs" in err


def test_a_bump_reason_naming_a_capa_needs_that_capa(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = repo / "docs" / "procedures.md"
    before = path.read_text()
    code, _, err = qms(capsys, repo, "bump", "SOP-ACC-001", "--reason", "CAPA-2026-0099: reminders")
    assert code == 2
    assert (
        "the reason names CAPA-2026-0099, which is no CAPA or change request of this handbook"
        in err
    )
    assert path.read_text() == before
    code, out, err = qms(
        capsys, repo, "bump", "SOP-ACC-001", "--reason", f"{GXP}: reminders (EQMS-CAPA-7)"
    )
    assert code == 0, err
    assert out == "SOP-ACC-001: version 1.0 -> 1.1\n"
    assert f'change_reason: "{GXP}: reminders (EQMS-CAPA-7)"' in path.read_text()


def test_the_site_shows_a_signed_closure_and_a_refused_one_as_a_warning(
    repo: Path, team: Team, isms: Person, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = qms(capsys, repo, "capa", "close", GXP, *as_(team.approver))
    assert code == 0, err
    code, out, err = qms(capsys, repo, "build", "--fresh", "--out", str(repo / "site"))
    assert code == 0, out + err
    page = (repo / "site" / "capa.html").read_text()
    assert "closed, awaiting effectiveness check</span>" in page
    assert "(Sarah ONeill)" in page and "No closure or effectiveness check counts" not in page
    # A statement naming a CAPA the handbook does not hold breaks the build, located.
    layout = SignatureLayout.of(load_config(repo))
    moment = datetime.now(tz=UTC).replace(microsecond=0)
    statement = CapaStatement(
        "CAPA-2026-0077", Act.CLOSE, "isms-manager", isms.name, isms.fingerprint, moment
    )
    path = layout.capa_statement_file("CAPA-2026-0077", "close", isms.fingerprint, moment)
    write_signed(layout, path, statement.to_bytes(), moment, UserKeys(isms.home), isms.fingerprint,
                 timestamps=None)  # fmt: skip
    commit_all(repo, "A stray closure")
    code, out, err = qms(capsys, repo, "build", "--out", str(repo / "site"))
    assert code == 1
    assert "signatures/capa/CAPA-2026-0077/close--" in out + err
    assert "names CAPA-2026-0077, which is no CAPA of this handbook" in out + err


def test_external_capa_states_come_from_a_signed_eqms_import(
    repo: Path, team: Team, isms: Person, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # FND-2026-02 names EQMS-CAPA-7781: before any import the log says so, and counts it.
    code, rows, err = log(capsys, repo, "2026-03-01")
    assert code == 0, err
    assert rows["EQMS-CAPA-7781"]["state"] == "not in any import"
    assert rows["EQMS-CAPA-7781"]["findings"] == ["FND-2026-02"]
    before = head(repo)
    bad = tmp_path / "bad.csv"
    bad.write_text("capa_id,state,due\nEQMS-CAPA-7781,pending,\nbad id,open,2026-01-01\n"
                   "EQMS-CAPA-7782,open,31.1.2026\n")  # fmt: skip
    code, _, err = qms(capsys, repo, "capa", "import", str(bad), "--system", "Vault",
                       *as_(team.approver))  # fmt: skip
    assert code == 1 and "3 bad row(s)" in err and "nothing was written" in err
    assert f"{bad}:2: state 'pending' is not one of open, closed, effective, not-effective" in err
    assert f"{bad}:3: capa_id 'bad id' is not an id" in err
    assert f"{bad}:4: due '31.1.2026' is not a day written YYYY-MM-DD" in err
    good = tmp_path / "eqms.csv"
    good.write_text("capa_id,state,due\nEQMS-CAPA-7781,open,2026-02-15\nEQMS-CAPA-9,closed,\n")
    code, _, err = qms(capsys, repo, "capa", "import", str(good), "--system", "Vault", *as_(isms))
    assert code == 1 and "holds none of the roles that may import CAPA states (qa)" in err
    assert head(repo) == before
    code, out, err = qms(capsys, repo, "capa", "import", str(good), "--system", "Vault",
                         *as_(team.approver))  # fmt: skip
    assert code == 0, err
    assert out.startswith("imported: 2 CAPA states from Vault, signed by Sarah ONeill as qa;")
    code, rows, err = log(capsys, repo, "2026-02-01")
    assert rows["EQMS-CAPA-7781"]["state"] == "open"
    assert rows["EQMS-CAPA-7781"]["external"] == "Vault"
    assert "EQMS-CAPA-9" not in rows  # no finding names it
    code, rows, err = log(capsys, repo, "2026-02-20", "--strict")
    assert code == 1 and rows["EQMS-CAPA-7781"]["state"] == "action overdue"
    assert rows[PLAIN]["state"] == "open"  # the handbook's own CAPA is not late yet


CAPA_KPIS = """
```{metric} Overdue CAPAs
:id: KPI-CAPA-01
:definition: CAPAs with an action or effectiveness check past its due date
:unit: count
:direction: lower
:target: 0
:red: 2
:frequency: monthly
:owner: Head of Quality Assurance
:source: capas-overdue
```

```{metric} Open CAPAs
:id: KPI-CAPA-02
:definition: CAPAs not yet found effective
:unit: count
:direction: lower
:target: 5
:frequency: monthly
:owner: Head of Quality Assurance
:source: capas-open
```
"""


def test_kpis_on_capas_are_counted_from_the_log(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with (repo / "docs" / "capa.md").open("a", encoding="utf-8") as handle:
        handle.write(CAPA_KPIS)
    commit_all(repo, "KPIs on CAPAs")

    def kpis(on: str) -> dict[str, tuple[float | None, str]]:
        report = metrics_report(load_config(repo), date.fromisoformat(on), datetime.now(tz=UTC))
        return {row.metric.id: (row.value, row.state) for row in report.rows}

    # By hand, on 2026-03-15: CAPA-2026-0032's action was due 2026-02-28 and is not done
    # (overdue); CAPA-2026-0031's is due 2026-06-30 (open); EQMS-CAPA-7781, which a
    # finding names, is in no eQMS import: its state is unknown and it is not counted.
    assert kpis("2026-03-15") == {"KPI-CAPA-01": (1.0, "amber"), "KPI-CAPA-02": (2.0, "green")}
    # The eQMS says EQMS-CAPA-7781 is open and was due 2026-02-15: overdue too.
    export = tmp_path / "eqms.csv"
    export.write_text("capa_id,state,due\nEQMS-CAPA-7781,open,2026-02-15\n")
    code, _, err = qms(capsys, repo, "capa", "import", str(export), "--system", "Vault",
                       *as_(team.approver))  # fmt: skip
    assert code == 0, err
    assert kpis("2026-03-15") == {"KPI-CAPA-01": (2.0, "amber"), "KPI-CAPA-02": (3.0, "green")}
    # CAPA-2026-0031's action moved forward to 2026-03-01 and not done: three overdue, red.
    page = repo / "docs" / "capa.md"
    text = page.read_text(encoding="utf-8")
    assert ":due: 2026-06-30\n:done: 2026-06-15\n" in text
    page.write_text(text.replace(":due: 2026-06-30\n:done: 2026-06-15\n", ":due: 2026-03-01\n"))
    commit_all(repo, "Reminder action late")
    assert kpis("2026-03-15") == {"KPI-CAPA-01": (3.0, "red"), "KPI-CAPA-02": (3.0, "green")}
    # Before any action was due, none is overdue.
    assert kpis("2026-02-01")["KPI-CAPA-01"] == (0.0, "green")
