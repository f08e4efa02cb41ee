"""Change impact end to end: a control edited makes its procedure's link suspect, an
assessment clears it, a new edit makes it suspect again; on real git and gpg."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git
import pytest

from qms.adapters.gpg import UserKeys
from qms.config import load_config
from qms.model.approval import Meaning, Statement
from qms.model.ceremony import DEFAULT_WORDING
from qms.model.fingerprints import fingerprint
from qms.model.need_source import parse_items
from qms.services.content import document_content
from qms.services.handbook import load_handbook, select
from qms.services.layout import SignatureLayout
from tests.conftest import ROOTS
from tests.keys import Person
from tests.signing_repo import Team, commit_all, make_signing_repo, run, team

__all__ = ["team"]  # the session fixture, re-exported for pytest

SITE = 'site_pages = ["index", "frameworks/*", "matrix"]\n'
SOA = "docs/soa.md"
PROCEDURES = "docs/procedures.md"
DOC = "SOP-ACC-001"
JUSTIFICATION = ":justification: GxP systems hold regulated records."


def qms(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, str, str]:
    code, out, err = run(capsys, "--root", str(root), *argv)
    assert "Traceback" not in err
    return code, out, err


def as_(person: Person) -> tuple[str, ...]:
    return ("--key", person.fingerprint, "--gnupghome", str(person.home), "--yes")


def approve_all(capsys: pytest.CaptureFixture[str], root: Path, team: Team, doc: str) -> None:
    for meaning, person in (
        ("authored", team.author),
        ("reviewed", team.reviewer),
        ("approved", team.approver),
    ):
        code, _, err = qms(capsys, root, "approve", doc, "--meaning", meaning, *as_(person))
        assert code == 0, err


def edit(root: Path, path: str, old: str, new: str, message: str) -> None:
    text = (root / path).read_text()
    assert old in text
    (root / path).write_text(text.replace(old, new, 1))
    commit_all(root, message)


def impact(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, dict[str, Any]]:
    code, out, _ = qms(capsys, root, "impact", "--json", "--strict")
    return code, json.loads(out)


def links(report: dict[str, Any], key: str) -> set[tuple[str, str]]:
    return {(row["item"], row["upstream"]) for row in report[key]}


@pytest.fixture
def repo(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    root = make_signing_repo(tmp_path, team, capsys, ROOTS / "test-traceability")
    text = (root / "pyproject.toml").read_text()
    head, rest = text.split("\n", 1)
    (root / "pyproject.toml").write_text(f"{head}\n{SITE}{rest}")
    commit_all(root, "Site pages")
    return root


def control_fingerprint(root: Path, item_id: str) -> str:
    [item] = [i for i in parse_items(SOA, (root / SOA).read_text()) if i.id == item_id]
    return fingerprint(item)


def test_edit_suspect_assess_clear_edit_suspect_again_then_reapproval_clears(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    approve_all(capsys, repo, team, DOC)
    [statement] = (repo / "signatures/approvals" / DOC / "1.0").glob("approved--*.json")
    data = json.loads(statement.read_text())
    # The approval records the fingerprint of every control the document's items implement
    # or demonstrate, as the commit it names held them.
    assert data["schema"] == "qms-approval/4"  # /3 with the wording
    recorded = {entry["item"]: entry["fingerprint"] for entry in data["upstream"]}
    assert recorded == {
        "CTL-5-15": control_fingerprint(repo, "CTL-5-15"),
        "CTL-8-13": control_fingerprint(repo, "CTL-8-13"),
    }
    code, report = impact(capsys, repo)
    assert code == 0 and report["suspect"] == [] and report["notes"] == []

    # Whitespace only: re-wrapped, spaces doubled, trailing blanks. Not suspect.
    edit(repo, SOA, JUSTIFICATION,
         ":justification:   GxP systems  hold\tregulated records.   ", "Whitespace")  # fmt: skip
    code, report = impact(capsys, repo)
    assert code == 0 and report["suspect"] == []

    # A content edit of CTL-5-15: both items of the SOP that link to it become suspect.
    edit(repo, SOA, "GxP systems  hold", "GxP and clinical systems  hold", "Widen CTL-5-15")
    code, report = impact(capsys, repo)
    assert code == 1
    assert links(report, "suspect") == {("PRC-ACC-01", "CTL-5-15"), ("EVD-ACC-01", "CTL-5-15")}
    [row] = [r for r in report["suspect"] if r["item"] == "PRC-ACC-01"]
    assert row["recorded_fingerprint"] == recorded["CTL-5-15"]
    assert row["current_fingerprint"] == control_fingerprint(repo, "CTL-5-15")
    assert (row["document"], row["approved_version"], row["recorded_from"]) == (
        DOC, "1.0", "statement"
    )  # fmt: skip
    assert row["path"] == PROCEDURES and row["line"] > 1

    # An author may not assess; a reviewer may. A change decision needs its reference.
    assess = ("impact", "assess", "PRC-ACC-01", "CTL-5-15")
    code, _, err = qms(capsys, repo, *assess, "--decision", "no-change", "--reason", "x",
                       *as_(team.author))  # fmt: skip
    assert code != 0 and "may not assess" in err
    code, _, err = qms(capsys, repo, *assess, "--decision", "change", "--reason", "x",
                       *as_(team.reviewer))  # fmt: skip
    assert code != 0 and "--ref" in err
    code, out, err = qms(capsys, repo, *assess, "--decision", "no-change", "--ref", "CC-1",
                         "--reason", "the review steps cover clinical systems already",
                         *as_(team.reviewer))  # fmt: skip
    assert code == 0, err
    assert out.startswith("assessed: PRC-ACC-01 → CTL-5-15 (SOP-ACC-001): no-change by Marco")
    assert not git.Repo(repo).is_dirty(untracked_files=True)
    [filed] = (repo / "signatures/impact" / DOC).glob("*.json")
    signed = json.loads(filed.read_text())
    assert signed["wording"] == DEFAULT_WORDING["impact"]
    assert signed["schema"] == "qms-impact/1"
    assert (signed["recorded_fingerprint"], signed["assessed_fingerprint"]) == (
        recorded["CTL-5-15"], control_fingerprint(repo, "CTL-5-15")
    )  # fmt: skip
    code, report = impact(capsys, repo)
    assert code == 1  # the evidence item's link is still open
    assert links(report, "suspect") == {("EVD-ACC-01", "CTL-5-15")}
    assert links(report, "cleared") == {("PRC-ACC-01", "CTL-5-15")}
    [cleared] = report["cleared"]
    assert cleared["assessment"]["by"] == team.reviewer.name
    # Assessing a link that is not suspect is refused.
    code, _, err = qms(capsys, repo, *assess, "--decision", "no-change", "--reason", "again",
                       *as_(team.second_reviewer))  # fmt: skip
    assert code != 0 and "cleared, not suspect" in err

    # A new edit of the control: the assessment bound the old fingerprint, so the link is
    # suspect again.
    edit(repo, SOA, ":implementation: implemented\n:implements: ISO27001-A-5-15",
         ":implementation: partial\n:implements: ISO27001-A-5-15", "CTL-5-15 partial")  # fmt: skip
    code, report = impact(capsys, repo)
    assert code == 1
    assert links(report, "suspect") == {("PRC-ACC-01", "CTL-5-15"), ("EVD-ACC-01", "CTL-5-15")}
    assert report["cleared"] == []

    # A tampered assessment does not count, and is named.
    filed.write_text(filed.read_text().replace("already", "alreadx"))
    code, _, err = qms(capsys, repo, "impact")
    assert code == 1 and "impact" in err and filed.name in err
    git.Repo(repo).git.checkout("--", ".")

    # Approving the document again records the current fingerprints: nothing suspect.
    edit(repo, PROCEDURES, 'version: "1.0"', 'version: "1.1"\nchange_reason: CTL-5-15 widened',
         "SOP-ACC-001 1.1")  # fmt: skip
    approve_all(capsys, repo, team, DOC)
    code, report = impact(capsys, repo)
    assert code == 0 and report["suspect"] == [] and report["cleared"] == []


def sign_v2(root: Path, person: Person, meaning: Meaning, role: str) -> None:
    """Sign DOC as qms-approval/2 did: a commit, and no upstream fingerprints."""
    config = load_config(root)
    [document] = select(load_handbook(config).documents, [DOC])
    content = document_content(config, document)
    statement = Statement(
        document_id=document.id,
        version=str(document.version),
        content_sha256=content.sha256,
        includes=content.includes,
        meaning=meaning,
        signer_name=person.name,
        signer_fingerprint=person.fingerprint,
        role=role,
        signed_at=datetime.now(tz=UTC).replace(microsecond=0),
        commit=git.Repo(root).head.commit.hexsha,
    )
    data = statement.to_bytes()
    assert json.loads(data)["schema"] == "qms-approval/2"
    signature, _ = UserKeys(person.home).sign_detached(data, person.fingerprint)
    path = SignatureLayout.of(config).statement_file(statement)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    SignatureLayout.signature_of(path).write_bytes(signature)
    commit_all(root, f"Approve {DOC}: {meaning} (qms-approval/2)")


def test_an_approval_before_version_3_is_judged_from_git_at_its_commit(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    for meaning, person, role in (
        (Meaning.AUTHORED, team.author, "author"),
        (Meaning.REVIEWED, team.reviewer, "reviewer"),
        (Meaning.APPROVED, team.approver, "qa"),
    ):
        sign_v2(repo, person, meaning, role)
    code, _, err = qms(capsys, repo, "verify", DOC)
    assert code == 0, err
    code, report = impact(capsys, repo)
    assert code == 0 and report["suspect"] == []
    [note] = [n for n in report["notes"] if n.startswith(DOC)]
    assert "records no fingerprints" in note and "computed from git at commit" in note

    edit(repo, SOA, "Nightly backups with quarterly restore tests",
         "Nightly backups with monthly restore tests", "CTL-8-13 monthly")  # fmt: skip
    code, report = impact(capsys, repo)
    assert code == 1
    assert links(report, "suspect") == {("PRC-BCK-01", "CTL-8-13")}
    assert report["suspect"][0]["recorded_from"] == "git"
    code, out, err = qms(capsys, repo, "impact")
    assert code == 0 and "PRC-BCK-01" in out and "1 suspect link" in err


def test_the_site_notes_suspect_and_assessed_links_without_a_warning(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    approve_all(capsys, repo, team, DOC)
    edit(repo, SOA, "GxP systems hold", "GxP and clinical systems hold", "Widen CTL-5-15")
    code, out, err = qms(capsys, repo, "build", "--fresh")
    assert code == 0, out + err
    html = (repo / "_build/html/procedures.html").read_text()
    assert html.count("qms-impact qms-suspect") == 2 and "qms-assessed" not in html
    # The assessment changes no source: the next, incremental build rewrites the page.
    code, _, err = qms(capsys, repo, "impact", "assess", "PRC-ACC-01", "CTL-5-15",
                       "--decision", "change", "--ref", "CC-2027-0004",
                       "--reason", "clinical systems join the quarterly review",
                       *as_(team.reviewer))  # fmt: skip
    assert code == 0, err
    code, out, err = qms(capsys, repo, "build")
    assert code == 0, out + err
    html = (repo / "_build/html/procedures.html").read_text()
    suspect = html[html.index('class="admonition qms-impact qms-suspect"') :]
    suspect = suspect[: suspect.index("</div>")]
    # Beside the evidence item, after its need: the link, both fingerprints, what to do.
    assert html.index('id="EVD-ACC-01"') < html.index("qms-impact qms-suspect")
    assert "EVD-ACC-01" in suspect and "CTL-5-15" in suspect
    assert "after SOP-ACC-001 1.0 was approved" in suspect
    assert "qms impact assess EVD-ACC-01 CTL-5-15" in suspect
    assessed = html[html.index('class="admonition qms-impact qms-assessed"') :]
    assessed = assessed[: assessed.index("</div>")]
    assert "PRC-ACC-01" in assessed and team.reviewer.name in assessed
    assert "change (CC-2027-0004)" in assessed and "clinical systems join" in assessed
    for page in ("matrix", "soa"):
        view = re.sub(
            r"\s+", " ", re.sub(r"<[^>]+>", "", (repo / f"_build/html/{page}.html").read_text())
        )
        assert "Suspect links" in view
        assert "EVD-ACC-01 → CTL-5-15 suspect" in view, page
        assert "PRC-ACC-01 → CTL-5-15 assessed" in view, page


def test_diff_lists_the_items_a_change_modifies_and_the_links_it_makes_suspect(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    approve_all(capsys, repo, team, "REG-ISMS-001")
    text = (repo / SOA).read_text()
    # One content edit (CTL-5-15) and one whitespace-only edit (CTL-8-13), not committed.
    edited = text.replace("GxP systems hold", "GxP and clinical systems hold").replace(
        ":justification: Batch records must stay retrievable.",
        ":justification:  Batch records  must stay\tretrievable. ",
    )
    assert edited.count("clinical") == 1 and "  must stay" in edited
    (repo / SOA).write_text(edited)
    html = tmp_path / "redline.html"
    code, out, err = qms(capsys, repo, "diff", "REG-ISMS-001", "--html", str(html))
    assert code == 0, err
    lines = out.splitlines()
    start = lines.index("Items changed: 1")
    assert lines[start + 1].split() == [
        "changed", "CTL-5-15", "(control)", "Role-based", "access", "to", "GxP", "systems",
    ]  # fmt: skip
    assert lines[start + 2] == "Will become suspect: 2 links of 1 document (SOP-ACC-001)"
    suspect = [line.split("  (")[0].strip() for line in lines[start + 3 :]]
    assert suspect == [
        "SOP-ACC-001: EVD-ACC-01 demonstrates CTL-5-15",
        "SOP-ACC-001: PRC-ACC-01 implements CTL-5-15",
    ]
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.read_text(encoding="utf-8")))
    assert "Items changed: 1" in page and "CTL-5-15 control Role-based access" in page
    assert "2 links of 1 document (SOP-ACC-001) become suspect" in page
    assert "PRC-ACC-01 implements CTL-5-15" in page and "CTL-8-13" not in page.split("Redline")[0]
