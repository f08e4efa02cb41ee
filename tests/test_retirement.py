"""Retirement (issue 17) end to end: signed like an approval, RETIRED derived, out of releases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.keys import Person
from tests.release_repo import make_release_repo
from tests.signing_repo import Team, commit_all, run, team

__all__ = ["team"]

DOC = "POL-ACC-001"
REASON = "Merged into POL-ISMS-001 2.0"


@pytest.fixture
def repo(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    return make_release_repo(tmp_path, team, capsys)


def retire(
    capsys: pytest.CaptureFixture[str], root: Path, person: Person, meaning: str, *reason: str
) -> tuple[int, str, str]:
    return run(
        capsys, "--root", str(root), "retire", DOC, "--meaning", meaning, *reason,
        "--key", person.fingerprint, "--gnupghome", str(person.home), "--yes",
    )  # fmt: skip


def retire_fully(capsys: pytest.CaptureFixture[str], root: Path, team: Team) -> None:
    """Author, reviewer and approver sign the retirement of DOC, in that order."""
    for person, meaning in ((team.author, "authored"), (team.reviewer, "reviewed"),
                            (team.approver, "approved")):  # fmt: skip
        assert retire(capsys, root, person, meaning, "--reason", REASON)[0] == 0


def status(capsys: pytest.CaptureFixture[str], root: Path) -> str:
    code, out, err = run(capsys, "--root", str(root), "verify", "--json", DOC)
    assert code == 0, err
    return str(next(d["status"] for d in json.loads(out)["documents"] if d["id"] == DOC))


def test_a_retirement_follows_the_approval_rules_and_derives_retired(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = retire(capsys, repo, team.author, "authored")
    assert code == 1 and "needs a reason" in err  # nothing written
    assert not (repo / "signatures/retirements").exists()
    code, out, err = retire(capsys, repo, team.author, "authored", "--reason", REASON)
    assert code == 0 and "retirement authored" in out and REASON in out, err
    assert status(capsys, repo) == "effective"  # a request alone withdraws nothing
    code, _, err = retire(capsys, repo, team.approver, "approved")
    assert code == 1 and "approved before it was reviewed" in err
    code, _, err = retire(capsys, repo, team.reviewer, "reviewed", "--reason", "another")
    assert code == 1 and "another reason" in err
    assert retire(capsys, repo, team.reviewer, "reviewed")[0] == 0  # takes the request's reason
    assert retire(capsys, repo, team.approver, "approved")[0] == 0
    assert status(capsys, repo) == "retired"
    author = ("--key", team.author.fingerprint, "--gnupghome", str(team.author.home), "--yes")
    code, _, err = run(
        capsys, "--root", str(repo), "approve", DOC, "--meaning", "authored", *author
    )
    assert code == 1 and "is retired" in err
    # It leaves every new release: no earlier version stands in for it.
    code, _, err = run(capsys, "--root", str(repo), "release", "create", "R1", "--set", "policies")
    assert f"left out {DOC}" in err and "is retired" in err


def test_an_edit_after_retirement_undoes_nothing_silently(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    retire_fully(capsys, repo, team)
    path = repo / "docs/policies/pol-acc-001.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nA later line.\n", encoding="utf-8")
    commit_all(repo, "Edit a retired policy")
    code, out, _ = run(capsys, "--root", str(repo), "verify", "--json", DOC)
    report = json.loads(out)
    assert code == 1 and next(d["status"] for d in report["documents"]) == "not approved"
    assert "retirement: content changed after it was signed" in out


def test_a_draft_is_not_retired_it_is_deleted(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--root", str(repo), "retire", "SOP-BCK-001", "--meaning",
                       "authored", "--reason", REASON, "--key", team.author.fingerprint,
                       "--gnupghome", str(team.author.home), "--yes")  # fmt: skip
    assert code == 1 and "is not approved" in err and "deleting its file" in err


CONTROL = """
```{control} Role-based access to GxP systems
:id: CTL-ACC-001
:applicable: yes
:justification: GxP systems hold regulated records
:implementation: implemented
```
"""
PROCEDURE = """
```{procedure} Quarterly review of backup operator access
:id: PRC-BCK-001
:implements: CTL-ACC-001
```
"""


def _linked(root: Path) -> None:
    """POL-ACC-001 holds a control that SOP-BCK-001 implements; retired policies are kept
    ten years, procedures seven."""
    for path, text in (("docs/policies/pol-acc-001.md", CONTROL),
                       ("docs/procedures/sop-bck-001.md", PROCEDURE)):  # fmt: skip
        file = root / path
        file.write_text(file.read_text(encoding="utf-8") + text, encoding="utf-8")
    with (root / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[tool.qms.retention]\ndefault = 7\npolicy = 10\n")


def test_a_retired_document_leaves_navigation_and_register_but_stays_readable(
    tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    from qms.config import load_config
    from qms.services.sphinx_run import run_sphinx

    repo = make_release_repo(tmp_path, team, capsys, _linked)
    retire_fully(capsys, repo, team)
    code, out, err = run(capsys, "--root", str(repo), "verify", "--json", DOC)
    assert code == 0, err
    retirement = json.loads(out)["documents"][0]["retirement"]
    assert retirement["reason"] == REASON and len(retirement["signatures"]) == 3
    # It takes effect with the last signature, and a policy is kept ten years from then.
    assert retirement["at"] == max(s["signed_at"] for s in retirement["signatures"])
    retired_on = retirement["at"][:10]
    kept_until = f"{int(retired_on[:4]) + 10}{retired_on[4:]}"
    assert retirement["keep_until"] == kept_until

    site = run_sphinx(load_config(repo), "html", tmp_path / "site", fresh=True, progress=None)
    # A live link into the retired policy is a finding at the linking item's line.
    procedure = (repo / "docs/procedures/sop-bck-001.md").read_text(encoding="utf-8")
    line = (
        procedure.splitlines().index("```{procedure} Quarterly review of backup operator access")
        + 1
    )
    [finding] = [f for f in site.findings if f.code == "qms.retired-link"]
    assert finding.path.endswith("sop-bck-001.md") and finding.line == line
    assert f"an item of {DOC}, which was retired on {retired_on}" in finding.message

    register = (site.outdir / "register.html").read_text(encoding="utf-8")
    current, _, out_of_force = register.partition('<p class="rubric">Superseded and withdrawn')
    assert DOC not in current and "POL-CRY-001" in current
    row = next(r for r in out_of_force.split("<tr")[1:] if DOC in r)
    assert 'href="policies/pol-acc-001.html"' in row and f"<p>{retired_on}</p>" in row
    assert f"retired: {REASON}; keep until {kept_until}" in row
    # The sidebar's list of policies leaves it out; its page stays, as an archive copy.
    nav = (site.outdir / "_static/qms-nav-policy.js").read_text(encoding="utf-8")
    assert "POL-CRY-001" in nav and DOC not in nav
    page = (site.outdir / "policies/pol-acc-001.html").read_text(encoding="utf-8")
    assert "RETIRED: withdrawn from use" in page and "Retirement signatures" in page
    assert f"<p>{kept_until}</p>" in page and "<p>none, retired</p>" in page
    assert REASON in page


def test_a_retired_document_is_due_for_no_periodic_review(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    def listed() -> set[str]:
        code, out, err = run(capsys, "--root", str(repo), "reviews", "--within", "3650", "--json")
        assert code == 0, err
        return {review["id"] for review in json.loads(out)["reviews"]}

    assert DOC in listed()
    for person, meaning in ((team.author, "authored"), (team.reviewer, "reviewed")):
        assert retire(capsys, repo, person, meaning, "--reason", REASON)[0] == 0
    assert DOC in listed()  # not retired until the approver signs
    assert retire(capsys, repo, team.approver, "approved")[0] == 0
    assert DOC not in listed()


def test_a_retired_id_is_not_given_to_a_new_version(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    retire_fully(capsys, repo, team)
    path = repo / "docs/policies/pol-acc-001.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nA new policy.\n", encoding="utf-8")
    assert run(capsys, "--root", str(repo), "bump", DOC, "--major", "--reason", "Reuse")[0] == 0
    commit_all(repo, "A new policy under a retired id")
    code, out, _ = run(capsys, "--root", str(repo), "verify", "--json", DOC)
    findings = [f["message"] for f in json.loads(out)["documents"][0]["findings"]]
    assert code == 1
    assert any("was retired in version 2.0" in f and "next free id" in f for f in findings)
    # Nor can the new version be approved.
    author = ("--key", team.author.fingerprint, "--gnupghome", str(team.author.home), "--yes")
    code, _, err = run(
        capsys, "--root", str(repo), "approve", DOC, "--meaning", "authored", *author
    )
    assert code == 1 and "was retired in version 2.0" in err
