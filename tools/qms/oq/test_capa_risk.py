"""CAPA states from signed closures and effectiveness checks, closed only by the configured
roles; risks above the threshold treated by controls or a valid signed acceptance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import git
import pytest

from qms.oq.handbook import PAGES, commit_all, copy_handbook, new_handbook, qms
from qms.oq.people import Team

CAPA = "CAPA-2026-0031"
RISKS = "docs/registers/reg-isms-002.md"

SETTINGS = """
[tool.qms.capa]
close_roles = ["qa"]
verify_roles = ["qa"]
gxp_roles = ["qa"]

[tool.qms.risk_acceptance]
levels = [
    { up_to = 4, roles = ["risk-owner"] },
    { up_to = 25, roles = ["qa"] },
]

[tool.qms.roles]
qa = "Head of Quality Assurance"
"""

CAPA_LOG = """\
---
id: REG-CAPA-001
title: CAPA Log
type: register
version: "1.0"
owner: Head of Quality Assurance
classification: internal
review_months: 12
---

## Log

```{qms-capa-log}
```

## CAPAs

```{capa} Access reviews on time
:id: CAPA-2026-0031
:origin: incident
:source_ref: INC-2026-014
:owner: Head of Quality Assurance
:root_cause: No reminder before the quarterly access review is due.
:gxp: yes
:check_due: 2026-12-31
:criterion: Four quarterly reviews in a row signed on time.
```

```{action} Automatic reminder two weeks before each review
:id: ACT-2026-0031-1
:due: 2026-06-30
:done: 2026-06-15
:action_owner: IT Operations Lead
:action_of: CAPA-2026-0031
```
"""

RISK_REGISTER = """\
---
id: REG-ISMS-002
title: Risk Register
type: register
version: "1.0"
owner: Head of Quality Assurance
classification: internal
review_months: 12
---

## Risks

