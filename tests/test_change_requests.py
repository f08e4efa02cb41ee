"""Change requests end to end: bump checks the ids a reason names, states follow approvals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qms.config import load_config
from qms.errors import ConfigError
from qms.model.change_requests import (
    ChangeState,
    DocumentVersion,
    VersionNaming,
    derive_change_state,
    namings,
    referenced_ids,
)
from qms.model.document import Version
from qms.model.traceability import Need
from qms.services.change_requests import change_log
from tests.conftest import ROOTS
from tests.signing_repo import Team, as_, commit_all, make_signing_repo, qms, team

__all__ = ["team"]

CHANGES = """\
---
id: REG-CC-001
title: Change Control Log
type: register
version: "1.0"
owner: Head of Quality Assurance
classification: internal
review_months: 12
---

## Log

```{qms-change-log}
```

## Change requests

```{change} Quarterly access review reminders
:id: CC-2026-0301
:requester: IT Operations Lead
:owner: Head of Quality Assurance
:affects: SOP-ACC-001
```

```{change} CAPA log columns
:id: CC-2026-0302
:requester: Head of Quality Assurance
:owner: Head of Quality Assurance
:affects: REG-CAPA-001
```
"""
SOP = "docs/procedures.md"


@pytest.fixture
def repo(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    root = make_signing_repo(tmp_path, team, capsys, ROOTS / "test-capa")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'organisation = "Test Pharma"\n',
            'organisation = "Test Pharma"\nsite_pages = ["index", "frameworks/*", "matrix"]\n',
        )
    )
    (root / "docs" / "changes.md").write_text(CHANGES)
    (root / "docs" / "index.md").write_text(
        (root / "docs" / "index.md").read_text().replace("capa\n", "capa\nchanges\n")
    )
    commit_all(root, "A change control log")
    return root


def need(affects: str) -> Need:
    return Need("CC-2026-0301", "change", "Reminders", "changes", 1, (("affects", affects),))


def naming(document_id: str, approved: bool, current: bool = True) -> VersionNaming:
    return VersionNaming(
        document_id, Version(1, 1), approved, current, Version(1, 1) if approved else None
    )


def test_a_reason_names_capa_and_change_request_ids_not_the_tails_of_other_ids() -> None:
    reason = "CC-2026-0229: owners sign (EQMS-CAPA-7, CAPA-2026-0031, XCC-1, CC-2026-0229)"
    assert referenced_ids(reason) == ("CC-2026-0229", "CAPA-2026-0031")
    assert referenced_ids("Editorial: wording") == ()


def test_a_change_is_implemented_only_when_every_affected_document_has_an_approved_version() -> (
    None
):
    change = need("SOP-ACC-001, POL-ISMS-001")
    assert derive_change_state(change, ()) is ChangeState.REQUESTED
    assert derive_change_state(change, [naming("SOP-ACC-001", True)]) is ChangeState.IN_PROGRESS
    both = [naming("SOP-ACC-001", True), naming("POL-ISMS-001", True)]
    assert derive_change_state(change, both) is ChangeState.IMPLEMENTED
    # A new version naming it again, not yet approved, reopens it.
    again = [*both, VersionNaming("SOP-ACC-001", Version(1, 2), False, True)]
    assert derive_change_state(change, again) is ChangeState.IN_PROGRESS


def test_a_version_replaced_before_its_approval_is_carried_by_the_next_approved_one() -> None:
    versions = [
        DocumentVersion("PLN-ISMS-002", Version(2, 0), "CC-2026-0216: actions", False, False),
        DocumentVersion("PLN-ISMS-002", Version(2, 1), "CC-2026-0229: owners", True, True),
        DocumentVersion("SOP-ACC-001", Version(1, 3), "CC-2026-0216: reviews", False, True),
    ]
    named = namings(versions)
    plan, sop = named["CC-2026-0216"]
    assert (plan.label, plan.status) == ("PLN-ISMS-002 2.0", "approved in 2.1")
    assert (sop.label, sop.status) == ("SOP-ACC-001 1.3", "not approved")
    change = Need("CC-2026-0216", "change", "Risks", "changes", 1,
                  (("affects", "PLN-ISMS-002"),))  # fmt: skip
    assert derive_change_state(change, [plan]) is ChangeState.IMPLEMENTED
    assert derive_change_state(change, [plan, sop]) is ChangeState.IN_PROGRESS
    assert [n.status for n in named["CC-2026-0229"]] == ["approved"]


def test_bump_refuses_an_unknown_id_and_writes_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = repo / SOP
    before = path.read_text()
    code, _, err = qms(capsys, repo, "bump", "SOP-ACC-001", "--reason", "CC-2026-0999: reminders")
    assert code == 2
    assert err.count("\n") == 1
    assert "the reason names CC-2026-0999, which is no CAPA or change request" in err
    assert "(REG-CAPA-001, REG-CC-001)" in err
    assert path.read_text() == before
    # A reason without an id is allowed, unless the configuration requires one.
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'organisation = "Test Pharma"\n',
            'organisation = "Test Pharma"\nchange_reference = "required"\n',
        )
    )
    code, _, err = qms(capsys, repo, "bump", "SOP-ACC-001", "--reason", "reminders")
    assert code == 2 and "names no CAPA or change request" in err
    assert path.read_text() == before
    code, out, err = qms(capsys, repo, "bump", "SOP-ACC-001", "--reason", "CC-2026-0301: reminders")
    assert code == 0, err
    assert out == "SOP-ACC-001: version 1.0 -> 1.1\n"
    assert 'change_reason: "CC-2026-0301: reminders"' in path.read_text()


def test_the_state_follows_the_approvals_of_the_versions_naming_it(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(repo)
    states = {row.need.id: row for row in change_log(config, now=datetime.now(tz=UTC))}
    assert states["CC-2026-0301"].state is ChangeState.REQUESTED
    reason = "CC-2026-0301: reminders, as CAPA-2026-0031 asks"
    code, _, err = qms(capsys, repo, "bump", "SOP-ACC-001", "--reason", reason)
    assert code == 0, err
    commit_all(repo, "SOP-ACC-001 1.1")
    states = {row.need.id: row for row in change_log(config, now=datetime.now(tz=UTC))}
    row = states["CC-2026-0301"]
    assert row.state is ChangeState.IN_PROGRESS
    assert [(n.label, n.approved) for n in row.named_by] == [("SOP-ACC-001 1.1", False)]
    for meaning, person in (
        ("authored", team.author), ("reviewed", team.reviewer), ("approved", team.approver),
    ):  # fmt: skip
        code, _, err = qms(capsys, repo, "approve", "SOP-ACC-001", "--meaning", meaning,
                           *as_(person))  # fmt: skip
        assert code == 0, err
    code, out, err = qms(capsys, repo, "change", "--json")
    assert code == 0, err
    listed = {row["id"]: row for row in json.loads(out)}
    assert listed["CC-2026-0301"]["state"] == "implemented"
    assert listed["CC-2026-0301"]["versions"] == [
        {"document": "SOP-ACC-001", "version": "1.1", "approved": True, "carried_by": "1.1"}
    ]
    assert listed["CC-2026-0302"]["state"] == "requested"
    # The site shows the same: the log links the approved version, the state beside it.
    code, out, err = qms(capsys, repo, "build", "--fresh", "--out", str(repo / "site"))
    assert code == 0, out + err
    page = (repo / "site" / "changes.html").read_text()
    assert "SOP-ACC-001 1.1</span></code></a> (approved)" in page
    assert "implemented</span>" in page and "requested</span>" in page
    assert "2 change requests; 1 implemented." in page
    # The CAPA the reason names links the same version from the CAPA log.
    capa = (repo / "site" / "capa.html").read_text()
    assert "<p>Document versions</p>" in capa
    assert capa.count("SOP-ACC-001 1.1</span></code></a> (approved)") == 1


def test_a_reason_naming_an_unknown_id_is_a_warning_at_its_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = repo / SOP
    text = path.read_text().replace(
        "review_months: 24\n",
        'review_months: 24\nchange_reason: "CC-2026-0998 and CC-2026-0302: reminders"\n',
    )
    path.write_text(text)
    line = text.split("\n").index('change_reason: "CC-2026-0998 and CC-2026-0302: reminders"') + 1
    commit_all(repo, "A reason naming a change nobody registered")
    code, out, err = qms(capsys, repo, "build", "--fresh", "--out", str(repo / "site"))
    assert code == 1
    found = out + err
    assert f"{SOP}:{line}" in found
    assert "change_reason names CC-2026-0998, which is no CAPA or change request" in found
    assert "change_reason names CC-2026-0302, whose affects does not list SOP-ACC-001" in found


def test_change_reference_is_optional_or_required(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.qms]\nchange_reference = "sometimes"\n')
    with pytest.raises(ConfigError, match="change_reference has 'sometimes'; allowed"):
        load_config(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.qms]\nchange_reference = "required"\n')
    assert load_config(tmp_path).change_reference == "required"
    (tmp_path / "pyproject.toml").write_text("[tool.qms]\n")
    assert load_config(tmp_path).change_reference == "optional"
