"""Change control: items downstream of a changed item are suspect until assessed; change
request states follow the versions naming them."""

from __future__ import annotations

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
    edit,
    new_handbook,
    qms,
)
from qms.oq.people import Team

SOP = "SOP-ACC-001"
CONTROLS = "docs/registers/reg-isms-001.md"
CHANGE = "CC-2026-0301"

CONTROL_REGISTER = """\
---
id: REG-ISMS-001
title: Controls
type: register
version: "1.0"
owner: ISMS Manager
classification: internal
review_months: 12
---

## Controls

```{control} Role-based access to GxP systems
:id: CTL-5-15
:applicable: yes
:justification: GxP systems hold regulated records.
:implementation: implemented
```
"""

CHANGE_LOG = """\
---
id: REG-CC-001
title: Change Control Log
type: register
version: "1.0"
owner: Head of Quality Assurance
classification: internal
review_months: 12
---

## Change requests

```{change} Need to know added to access control
:id: CC-2026-0301
:requester: IT Operations Lead
:owner: Head of Quality Assurance
:affects: POL-ACC-001
```
"""

PROCEDURE = """\
---
id: SOP-ACC-001
title: User Access Management
type: procedure
version: "1.0"
owner: IT Operations Lead
classification: internal
review_months: 24
---

## Access reviews

```{procedure} Quarterly access review
:id: PRC-ACC-01
:implements: CTL-5-15
```

Each quarter the system owner reviews accounts.
"""


def index(kind: str) -> str:
    return (
        f"# {kind.title()}\n\n```{{qms-register}}\n:type: {kind}\n```\n\n"
        "```{toctree}\n:hidden:\n:glob:\n\n*\n```\n"
    )


@pytest.fixture(scope="module")
def controlled(team: Team, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A handbook with a control, a procedure implementing it and a change request."""
    files = {
        "docs/index.md": PAGES["index.md"].replace(
            "policies/index\n", "policies/index\nprocedures/index\nregisters/index\n"
        ),
        "docs/procedures/index.md": index("procedure"),
        "docs/registers/index.md": index("register"),
        CONTROLS: CONTROL_REGISTER,
        "docs/registers/reg-cc-001.md": CHANGE_LOG,
        "docs/procedures/sop-acc-001.md": PROCEDURE,
    }
    root = new_handbook(tmp_path_factory.mktemp("changes") / "handbook", team, files=files)
    approve_fully(root, team, SOP)
    return root


@pytest.fixture
def handbook(controlled: Path, tmp_path: Path) -> Path:
    return copy_handbook(controlled, tmp_path / "handbook")


def impact(root: Path) -> tuple[int, dict[str, Any]]:
    result = qms(root, "impact", "--json", "--strict")
    return result.code, result.json()


def links(report: dict[str, Any], key: str) -> set[tuple[str, str]]:
    return {(row["item"], row["upstream"]) for row in report[key]}


@pytest.mark.requirement("URS-CHG-001")
def test_a_changed_control_makes_its_procedure_suspect_until_assessed(
    handbook: Path, team: Team
) -> None:
    code, report = impact(handbook)
    assert code == 0 and report["suspect"] == []
    edit(handbook, "GxP systems hold", "GxP and clinical systems hold", CONTROLS)
    code, report = impact(handbook)
    assert code == 1
    assert links(report, "suspect") == {("PRC-ACC-01", "CTL-5-15")}
    assess = ("impact", "assess", "PRC-ACC-01", "CTL-5-15", "--decision", "no-change")
    result = qms(handbook, *assess, "--reason", "x", *team.author.signing())
    assert result.code != 0 and "may not assess" in result.err
    result = qms(handbook, *assess, "--ref", CHANGE,
                 "--reason", "the review steps cover clinical systems already",
                 *team.reviewer.signing())  # fmt: skip
    assert result.code == 0, result.err
    code, report = impact(handbook)
    assert code == 0
    assert links(report, "cleared") == {("PRC-ACC-01", "CTL-5-15")}
    assert report["suspect"] == []


@pytest.mark.requirement("URS-CHG-002")
def test_a_change_request_is_implemented_when_the_version_naming_it_is_approved(
    handbook: Path, team: Team
) -> None:
    def states() -> dict[str, str]:
        result = qms(handbook, "change", "--json")
        assert result.code == 0, result.err
        return {row["id"]: row["state"] for row in result.json()}

    assert states()[CHANGE] == "requested"
    edit(handbook, "least privilege", "least privilege and need to know", commit=False)
    bumped = qms(handbook, "bump", DOC, "--reason", f"{CHANGE}: need to know added")
    assert bumped.code == 0, bumped.err
    commit_all(handbook, "POL-ACC-001 1.1")
    assert states()[CHANGE] == "in progress"
    approve_fully(handbook, team)
    assert states()[CHANGE] == "implemented"


@pytest.mark.requirement("URS-CHG-002", check="negative")
def test_a_reason_naming_an_unknown_change_request_is_refused(handbook: Path) -> None:
    before = (handbook / DOC_PATH).read_text()
    head = git.Repo(handbook).head.commit.hexsha
    result = qms(handbook, "bump", DOC, "--reason", "CC-2026-0999: need to know")
    assert result.code == 2
    assert "names CC-2026-0999, which is no CAPA or change request" in result.err
    assert (handbook / DOC_PATH).read_text() == before
    assert git.Repo(handbook).head.commit.hexsha == head
