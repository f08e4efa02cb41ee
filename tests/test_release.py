"""Releases end to end: create, sign, publish, verify offline, tamper, never overwrite."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qms.model.ceremony import DEFAULT_WORDING
from tests.release_repo import make_release_repo, publish_signed, sign
from tests.signing_repo import Team, run, team

__all__ = ["team"]


@pytest.fixture
def repo(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    return make_release_repo(tmp_path, team, capsys)


def test_documents_with_no_version_in_force_are_left_out_not_blocking(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--root", str(repo), "release", "create", "R0", "--set", "staff")
    assert code == 0, err
    assert "left out SOP-BCK-001: no version in force on " in err and "is draft" in err
    assert "POL-ACC-001" not in err and "(staff: 1 documents;" in out
    folder = repo / "_build/releases/R0/staff"
    assert (folder / "policies/pol-acc-001.html").is_file()
    assert not (folder / "procedures/sop-bck-001.html").exists()


def test_sign_publish_verify_and_tamper(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "--root", str(repo), "release", "create", "R1", "--set", "policies")[0] == 0
    published = tmp_path / "published"
    code, _, err = run(capsys, "--root", str(repo), "release", "publish", "R1", "--to",
                       str(published))  # fmt: skip
    assert code == 1 and "is not signed" in err
    assert sign(capsys, repo, team.approver) == (0, "Release R1 signed by Sarah ONeill as qa\n", "")
    # Half-signed, R1 is no release yet: the audit trail does not list it.
    code, out, _ = run(
        capsys, "--root", str(repo), "audit-trail", "POL-ACC-001", "--format", "json"
    )
    assert code == 0 and "released in R1" not in [e["event"] for e in json.loads(out)]
    code, _, err = sign(capsys, repo, team.approver)
    assert code == 1 and "already signed release R1" in err
    code, _, err = sign(capsys, repo, team.author)
    assert code == 1 and "holds none of the roles still missing on R1 (needed: reviewer)" in err
    code, _, err = run(capsys, "--root", str(repo), "release", "publish", "R1", "--to",
                       str(published))  # fmt: skip
    assert code == 1 and "no valid signature for the role 'reviewer'" in err
    assert not (published / "R1").exists()
    assert sign(capsys, repo, team.reviewer)[0] == 0
    code, out, err = run(capsys, "--root", str(repo), "release", "publish", "R1", "--to",
                         str(published))  # fmt: skip
    assert (code, err) == (0, "")
    folder = published / "R1"
    code, out, err = run(capsys, "release", "verify", str(folder))
    assert (code, out) == (0, "")
    # What is in the folder: the policy set only; nothing of the confidential policy.
    page = (folder / "policies/policies/pol-acc-001.html").read_text()
    assert "Release R1" in page and "Uncontrolled when printed" in page
    script = (folder / "policies/_static/qms-release-signers.js").read_text()
    assert "Signed by qa: Sarah ONeill; reviewer: Marco Bianchi." in script
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".js", ".json", ".inv"):
            text = path.read_text(errors="replace")
            assert "POL-CRY-001" not in text and "HSM" not in text, path
    assert "R1" in (published / "index.html").read_text()
    code, out, _ = run(
        capsys, "--root", str(repo), "audit-trail", "POL-ACC-001", "--format", "json"
    )
    assert [e["event"] for e in json.loads(out)][-1] == "released in R1"
    # Publishing again completes the index; an altered copy is never overwritten.
    code, out, err = run(capsys, "--root", str(repo), "release", "publish", "R1", "--to",
                         str(published))  # fmt: skip
    assert code == 0 and "R1 was already published, intact," in out
    (folder / "policies/index.html").write_text("<p>edited</p>")
    code, _, err = run(capsys, "--root", str(repo), "release", "publish", "R1", "--to",
                       str(published))  # fmt: skip
    assert code == 1 and "is not this release, intact" in err and "never overwritten" in err
    assert (folder / "policies/index.html").read_text() == "<p>edited</p>"
    # Tampering is named file by file.
    (folder / "policies/extra.html").write_text("<p>new</p>")
    (folder / "policies/register.html").unlink()
    code, out, _ = run(capsys, "release", "verify", str(folder))
    assert code == 1
    assert out.splitlines() == [
        "policies/register.html: missing: listed in the manifest but not in the folder",
        "policies/extra.html: added: in the folder but not in the manifest",
        "policies/index.html: changed: its SHA-256 differs from the manifest",
    ]


def test_signers_sign_only_the_build_the_manifest_lists(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "--root", str(repo), "release", "create", "R1", "--set", "policies")[0] == 0
    page = repo / "_build/releases/R1/policies/index.html"
    page.write_text(page.read_text() + "<script>steal()</script>")
    code, _, err = sign(capsys, repo, team.approver)
    assert code == 1
    assert (
        "the build of R1 is not what its manifest lists (1 file(s)); first: "
        "policies/index.html: changed: its SHA-256 differs from the manifest"
    ) in err
    assert not list((repo / "signatures/releases/R1/signatures").glob("*.asc"))
    assert run(capsys, "--root", str(repo), "release", "create", "R1", "--set", "policies")[0] == 0
    assert sign(capsys, repo, team.approver)[0] == 0
    # The second signer works in a clone without the build: they rebuild it first.
    shutil.rmtree(repo / "_build/releases/R1")
    code, _, err = sign(capsys, repo, team.reviewer)
    assert code == 1 and "the build of R1 is not in _build/releases/R1" in err
    assert run(capsys, "--root", str(repo), "release", "create", "R1", "--set", "policies")[0] == 0
    assert sign(capsys, repo, team.reviewer)[0] == 0


def test_forged_release_signature_fails(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = publish_signed(capsys, repo, team, tmp_path) / "R1"
    manifest = folder / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"qa"', '"qa" ', 1))
    code, out, _ = run(capsys, "release", "verify", str(folder))
    assert code == 1
    assert "no valid signature for the role 'qa'" in out
    shutil.rmtree(folder / "signatures/keys")
    code, _, _ = run(capsys, "release", "verify", str(folder))
    assert code == 1


def test_folder_checks_do_not_trust_the_folder_alone(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    published = publish_signed(capsys, repo, team, tmp_path)
    folder = published / "R1"
    assert oct(folder.stat().st_mode & 0o777) == "0o755"
    assert oct((folder / "manifest.json").stat().st_mode & 0o777) == "0o644"
    # What the release signers confirm is in what they sign.
    wording = json.loads((folder / "manifest.json").read_text())["wording"]
    assert wording == DEFAULT_WORDING["release"]
    # Pinning the right root passes; pinning another one fails.
    code, _, err = run(
        capsys, "release", "verify", str(folder), "--trust-root", team.admin.fingerprint
    )
    assert code == 0 and "(pinned trust roots)" in err
    code, out, _ = run(
        capsys, "release", "verify", str(folder), "--trust-root", team.outsider.fingerprint
    )
    assert code == 1 and "are not the pinned ones" in out
    # A link inside a release could serve anything: it is named, not followed.
    (folder / "policies/extra").symlink_to(tmp_path)
    code, out, _ = run(capsys, "release", "verify", str(folder))
    assert code == 1
    assert "policies/extra: not a regular file (a symlink?): a release holds files only" in out
    (folder / "policies/extra").unlink()
    # Files smuggled into the control folder are named.
    (folder / "signatures/evil.html").write_text("<script>alert(1)</script>")
    code, out, _ = run(capsys, "release", "verify", str(folder))
    assert code == 1
    assert "signatures/evil.html: unexpected file in the control folder" in out.splitlines()


def test_a_manifest_without_signer_roles_never_verifies(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    published = publish_signed(capsys, repo, team, tmp_path)
    manifest = published / "R1/manifest.json"
    data = json.loads(manifest.read_text())
    data["signer_roles"], data["trust_roots"] = [], []
    manifest.write_text(json.dumps(data))
    code, out, _ = run(capsys, "release", "verify", str(published / "R1"))
    assert code == 1
    assert "manifest.json: names no signer roles: a release needs at least one signature" in out
    manifest.write_text('{"schema": "qms-release/1", "files": []}')
    code, _, err = run(capsys, "release", "verify", str(published / "R1"))
    assert code == 2 and err.startswith("qms: error: manifest.json is not a release manifest")
