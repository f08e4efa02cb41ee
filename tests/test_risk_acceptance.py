"""Risk acceptance by signature end to end: levels, refusals and lapses on real git and gpg."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git
import pytest
from sphinx.cmd.build import main as sphinx_main

from qms.model.ceremony import DEFAULT_WORDING
from qms.model.timeutil import format_utc
from tests.keys import Person
from tests.signing_repo import (
    Team,
    as_,
    commit_all,
    qms,
    register,
    run,
    team,
    throwaway_people,
    traceability_repo,
)

__all__ = ["team"]

# Scores up to 4 the risk's owner, up to 12 the ISMS manager, above that the CEO.
SETTINGS = """
[tool.qms.risk_acceptance]
levels = [
    { up_to = 4, roles = ["risk-owner"] },
    { up_to = 12, roles = ["isms-manager"] },
    { up_to = 25, roles = ["ceo"] },
]

[tool.qms.roles]
qa = "Head of Quality Assurance"
"""
RISKS = "docs/risks.md"
ACCEPTANCES = "signatures/risks/acceptances"


@dataclass(frozen=True)
class Board:
    """Who accepts risks besides the team: the ISMS manager and the CEO."""

    isms: Person
    ceo: Person


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    for people in throwaway_people(
        tmp_path_factory, "board-keys", "Iris Manager", "Carl Executive"
    ):
        yield Board(*people)


@pytest.fixture
def repo(tmp_path: Path, team: Team, board: Board, capsys: pytest.CaptureFixture[str]) -> Path:
    root = traceability_repo(tmp_path, team, capsys, SETTINGS)
    # RSK-003's owner is a role of the registry, named by its title.
    risks = (root / RISKS).read_text()
    (root / RISKS).write_text(
        risks.replace(
            ":risk_owner: Facilities Manager Basel", ":risk_owner: Head of Quality Assurance"
        )
    )
    commit_all(root, "Risk acceptance levels")
    code, _, err = qms(capsys, root, "signers", "policy", *as_(team.admin))
    assert code == 0, err
    register(capsys, root, team.admin, board.isms, "isms-manager")
    register(capsys, root, team.admin, board.ceo, "ceo")
    return root


def status(
    capsys: pytest.CaptureFixture[str], root: Path, *argv: str
) -> tuple[int, dict[str, Any]]:
    code, out, _ = qms(capsys, root, "risk", "status", "--json", *argv)
    return code, {row["id"]: row for row in json.loads(out)}


def head(root: Path) -> str:
    return git.Repo(root).head.commit.hexsha


def accept_two(capsys: pytest.CaptureFixture[str], root: Path, team: Team, board: Board) -> None:
    """RSK-003 accepted by its owner (score 2), RSK-001 by the ISMS manager (10)."""
    for risk, person in (("RSK-003", team.approver), ("RSK-001", board.isms)):
        code, _, err = qms(capsys, root, "risk", "accept", risk, "--until", "2099-01-01",
                           *as_(person))  # fmt: skip
        assert code == 0, err


def edit_risk(root: Path, risk_id: str, old: str, new: str) -> None:
    """Replace the first `old` from `risk_id`'s need on."""
    text = (root / RISKS).read_text()
    start = text.index(f":id: {risk_id}")
    (root / RISKS).write_text(text[:start] + text[start:].replace(old, new, 1))


def line_of(root: Path, risk_id: str) -> int:
    lines = (root / RISKS).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line == f":id: {risk_id}") - 1


