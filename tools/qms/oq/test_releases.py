"""Releases: only effective documents, a signed manifest verified offline, byte-identical
rebuilds, never overwritten; the audit trail and its exports; witnesses of rollback."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import git
import pytest

from qms.oq.handbook import DOC, copy_handbook, qms
from qms.oq.people import Person, Team

NAME = "R1"


@dataclass(frozen=True)
class Released:
    """A handbook with release R1 of the policy set signed and published."""

    root: Path
    published: Path
    created_err: str

    @property
    def folder(self) -> Path:
        return self.published / NAME


def sign_release(root: Path, *people: Person) -> None:
    for person in people:
        result = qms(root, "release", "sign", NAME, *person.signing())
        assert result.code == 0, result.err


@pytest.fixture(scope="module")
def released(effective: Path, team: Team, tmp_path_factory: pytest.TempPathFactory) -> Released:
    base = tmp_path_factory.mktemp("released")
    root = copy_handbook(effective, base / "handbook")
    created = qms(root, "release", "create", NAME, "--set", "policies")
    assert created.code == 0, created.err
    sign_release(root, team.approver, team.reviewer)
    published = base / "published"
    result = qms(root, "release", "publish", NAME, "--to", str(published))
    assert result.code == 0, result.err
    return Released(root, published, created.err)


def manifest(released: Released) -> dict[str, object]:
    return dict(json.loads((released.folder / "manifest.json").read_text()))


@pytest.mark.requirement("URS-REL-001")
def test_a_release_holds_the_effective_documents_of_its_set(released: Released) -> None:
    sets = manifest(released)["sets"]
    assert isinstance(sets, dict)
    [document] = sets["policies"]
    assert document["id"] == DOC and len(document["approvals"]) == 3
    assert (released.folder / "policies/policies/pol-acc-001.html").is_file()


@pytest.mark.requirement("URS-REL-001", check="negative")
def test_a_document_not_in_force_is_left_out_of_the_release(released: Released) -> None:
    assert "left out POL-CRY-001: no version in force" in released.created_err
    assert not (released.folder / "policies/policies/pol-cry-001.html").exists()
    for path in released.folder.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".js", ".json"):
            assert "POL-CRY-001" not in path.read_text(errors="replace"), path


@pytest.mark.requirement("URS-REL-002")
def test_a_published_release_verifies_offline_with_its_signatures(
    released: Released, team: Team
) -> None:
    result = qms(None, "release", "verify", str(released.folder))
    assert (result.code, result.out) == (0, "")
    script = (released.folder / "policies/_static/qms-release-signers.js").read_text()
    assert f"qa: {team.approver.name}" in script and f"reviewer: {team.reviewer.name}" in script


@pytest.mark.requirement("URS-REL-002", check="negative")
def test_a_tampered_or_half_signed_release_does_not_verify(
    released: Released, tmp_path: Path, team: Team
) -> None:
    copy = tmp_path / NAME
    shutil.copytree(released.folder, copy)
    (copy / "policies/index.html").write_text("<p>edited</p>")
    result = qms(None, "release", "verify", str(copy))
    assert result.code == 1
    assert "policies/index.html: changed: its SHA-256 differs from the manifest" in result.out
    shutil.rmtree(copy)
    shutil.copytree(released.folder, copy)
    record = copy / "manifest.json"
    record.write_text(record.read_text().replace('"qa"', '"qa" ', 1))
    result = qms(None, "release", "verify", str(copy))
    assert result.code == 1 and "no valid signature for the role 'qa'" in result.out
    # A release signed by one role only is not published.
    root = copy_handbook(released.root, tmp_path / "handbook")
    assert qms(root, "release", "create", "R2", "--set", "policies").code == 0
    assert qms(root, "release", "sign", "R2", *team.approver.signing()).code == 0
    result = qms(root, "release", "publish", "R2", "--to", str(tmp_path / "out"))
    assert result.code == 1 and "no valid signature for the role 'reviewer'" in result.err
    assert not (tmp_path / "out/R2").exists()


@pytest.mark.requirement("URS-REL-003")
def test_a_release_rebuilds_byte_for_byte_from_its_commit(
    released: Released, tmp_path: Path
) -> None:
    record = manifest(released)
    clone = tmp_path / "clone"
    git.Repo(released.root).clone(clone)
    git.Repo(clone).git.checkout(str(record["commit"]))
    result = qms(clone, "release", "create", NAME, "--set", "policies")
    assert result.code == 0, result.err
    first = released.root / "_build/releases" / NAME
    second = clone / "_build/releases" / NAME
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert [f for f in files if (first / f).read_bytes() != (second / f).read_bytes()] == []


@pytest.mark.requirement("URS-REL-004")
def test_publishing_again_leaves_an_intact_release_as_it_is(
    released: Released, tmp_path: Path
) -> None:
    target = tmp_path / "published"
    shutil.copytree(released.published, target)
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
    result = qms(released.root, "release", "publish", NAME, "--to", str(target))
    assert result.code == 0, result.err
    assert "already published, intact" in result.out
    assert {p: p.read_bytes() for p in target.rglob("*") if p.is_file()} == before


@pytest.mark.requirement("URS-REL-004", check="negative")
def test_an_altered_published_release_is_never_overwritten(
    released: Released, tmp_path: Path
) -> None:
    target = tmp_path / "published"
    shutil.copytree(released.published, target)
    page = target / NAME / "policies/index.html"
    page.write_text("<p>edited</p>")
    result = qms(released.root, "release", "publish", NAME, "--to", str(target))
    assert result.code == 1
    assert "never overwritten" in result.err
    assert page.read_text() == "<p>edited</p>"


@pytest.mark.requirement("URS-AUD-001")
def test_the_audit_trail_lists_approvals_and_releases(released: Released, team: Team) -> None:
    events = qms(released.root, "audit-trail", DOC, "--json").json()
    assert [e["event"] for e in events] == [
        "created", "authored", "reviewed", "approved", f"released in {NAME}"
    ]  # fmt: skip
    assert [e["when"] for e in events] == sorted(e["when"] for e in events)
    assert events[1]["who"].startswith(
        f"{team.author.name} (author, key {team.author.fingerprint})"
    )
    assert events[3]["who"].startswith(f"{team.approver.name} (qa, key ")
    assert all(e["commit"] for e in events)


@pytest.mark.requirement("URS-AUD-001", check="negative")
def test_a_half_signed_release_is_not_in_the_audit_trail(
    released: Released, team: Team, tmp_path: Path
) -> None:
    root = copy_handbook(released.root, tmp_path / "handbook")
    assert qms(root, "release", "create", "R2", "--set", "policies").code == 0
    assert qms(root, "release", "sign", "R2", *team.approver.signing()).code == 0
    events = [e["event"] for e in qms(root, "audit-trail", DOC, "--json").json()]
    assert f"released in {NAME}" in events and "released in R2" not in events


@pytest.mark.requirement("URS-AUD-002")
def test_the_audit_trail_exports_as_csv_and_json(released: Released) -> None:
    as_json = qms(released.root, "audit-trail", DOC, "--format", "json").json()
    text = qms(released.root, "audit-trail", DOC, "--format", "csv").out.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["when", "event", "version", "who", "commit", "why"]
    assert [r["event"] for r in rows] == [e["event"] for e in as_json]
    assert [r["who"] for r in rows] == [e["who"] for e in as_json]


@pytest.mark.requirement("URS-HIS-003")
def test_a_published_release_witnesses_a_rollback_a_new_clone_cannot_see(
    released: Released, tmp_path: Path
) -> None:
    root = copy_handbook(released.root, tmp_path / "handbook")
    assert qms(root, "verify", "--witness", str(released.published)).code == 0
    approval = next(
        c
        for c in git.Repo(root).iter_commits()
        if str(c.message).startswith(f"Approve {DOC} 1.0: approved")
    )
    git.Repo(root).git.reset("--hard", f"{approval.hexsha}^")
    clone = tmp_path / "clone"
    git.Repo.clone_from(str(root), clone)
    assert qms(clone, "verify").code == 0  # the clone alone has nothing to compare with
    result = qms(clone, "verify", "--json", "--witness", str(released.published))
    assert result.code == 1
    lines = [f"{f['path']}: {f['message']}" for f in result.json()["witness"]]
    assert any(
        line.startswith(f"signatures/releases/{NAME}/manifest.json: is gone") for line in lines
    )
    assert any(line.startswith(f"signatures/approvals/{DOC}/1.0/approved--") for line in lines)
