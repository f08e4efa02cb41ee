"""A release publishes the version in force: a later version in review or not yet
effective never takes it off the shelf, and superseded versions travel with the set."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import git
import pytest

from tests.release_repo import make_release_repo
from tests.signing_repo import Team, commit_all, run, team

__all__ = ["team"]

POLICY = "docs/policies/pol-acc-001.md"


@pytest.fixture
def repo(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    return make_release_repo(tmp_path, team, capsys)


def revise(root: Path, capsys: pytest.CaptureFixture[str], effective: str | None = None) -> None:
    """Version 2.1 of the policy: a new sentence, committed."""
    code, _, err = run(capsys, "--root", str(root), "bump", "POL-ACC-001", "--reason",
                       "Privileged access reviewed quarterly")  # fmt: skip
    assert code == 0, err
    path = root / POLICY
    text = path.read_text() + "\nPrivileged access is reviewed every quarter.\n"
    if effective is not None:
        text = text.replace("effective: 2026-01-15", f"effective: {effective}")
    path.write_text(text)
    commit_all(root, "POL-ACC-001 2.1")


def approve(root: Path, team: Team, capsys: pytest.CaptureFixture[str], *meanings: str) -> None:
    people = {"authored": team.author, "reviewed": team.reviewer, "approved": team.approver}
    for meaning in meanings:
        person = people[meaning]
        code, _, err = run(
            capsys, "--root", str(root), "approve", "POL-ACC-001", "--meaning", meaning,
            "--key", person.fingerprint, "--gnupghome", str(person.home), "--yes",
        )  # fmt: skip
        assert code == 0, err


def create(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[Path, dict[str, object]]:
    code, _, err = run(capsys, "--root", str(root), "release", "create", "R1", "--set", "policies")
    assert code == 0, err
    folder = root / "_build/releases/R1"
    [entry] = json.loads((folder / "manifest.json").read_text())["sets"]["policies"]
    return folder / "policies", entry


def approved_source(root: Path, version: str) -> bytes:
    """The bytes of the policy at the last commit where its front matter has `version`."""
    repo = git.Repo(root)
    for commit in repo.iter_commits(paths=POLICY):
        data: bytes = (commit.tree / POLICY).data_stream.read()
        if f'version: "{version}"'.encode() in data:
            return data
    raise AssertionError(f"no commit holds version {version}")


def test_a_version_in_review_leaves_the_one_in_force_published(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    revise(repo, capsys)
    approve(repo, team, capsys, "authored")
    folder, entry = create(capsys, repo)
    page = (folder / "policies/pol-acc-001.html").read_text()
    assert "Privileged access is reviewed every quarter" not in page
    assert re.search(r"Version</th>\s*<td[^>]*>2\.0<", page) or ">2.0<" in page
    assert "EFFECTIVE" in page and "This is the version in force." in page
    assert "Version 2.1 is in review" in page
    # The manifest names what was published: version 2.0 and the bytes it was approved as.
    assert entry["version"] == "2.0"
    assert entry["sha256"] == hashlib.sha256(approved_source(repo, "2.0")).hexdigest()
    assert "Version 2.1 is in review" in str(entry["later_version"])
    assert len(entry["approvals"]) == 3  # type: ignore[arg-type]
    # The book and the document's PDF are of version 2.0 too.
    assert (folder / "pdf/pol-acc-001.pdf").is_file()


def test_a_version_effective_later_waits_for_its_date(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    revise(repo, capsys, effective="2099-01-01")
    approve(repo, team, capsys, "authored", "reviewed", "approved")
    folder, entry = create(capsys, repo)
    page = (folder / "policies/pol-acc-001.html").read_text()
    assert entry["version"] == "2.0"
    assert "Version 2.1 is approved and becomes effective on 2099-01-01." in page
    assert "Privileged access is reviewed every quarter" not in page


def test_superseded_versions_travel_with_the_set_and_point_to_the_one_in_force(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    revise(repo, capsys)
    approve(repo, team, capsys, "authored", "reviewed", "approved")
    folder, entry = create(capsys, repo)
    assert entry["version"] == "2.1" and "later_version" not in entry
    assert entry["superseded_versions"] == ["2.0"]
    page = (folder / "policies/pol-acc-001.html").read_text()
    assert "Privileged access is reviewed every quarter" in page
    links = re.findall(r'href="(\.\./superseded/[^"#]+)"', page)
    assert links, "the revision history links no superseded version"
    for link in links:
        old = (folder / "policies" / link).resolve()
        assert old.is_file(), link
        text = old.read_text()
        assert "SUPERSEDED: version 2.0" in text
        assert 'href="../policies/pol-acc-001.html"' in text
        # Rendered like a page, not shown as source: headings, no front matter.
        assert "<h2>Purpose</h2>" in text and "review_months:" not in text
        assert "Privileged access is reviewed every quarter" not in text
    # Superseded pages stay out of the search index.
    assert "superseded/" not in (folder / "searchindex.js").read_text()


def _everything_set(root: Path) -> None:
    with (root / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.qms.sets.everything]\ntitle = "Everything"\npages = ["*"]\n')


def test_a_page_pattern_never_brings_in_a_document_with_no_version_in_force(
    tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_release_repo(tmp_path, team, capsys, _everything_set)
    code, _, err = run(capsys, "--root", str(root), "release", "create", "R1", "--set",
                       "everything")  # fmt: skip
    assert code == 0, err
    assert "left out SOP-BCK-001" in err
    folder = root / "_build/releases/R1/everything"
    assert (folder / "policies/pol-acc-001.html").is_file()
    assert not (folder / "procedures/sop-bck-001.html").exists()
    assert all("SOP-BCK-001" not in p.read_text() for p in folder.rglob("*.html"))


def _restricted_first(root: Path) -> None:
    path = root / POLICY
    text = path.read_text().replace("classification: internal", "classification: restricted")
    path.write_text(text + "\nBreak-glass accounts: see the vault entry BG-7731.\n")


def test_a_superseded_version_travels_only_where_its_own_classification_is_admitted(
    tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_release_repo(tmp_path, team, capsys, _restricted_first)
    # Version 2.1 is internal, without the restricted sentence.
    code, _, err = run(capsys, "--root", str(root), "bump", "POL-ACC-001", "--reason",
                       "Break-glass details moved to the vault")  # fmt: skip
    assert code == 0, err
    path = root / POLICY
    text = path.read_text().replace("classification: restricted", "classification: internal")
    path.write_text(text.replace("Break-glass accounts: see the vault entry BG-7731.\n", ""))
    commit_all(root, "POL-ACC-001 2.1")
    approve(root, team, capsys, "authored", "reviewed", "approved")
    folder, entry = create(capsys, root)
    assert entry["version"] == "2.1" and "superseded_versions" not in entry
    assert not (folder / "superseded").exists()
    assert all("BG-7731" not in p.read_text(errors="replace") for p in folder.rglob("*.html"))
    assert "superseded/" not in (folder / "policies/pol-acc-001.html").read_text()