def test_owner_and_levels_accept_and_status_comes_from_signatures(
    repo: Path, team: Team, board: Board, capsys: pytest.CaptureFixture[str]
) -> None:
    code, rows = status(capsys, repo)
    # RSK-003 is treated by acceptance; RSK-001's current score 10 is above the threshold.
    assert code == 0
    assert {k: r["state"] for k, r in rows.items()} == {
        "RSK-001": "missing", "RSK-002": "not needed", "RSK-003": "missing",
    }  # fmt: skip
    # The typed acceptance field of RSK-003 counts for nothing.
    assert rows["RSK-003"]["accepted_by"] == ""
    code, _, err = qms(capsys, repo, "risk", "status", "--strict")
    assert code == 1 and "2 risks without a valid acceptance" in err

    code, out, err = qms(capsys, repo, "risk", "accept", "RSK-003", "--until", "2099-01-01",
                         "--comment", "negligible", *as_(team.approver))  # fmt: skip
    assert code == 0, err
    assert out.startswith("accepted: RSK-003 at score 2 until 2099-01-01 by Sarah ONeill (qa);")
    [statement] = (repo / ACCEPTANCES / "RSK-003").glob("*.json")
    data = json.loads(statement.read_text())
    assert data["schema"] == "qms-risk-acceptance/1"
    assert (data["likelihood"], data["impact"], data["score"]) == (2, 1, 2)
    assert data["register"] == {"document_id": "REG-ISMS-002", "version": "1.0"}
    assert (data["until"], data["signer_role"]) == ("2099-01-01", "qa")
    # The words the signer confirmed are in what they signed (21 CFR 11.50(a)(3)).
    assert data["wording"] == DEFAULT_WORDING["risk-acceptance"]
    assert not git.Repo(repo).is_dirty(untracked_files=True)

    # Score 10 needs the ISMS manager's level or above: the CEO may accept it too.
    code, _, err = qms(capsys, repo, "risk", "accept", "RSK-001", "--until", "2099-01-01",
                       *as_(board.isms))  # fmt: skip
    assert code == 0, err
    code, rows = status(capsys, repo)
    assert code == 0
    accepted = rows["RSK-001"]
    assert accepted["state"] == "accepted"
    assert (accepted["accepted_by"], accepted["accepted_role"]) == ("Iris Manager", "isms-manager")
    assert (accepted["accepted_score"], accepted["until"]) == (10, "2099-01-01")
    code, _, err = qms(capsys, repo, "risk", "status", "--strict")
    assert code == 0, err


def test_each_refusal_is_one_line_and_writes_nothing(
    repo: Path, team: Team, board: Board, capsys: pytest.CaptureFixture[str]
) -> None:
    before = head(repo)
    cases = [
        (("RSK-999", "--until", "2099-01-01", *as_(team.approver)),
         "qms: error: RSK-999 is not a risk of this handbook; nothing was written; 'qms "
         "risk status' lists the risks"),
        (("RSK-003", "--until", "2020-01-01", *as_(team.approver)),
         "qms: error: --until 2020-01-01 is not after today; nothing was written"),
        # The risk's owner may accept up to 4, not RSK-001's 10.
        (("RSK-001", "--until", "2099-01-01", *as_(team.approver)),
         "qms: error: Sarah ONeill may not accept RSK-001 at score 10: that needs "
         "'isms-manager' or 'ceo'; nothing was written"),
        # The ISMS manager is not RSK-003's owner, but a higher level accepts lower scores.
        (("RSK-003", "--until", "2099-01-01", *as_(team.outsider)),
         "qms: error: cannot accept with"),
    ]  # fmt: skip
    for argv, message in cases:
        code, out, err = qms(capsys, repo, "risk", "accept", *argv)
        assert code == 1, (argv, out)
        assert err.startswith(message), err
        assert len(err.strip().splitlines()) == 1, err
    assert head(repo) == before
    assert not (repo / ACCEPTANCES).exists()

    # A revoked signer is refused too, and nothing is written.
    code, _, err = qms(
        capsys, repo, "signers", "revoke", board.isms.fingerprint, "--at", "2020-01-01T00:00:00Z",
        "--reason", "Left the company", *as_(team.admin),
    )  # fmt: skip
    assert code == 0, err
    before = head(repo)
    code, _, err = qms(capsys, repo, "risk", "accept", "RSK-001", "--until", "2099-01-01",
                       *as_(board.isms))  # fmt: skip
    assert code == 1
    assert err.startswith(f"qms: error: cannot accept with {board.isms.fingerprint}: ")
    assert "revoked" in err and "nothing was written" in err
    assert head(repo) == before and not (repo / ACCEPTANCES).exists()