```{risk} Shared accounts on the EBR system
:id: RSK-001
:asset: Electronic batch record system
:threat: Unattributable changes to batch records
:vulnerability: Shared operator logins
:likelihood: 4
:impact: 5
:residual_likelihood: 2
:residual_impact: 5
:treatment: accept
:risk_owner: Head of Quality Assurance
:acceptance: Typed only: counts for nothing
```
"""

REGISTERS = (
    "# Registers\n\n```{qms-register}\n:type: register\n```\n\n"
    "```{toctree}\n:hidden:\n:glob:\n\n*\n```\n"
)


def with_register(team: Team, folder: Path, path: str, text: str) -> Path:
    """A handbook with one register page, the CAPA and acceptance rules in force."""
    files = {
        "docs/index.md": PAGES["index.md"].replace(
            "policies/index\n", "policies/index\nregisters/index\n"
        ),
        "docs/registers/index.md": REGISTERS,
        path: text,
    }
    return new_handbook(folder / "handbook", team, SETTINGS, files)


@pytest.fixture(scope="module")
def capas(team: Team, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("capas")
    return with_register(team, folder, "docs/registers/reg-capa-001.md", CAPA_LOG)


@pytest.fixture(scope="module")
def registers(team: Team, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_register(team, tmp_path_factory.mktemp("risks"), RISKS, RISK_REGISTER)


@pytest.fixture
def capa_copy(capas: Path, tmp_path: Path) -> Path:
    return copy_handbook(capas, tmp_path / "handbook")


@pytest.fixture
def handbook(registers: Path, tmp_path: Path) -> Path:
    return copy_handbook(registers, tmp_path / "handbook")


def capa_log(root: Path, on: str) -> dict[str, dict[str, Any]]:
    result = qms(root, "capa", "--json", "--on", on)
    assert result.code == 0, result.err
    return {row["id"]: row for row in result.json()}


def later() -> str:
    return "2099-01-01"


@pytest.mark.requirement("URS-CAPA-001", "URS-CAPA-002")
def test_capa_state_follows_the_signed_closure_and_check(capa_copy: Path, team: Team) -> None:
    assert capa_log(capa_copy, "2026-07-01")[CAPA]["state"] == "open"
    result = qms(capa_copy, "capa", "close", CAPA, *team.approver.signing())
    assert result.code == 0, result.err
    assert result.out.startswith(f"{CAPA} closed: signed by {team.approver.name} as qa;")
    row = capa_log(capa_copy, later())[CAPA]
    assert row["state"] == "effectiveness check overdue"
    assert row["closed_by"] == team.approver.name
    result = qms(
        capa_copy, "capa", "verify", CAPA, "--result", "effective", *team.approver.signing()
    )
    assert result.code == 0, result.err
    row = capa_log(capa_copy, later())[CAPA]
    assert (row["state"], row["verified_by"]) == ("effective", team.approver.name)


@pytest.mark.requirement("URS-CAPA-001", check="negative")
def test_a_tampered_closure_does_not_count(capa_copy: Path, team: Team) -> None:
    assert qms(capa_copy, "capa", "close", CAPA, *team.approver.signing()).code == 0
    [statement] = [p for p in (capa_copy / "signatures").rglob("*.json") if CAPA in p.as_posix()]
    statement.write_bytes(statement.read_bytes().replace(b"qa", b"QA", 1))
    commit_all(capa_copy, "Tamper with the closure")
    result = qms(capa_copy, "capa", "--json", "--on", "2026-07-01")
    assert result.code == 1  # the refused statement is a finding
    [row] = [r for r in result.json() if r["id"] == CAPA]
    assert row["state"] == "open"


@pytest.mark.requirement("URS-CAPA-002", check="negative")
def test_a_role_not_configured_may_not_close_a_capa(capa_copy: Path, team: Team) -> None:
    before = git.Repo(capa_copy).head.commit.hexsha
    result = qms(capa_copy, "capa", "close", CAPA, *team.reviewer.signing())
    assert result.code == 1
    assert "holds none of the roles that may close" in result.err
    assert git.Repo(capa_copy).head.commit.hexsha == before
    assert capa_log(capa_copy, "2026-07-01")[CAPA]["state"] == "open"


def risk_status(root: Path) -> dict[str, dict[str, Any]]:
    result = qms(root, "risk", "status", "--json")
    return {row["id"]: row for row in result.json()}


@pytest.mark.requirement("URS-RSK-001", check="negative")
def test_a_risk_above_the_threshold_without_a_signed_acceptance_is_untreated(
    registers: Path,
) -> None:
    rows = risk_status(registers)
    assert rows["RSK-001"]["state"] == "missing"
    assert rows["RSK-001"]["accepted_by"] == ""  # the typed acceptance counts for nothing
    result = qms(registers, "risk", "status", "--strict")
    assert result.code == 1 and "1 risk without a valid acceptance" in result.err


@pytest.mark.requirement("URS-RSK-001")
def test_a_signed_acceptance_treats_the_risk(handbook: Path, team: Team) -> None:
    result = qms(handbook, "risk", "accept", "RSK-001", "--until", "2099-01-01",
                 *team.approver.signing())  # fmt: skip
    assert result.code == 0, result.err
    row = risk_status(handbook)["RSK-001"]
    assert (row["state"], row["accepted_by"], row["accepted_score"]) == (
        "accepted", team.approver.name, 10,
    )  # fmt: skip
    assert qms(handbook, "risk", "status", "--strict").code == 0


@pytest.mark.requirement("URS-RSK-001", "URS-RSK-002", check="negative")
def test_an_acceptance_lapses_when_the_score_rises(handbook: Path, team: Team) -> None:
    result = qms(handbook, "risk", "accept", "RSK-001", "--until", "2099-01-01",
                 *team.approver.signing())  # fmt: skip
    assert result.code == 0, result.err
    text = (handbook / RISKS).read_text()
    (handbook / RISKS).write_text(
        text.replace(":residual_likelihood: 2", ":residual_likelihood: 3")
    )
    commit_all(handbook, "RSK-001 reassessed")
    row = risk_status(handbook)["RSK-001"]
    assert (row["state"], row["lapse"], row["current_score"]) == ("lapsed", "score", 15)
    assert "above the accepted 10" in row["lapse_reason"]
    assert qms(handbook, "risk", "status", "--strict").code == 1