def test_unknown_date_and_missing_arguments_are_usage_errors(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, message in (
        (("--until", "next year"), "argument --until: invalid fromisoformat value"),
        ((), "the following arguments are required: --until"),
    ):
        with pytest.raises(SystemExit) as exit_:
            run(capsys, "--root", str(repo), "risk", "accept", "RSK-003", *argv)
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err


def test_an_acceptance_lapses_when_the_score_rises_or_it_expires(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = qms(capsys, repo, "risk", "accept", "RSK-003", "--until", "2098-12-31",
                       *as_(team.approver))  # fmt: skip
    assert code == 0, err
    # Expired: judged on a day after its date.
    code, rows = status(capsys, repo, "--on", "2099-01-01")
    assert code == 1
    assert (rows["RSK-003"]["state"], rows["RSK-003"]["lapse"]) == ("lapsed", "expired")
    assert "expired on 2098-12-31" in rows["RSK-003"]["lapse_reason"]

    # The score rises from 2 to 4 (still the owner's level): above the accepted one.
    edit_risk(repo, "RSK-003", ":residual_impact: 1", ":residual_impact: 2")
    edit_risk(repo, "RSK-003", ":impact: 1", ":impact: 2")
    commit_all(repo, "RSK-003 reassessed")
    code, rows = status(capsys, repo)
    assert code == 1
    assert (rows["RSK-003"]["state"], rows["RSK-003"]["lapse"]) == ("lapsed", "score")
    code, _, err = qms(capsys, repo, "risk", "status")
    line = line_of(repo, "RSK-003")
    assert (
        f"docs/risks.md:{line}: RSK-003: acceptance lapsed: the current score 4 is above the "
        "accepted 2 (Sarah ONeill, "
    ) in err
    # The build says so at the risk's line too: a notice, counted, that fails nothing.
    lapsed = f"docs/risks.md:{line}: RSK-003: acceptance lapsed: the current score 4"
    code, out, err = qms(capsys, repo, "build", "--fresh")
    assert code == 0, out + err
    assert lapsed in out
    assert err.rstrip().endswith("(1 notice)") and "warning" not in err, err
    code, out, err = qms(capsys, repo, "check")
    assert code == 0, out + err
    assert lapsed in out and "qms check: no problems found (1 notice)" in err
    code, out, _ = qms(capsys, repo, "check", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["findings"] == []
    [notice] = report["notices"]
    assert (notice["path"], notice["line"]) == ("docs/risks.md", line)
    assert notice["code"] == "qms.risk-acceptance-lapsed"
    # sphinx-build -W itself passes: the notice is no warning.
    code = sphinx_main(["-W", "-q", "-b", "dummy", "-c", str(repo), str(repo / "docs"),
                        str(repo / "_build" / "w")])  # fmt: skip
    assert code == 0


def test_the_risk_export_carries_current_scores_and_each_acceptance(
    repo: Path, team: Team, board: Board, capsys: pytest.CaptureFixture[str]
) -> None:
    accept_two(capsys, repo, team, board)
    edit_risk(repo, "RSK-003", ":residual_impact: 1", ":residual_impact: 2")
    edit_risk(repo, "RSK-003", ":impact: 1", ":impact: 2")
    commit_all(repo, "RSK-003 reassessed")
    _, rows = status(capsys, repo)
    code, out, err = qms(capsys, repo, "risks", "--format", "json")
    assert code == 0, err
    exported = {row["id"]: row for row in json.loads(out)}
    held = exported["RSK-001"]
    assert (held["current_likelihood"], held["current_impact"], held["current_score"]) == (
        2, 5, 10,
    )  # fmt: skip
    assert (held["acceptance_state"], held["accepted_by"], held["accepted_role"]) == (
        "accepted", "Iris Manager", "isms-manager",
    )  # fmt: skip
    assert (held["until"], held["accepted_score"], held["lapse_reason"]) == ("2099-01-01", 10, "")
    lapsed = exported["RSK-003"]
    assert (lapsed["current_score"], lapsed["acceptance_state"]) == (4, "lapsed")
    assert (lapsed["accepted_by"], lapsed["accepted_score"]) == ("Sarah ONeill", 2)
    assert lapsed["lapse_reason"].startswith("the current score 4 is above the accepted 2")
    # The same as 'qms risk status' says, field for field.
    for risk_id, row in exported.items():
        assert row["accepted_at"] == rows[risk_id]["accepted_at"]
        assert row["lapse_reason"] == rows[risk_id]["lapse_reason"]
    assert exported["RSK-002"]["acceptance_state"] == "not needed"
    code, out, _ = qms(capsys, repo, "risks", "--format", "csv")
    header = next(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert header[-7:] == ["acceptance_state", "accepted_by", "accepted_role", "accepted_at",
                           "until", "accepted_score", "lapse_reason"]  # fmt: skip


def test_an_acceptance_lapses_when_its_signer_loses_the_role(
    repo: Path, team: Team, board: Board, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = qms(capsys, repo, "risk", "accept", "RSK-001", "--until", "2099-01-01",
                       *as_(board.isms))  # fmt: skip
    assert code == 0, err
    time.sleep(1.1)
    at = format_utc(datetime.now(UTC).replace(microsecond=0))
    code, _, err = qms(capsys, repo, "signers", "revoke", board.isms.fingerprint, "--at", at,
                       "--reason", "Moved to another post", *as_(team.admin))  # fmt: skip
    assert code == 0, err
    code, rows = status(capsys, repo)
    assert code == 1
    assert (rows["RSK-001"]["state"], rows["RSK-001"]["lapse"]) == ("lapsed", "role")
    assert "Iris Manager no longer holds the role 'isms-manager'" in rows["RSK-001"]["lapse_reason"]
    assert "'isms-manager' or 'ceo' accepts it again" in rows["RSK-001"]["lapse_reason"]


def test_a_tampered_acceptance_does_not_count_and_is_named(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = qms(capsys, repo, "risk", "accept", "RSK-003", "--until", "2099-01-01",
                       *as_(team.approver))  # fmt: skip
    assert code == 0, err
    [statement] = (repo / ACCEPTANCES / "RSK-003").glob("*.json")
    statement.write_text(
        statement.read_text().replace('"until":"2099-01-01"', '"until":"2199-01-01"')
    )
    code, rows = status(capsys, repo)
    assert code == 1 and rows["RSK-003"]["state"] == "missing"
    code, _, err = qms(capsys, repo, "risk", "status")
    shown = statement.relative_to(repo).as_posix()
    assert f"{shown}: RSK-003: signature does not verify" in err


def test_the_register_page_shows_who_accepted_when_until_and_at_which_score(
    repo: Path, team: Team, board: Board, capsys: pytest.CaptureFixture[str]
) -> None:
    accept_two(capsys, repo, team, board)
    code, out, err = qms(capsys, repo, "build", "--fresh")
    assert code == 0, out + err
    html = (repo / "_build" / "html" / "risks.html").read_text()
    table = html[html.index('class="qms-risks') :]
    table = table[: table.index("</table>")]
    today = datetime.now(UTC).date().isoformat()
    assert f"Iris Manager (isms-manager), {today}, until 2099-01-01, at score 10" in table
    assert f"Sarah ONeill (qa), {today}, until 2099-01-01, at score 2" in table
    assert '<th class="head"><p>Accepted</p></th>' in table or ">Accepted<" in table


def test_only_a_signed_acceptance_treats_a_risk_without_controls(
    repo: Path, board: Board, capsys: pytest.CaptureFixture[str]
) -> None:
    soa = repo / "docs" / "soa.md"
    soa.write_text(soa.read_text().replace(":mitigates: RSK-002\n", ""))
    edit_risk(repo, "RSK-002", ":risk_owner:", ":acceptance: Typed only\n:risk_owner:")
    commit_all(repo, "RSK-002 loses its control")
    code, out, err = qms(capsys, repo, "build", "--fresh")
    line = line_of(repo, "RSK-002")
    assert code == 1
    assert (
        f"docs/risks.md:{line}: RSK-002: score 12 is above the acceptance threshold 8 with "
        "neither a mitigating control nor a recorded acceptance"
    ) in out
    # RSK-002's owner names no role: its current score 4 goes to the levels above.
    code, _, err = qms(capsys, repo, "risk", "accept", "RSK-002", "--until", "2099-01-01",
                       *as_(board.isms))  # fmt: skip
    assert code == 0, err
    code, out, err = qms(capsys, repo, "build", "--fresh")
    assert code == 0 and "RSK-002" not in out, out
    # Once that acceptance lapses (the score rises to 8), the risk is untreated again: the
    # lapse is a notice, the untreated risk still an error, both at the risk's line.
    edit_risk(repo, "RSK-002", ":residual_likelihood: 1", ":residual_likelihood: 2")
    commit_all(repo, "RSK-002 reassessed")
    code, out, err = qms(capsys, repo, "build", "--fresh")
    assert code == 1
    assert f"docs/risks.md:{line}: RSK-002: acceptance lapsed: the current score 8" in out
    assert f"docs/risks.md:{line}: RSK-002: score 12 is above the acceptance threshold" in out
    assert "qms build: 1 warning (1 notice);" in err, err


def test_an_acceptance_of_a_risk_no_longer_in_the_register_is_named(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = qms(capsys, repo, "risk", "accept", "RSK-003", "--until", "2099-01-01",
                       *as_(team.approver))  # fmt: skip
    assert code == 0, err
    text = (repo / RISKS).read_text()
    (repo / RISKS).write_text(text[: text.index("```{risk} Printer toner theft")])
    commit_all(repo, "RSK-003 closed")
    code, rows = status(capsys, repo)
    assert code == 1 and "RSK-003" not in rows
    code, _, err = qms(capsys, repo, "risk", "status")
    [statement] = (repo / ACCEPTANCES / "RSK-003").glob("*.json")
    shown = statement.relative_to(repo).as_posix()
    assert f"{shown}: RSK-003 is not a risk of this handbook\n" in err
