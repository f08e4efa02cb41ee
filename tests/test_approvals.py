"""End-to-end approvals with real gpg, real git and throwaway ed25519 keys."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import git
import gnupg
import pytest

from qms.adapters.gpg import UserKeys
from qms.config import load_config
from qms.model.timeutil import format_utc
from qms.services.sphinx_run import run_sphinx
from tests.conftest import ROOTS
from tests.keys import Person, short_tempdir
from tests.signing_repo import Team, commit_all, make_signing_repo, run, squash_history, team

__all__ = ["team"]  # the session fixture, re-exported for pytest

DOC = "POL-ACC-001"
DOC_PATH = "docs/policies/pol-acc-001.md"


@pytest.fixture
def repo(tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> Path:
    return make_signing_repo(tmp_path, team, capsys, ROOTS / "test-handbook")


def approve(
    capsys: pytest.CaptureFixture[str], root: Path, person: Person, meaning: str, doc: str = DOC
) -> tuple[int, str, str]:
    return run(
        capsys, "--root", str(root), "approve", doc, "--meaning", meaning,
        "--key", person.fingerprint, "--gnupghome", str(person.home), "--yes",
    )  # fmt: skip


def sign_all(capsys: pytest.CaptureFixture[str], root: Path, team: Team, doc: str = DOC) -> None:
    for person, meaning in (
        (team.author, "authored"),
        (team.reviewer, "reviewed"),
        (team.approver, "approved"),
    ):
        code, _, err = approve(capsys, root, person, meaning, doc)
        assert code == 0, err


def verify(
    capsys: pytest.CaptureFixture[str], root: Path, *ids: str
) -> tuple[int, dict[str, Any], str]:
    code, out, err = run(capsys, "--root", str(root), "verify", "--json", *ids)
    return code, json.loads(out), err


def doc_status(data: dict[str, Any], doc: str = DOC) -> str:
    return str(next(d["status"] for d in data["documents"] if d["id"] == doc))


def edit(root: Path, old: str, new: str, path: str = DOC_PATH) -> None:
    file = root / path
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new), encoding="utf-8")
    commit_all(root, "Edit without a version bump")


# --- the happy path -------------------------------------------------------------------


def test_three_signatures_make_a_document_effective(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data, _ = verify(capsys, repo, DOC)
    assert (code, doc_status(data)) == (0, "draft")

    code, out, _ = approve(capsys, repo, team.author, "authored")
    assert code == 0
    assert out.startswith(f"{DOC} 2.0: authored by Lena Vogt (author) at ")
    assert doc_status(verify(capsys, repo, DOC)[1]) == "in review"

    assert approve(capsys, repo, team.reviewer, "reviewed")[0] == 0
    assert approve(capsys, repo, team.approver, "approved")[0] == 0
    code, data, _err = verify(capsys, repo)
    assert code == 0, failures(data)
    assert doc_status(data) == "effective"
    signatures = next(d for d in data["documents"] if d["id"] == DOC)["signatures"]
    assert [(s["meaning"], s["name"], s["role"], s["fingerprint"]) for s in signatures] == [
        ("authored", "Lena Vogt", "author", team.author.fingerprint),
        ("reviewed", "Marco Bianchi", "reviewer", team.reviewer.fingerprint),
        ("approved", "Sarah ONeill", "qa", team.approver.fingerprint),
    ]
    assert data["registry"] == {"revision": 5, "trusted": True, "findings": []}


def test_each_approval_is_its_own_commit_and_file_pair(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    history = list(git.Repo(repo).iter_commits(max_count=3))
    assert [c.summary for c in history] == [
        f"Approve {DOC} 2.0: approved by Sarah ONeill (qa)",
        f"Approve {DOC} 2.0: reviewed by Marco Bianchi (reviewer)",
        f"Approve {DOC} 2.0: authored by Lena Vogt (author)",
    ]
    files = sorted(p.name for p in (repo / "signatures/approvals" / DOC / "2.0").iterdir())
    assert len(files) == 6
    assert all(f.endswith((".json", ".json.asc")) for f in files)
    statement = json.loads(
        next((repo / "signatures/approvals" / DOC / "2.0").glob("approved--*.json")).read_text()
    )
    assert statement["content_sha256"] == hashlib.sha256((repo / DOC_PATH).read_bytes()).hexdigest()
    assert git.Repo(repo).is_dirty(untracked_files=True) is False


def test_status_and_site_show_verified_signatures(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sign_all(capsys, repo, team)
    code, out, _ = run(capsys, "--root", str(repo), "status", DOC)
    assert code == 0
    assert out.splitlines()[1].split()[:3] == [DOC, "2.0", "EFFECTIVE"]
    site = run_sphinx(load_config(repo), "html", tmp_path / "site", fresh=True, progress=None)
    assert site.findings == ()
    html = (site.outdir / "policies/pol-acc-001.html").read_text(encoding="utf-8")
    assert "qms-status-effective" in html and "qms-banner" not in html.split("<article")[1]
    for person in (team.author, team.reviewer, team.approver):
        assert person.name in html
        assert person.fingerprint in html
    # The meaning, with the words the approver confirmed (qms-approval/4).
    words = '<span class="qms-wording">\u201cI approve this document for use\u201d</span>'
    assert f"approved{words}" in html and "<p>qa</p>" in html
    assert " UTC</p>" in html


# --- refusals -------------------------------------------------------------------------


def test_refuses_a_document_that_fails_check(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(repo, "classification: internal", "classification: secret")
    code, out, err = approve(capsys, repo, team.author, "authored")
    assert (code, out) == (1, "")
    assert err == (
        "qms: error: POL-ACC-001 fails qms check; run 'qms check', fix what it reports and commit\n"
    )


def test_refuses_uncommitted_changes(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / DOC_PATH).write_text((repo / DOC_PATH).read_text() + "\nMore.\n")
    code, _, err = approve(capsys, repo, team.author, "authored")
    assert code == 1
    assert err == (
        f"qms: error: {DOC_PATH} has changes that are not committed; commit the document "
        "first: a signature binds the content recorded in git\n"
    )


def test_refuses_a_key_outside_the_registry(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = approve(capsys, repo, team.outsider, "authored")
    assert code == 1
    assert f"key {team.outsider.fingerprint} is not in the signer registry" in err


def test_refuses_a_role_that_may_not_give_the_meaning(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    approve(capsys, repo, team.author, "authored")
    approve(capsys, repo, team.reviewer, "reviewed")
    code, _, err = approve(capsys, repo, team.second_reviewer, "approved")
    assert code == 1
    assert "Ines Duarte may not sign policy POL-ACC-001 as approved" in err


def test_refuses_the_author_as_approver(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    assert approve(capsys, repo, team.approver, "authored")[0] == 0
    assert approve(capsys, repo, team.reviewer, "reviewed")[0] == 0
    code, _, err = approve(capsys, repo, team.approver, "approved")
    assert code == 1
    assert "segregation of duties: Sarah ONeill authored this version" in err


def test_refuses_the_same_signature_twice(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    assert approve(capsys, repo, team.author, "authored")[0] == 0
    code, _, err = approve(capsys, repo, team.author, "authored")
    assert code == 1
    assert "Lena Vogt already signed this version as authored" in err


def test_refuses_approval_before_review(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    assert approve(capsys, repo, team.author, "authored")[0] == 0
    code, _, err = approve(capsys, repo, team.approver, "approved")
    assert code == 1
    assert "approved before it was reviewed" in err


# --- tampering ------------------------------------------------------------------------


def failures(data: dict[str, Any]) -> list[str]:
    return [f["message"] for d in data["documents"] for f in d["findings"]] + [
        f["message"] for f in data["registry"]["findings"]
    ]


def test_body_edit_after_approval_is_not_approved(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sign_all(capsys, repo, team)
    edit(repo, "least privilege", "need to know")
    code, data, _ = verify(capsys, repo)
    assert code == 1
    assert doc_status(data) == "not approved"
    assert (
        failures(data)
        == [f"{DOC} 2.0: content changed after it was signed; bump the version and sign again"] * 3
    )
    code, out, _ = run(capsys, "--root", str(repo), "status", DOC)
    assert "NOT APPROVED" in out
    site = run_sphinx(load_config(repo), "html", tmp_path / "site", fresh=True, progress=None)
    html = (site.outdir / "policies/pol-acc-001.html").read_text(encoding="utf-8")
    assert "NOT APPROVED: changed since it was signed, not for use" in html
    assert "No verified signatures on this version." in html
    assert any(f.code == "qms.verify" for f in site.findings)


def test_front_matter_edit_after_approval_is_not_approved(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    edit(repo, "owner: ISMS Manager", "owner: Chief Information Officer")
    code, data, _ = verify(capsys, repo)
    assert code == 1
    assert doc_status(data) == "not approved"


def test_statement_copied_to_another_document_fails(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    source = repo / "signatures/approvals" / DOC / "2.0"
    target = repo / "signatures/approvals/POL-CRY-001/1.1"
    target.mkdir(parents=True)
    for file in source.glob("approved--*"):
        shutil.copy(file, target / file.name)
    commit_all(repo, "Copy an approval")
    code, data, _ = verify(capsys, repo)
    assert code == 1
    assert doc_status(data, "POL-CRY-001") == "draft"
    [message] = failures(data)
    assert message == (
        f"POL-CRY-001 1.1: statement is for {DOC} 2.0 but is filed under POL-CRY-001 1.1: "
        "copied from another document or version"
    )


def test_forged_statement_fails(repo: Path, team: Team, capsys: pytest.CaptureFixture[str]) -> None:
    sign_all(capsys, repo, team)
    statement = next((repo / "signatures/approvals" / DOC / "2.0").glob("reviewed--*.json"))
    statement.write_bytes(statement.read_bytes().replace(b'"role":"reviewer"', b'"role":"qa"'))
    commit_all(repo, "Forge")
    code, data, _ = verify(capsys, repo)
    assert code == 1
    assert doc_status(data) == "in review"
    assert any("signature does not verify: signature bad" in m for m in failures(data))


def forge_review(repo: Path, team: Team) -> None:
    """Replace the reviewer's signature with one by an outsider whose key is in signatures/keys."""
    statement = next((repo / "signatures/approvals" / DOC / "2.0").glob("reviewed--*.json"))
    forged = team.outsider.gpg().sign(
        statement.read_bytes(), keyid=team.outsider.fingerprint, detach=True
    )
    Path(f"{statement}.asc").write_bytes(forged.data)
    shutil.copy(
        team.outsider.public_key, repo / "signatures/keys" / f"{team.outsider.fingerprint}.asc"
    )
    commit_all(repo, "Forge a signature")


def test_signature_by_an_unregistered_key_fails(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    forge_review(repo, team)
    code, data, _ = verify(capsys, repo)
    assert code == 1
    assert any(
        f"signed with key {team.outsider.fingerprint}, but the statement names "
        f"{team.reviewer.fingerprint}" in m
        for m in failures(data)
    )


def test_registry_edited_by_hand_fails(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    registry = repo / "signatures/signers.yaml"
    policy, signers = registry.read_text().split("\nsigners:\n")
    signers = signers.replace("- reviewer\n", "- reviewer\n  - qa\n", 1)  # a role granted
    registry.write_text(f"{policy}\nsigners:\n{signers}")
    commit_all(repo, "Hand edit")
    code, data, _ = verify(capsys, repo)
    assert code == 1
    assert data["registry"]["trusted"] is False
    assert failures(data) == [
        *[f"{DOC} 2.0: the signer registry is not trusted"] * 3,
        "differs from approved revision 5: the registry was edited by hand; change it only "
        "with 'qms signers add' or 'qms signers revoke'",
    ]
    assert doc_status(data) == "draft"  # no signature counts without a trusted registry
    assert all(not d["signatures"] for d in data["documents"])  # and none is shown
    code, _, _ = run(capsys, "--root", str(repo), "signers", "list")
    assert code == 1


def test_unapproved_registry_revision_fails(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    history = repo / "signatures/registry"
    for signature in history.glob("0005.*.asc"):
        signature.unlink()
    commit_all(repo, "Drop the approval of revision 5")
    code, data, _ = verify(capsys, repo)
    assert code == 1
    assert failures(data)[0].startswith(
        "registry revision 5 is not approved by a registry administrator (no signature)"
    )


def test_a_forged_extra_signature_on_a_registry_revision_fails(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    data = (repo / "signatures/registry/0005.yaml").read_bytes()
    outsider = UserKeys(team.outsider.home)
    signature, _ = outsider.sign_detached(data, team.outsider.fingerprint)
    (repo / f"signatures/registry/0005.{team.outsider.fingerprint[-16:]}.asc").write_bytes(
        signature
    )
    commit_all(repo, "A second, unauthorised approval")
    code, data_, _ = verify(capsys, repo)
    assert code == 1
    assert failures(data_)[0].startswith(
        "registry revision 5 has a signature that does not count: "
    )


def test_signature_after_revocation_fails_and_before_counts(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    code, _, err = run(
        capsys, "--root", str(repo), "signers", "revoke", team.approver.fingerprint,
        "--at", "2020-01-01T00:00:00Z", "--reason", "Key lost",
        "--key", team.admin.fingerprint, "--gnupghome", str(team.admin.home), "--yes",
    )  # fmt: skip
    assert code == 0, err
    code, data, _ = verify(capsys, repo)
    assert code == 1
    assert doc_status(data) == "in review"
    [message] = failures(data)
    assert (
        "signed after Sarah ONeill's key was revoked at 2020-01-01T00:00:00Z (Key lost)" in message
    )


def test_revocation_from_the_future_keeps_past_signatures(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    code, _, _ = run(
        capsys, "--root", str(repo), "signers", "revoke", team.approver.fingerprint,
        "--at", "2099-01-01T00:00:00Z", "--reason", "Leaves the company",
        "--key", team.admin.fingerprint, "--gnupghome", str(team.admin.home), "--yes",
    )  # fmt: skip
    assert code == 0
    code, data, _ = verify(capsys, repo)
    assert (code, doc_status(data)) == (0, "effective")


def test_parallel_approvals_in_two_clones_merge_cleanly(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert approve(capsys, repo, team.author, "authored")[0] == 0
    other = tmp_path / "clone"
    clone = git.Repo(repo).clone(other)
    with clone.config_writer() as config:
        config.set_value("user", "name", "Second Reviewer")
        config.set_value("user", "email", "second@corvane.example")
    assert approve(capsys, repo, team.reviewer, "reviewed")[0] == 0
    assert approve(capsys, other, team.second_reviewer, "reviewed")[0] == 0
    git.Repo(repo).git.pull(str(other), "HEAD", "--no-rebase", "--no-edit")
    reviewed = sorted((repo / "signatures/approvals" / DOC / "2.0").glob("reviewed--*.json"))
    assert len(reviewed) == 2
    code, data, _ = verify(capsys, repo, DOC)
    assert code == 0
    names = [s["name"] for s in data["documents"][0]["signatures"]]
    assert sorted(names) == ["Ines Duarte", "Lena Vogt", "Marco Bianchi"]


def test_rewritten_history_is_detected(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    assert verify(capsys, repo, DOC)[0] == 0
    statements = sorted((repo / "signatures/approvals" / DOC / "2.0").glob("*.json"))
    commits = {json.loads(s.read_text())["commit"] for s in statements}
    assert len(commits) == 3
    squash_history(repo)
    code, data, _ = verify(capsys, repo, DOC)
    assert code == 1
    messages = failures(data)
    assert len(messages) == 3
    for commit in commits:
        assert any(
            f"signed the content of commit {commit}, which is no longer" in m for m in messages
        )
    assert doc_status(data) == "draft"


def test_shallow_clone_verifies_without_judging_history(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sign_all(capsys, repo, team)
    shallow = tmp_path / "shallow"
    git.Repo.clone_from(f"file://{repo}", shallow, depth=1)
    code, data, _ = verify(capsys, shallow, DOC)
    assert (code, doc_status(data)) == (0, "effective")
    assert data["history_unchecked"].startswith("this is a shallow clone")
    code, _, err = run(capsys, "--root", str(shallow), "verify")
    assert code == 0
    assert "qms verify: note: rewritten history and committed changes to signature files" in err
    assert "this is a shallow clone (git fetch --unshallow" in err


def test_a_lifted_revocation_breaks_the_registry(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from qms.adapters.gpg import UserKeys
    from qms.config import load_config
    from qms.services.registry import change_registry

    code, _, _ = run(
        capsys,
        "--root",
        str(repo),
        "signers",
        "revoke",
        team.approver.fingerprint,
        "--at",
        "2026-01-01T00:00:00Z",
        "--reason",
        "Key lost",
        "--key",
        team.admin.fingerprint,
        "--gnupghome",
        str(team.admin.home),
        "--yes",
    )
    assert code == 0

    def lift(registry):  # type: ignore[no-untyped-def]
        entry = registry.get(team.approver.fingerprint)
        return registry.with_signer(replace(entry, revoked_at=None, revoked_reason=""))

    change_registry(
        load_config(repo),
        lift,
        team.admin.fingerprint,
        UserKeys(team.admin.home),
        datetime.now(tz=UTC),
        "Lift a revocation",
    )
    code, data, _ = verify(capsys, repo)
    assert code == 1
    assert any("lifts or delays the revocation" in m for m in failures(data))


def test_included_files_are_bound_to_the_signature(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "docs/policies/_snippets").mkdir()
    (repo / "docs/policies/_snippets/mfa.md").write_text(
        "MFA is required.\n\n```{include} deep.md\n```\n"
    )
    (repo / "docs/policies/_snippets/deep.md").write_text("Hardware tokens only.\n")
    doc = repo / DOC_PATH
    doc.write_text(doc.read_text() + "\n~~~{include} _snippets/mfa.md\n~~~\n")
    commit_all(repo, "Include a snippet")
    (repo / "docs/policies/_snippets/deep.md").write_text("Hardware tokens or phones.\n")
    code, _, err = approve(capsys, repo, team.author, "authored")
    assert code == 1
    assert "docs/policies/_snippets/deep.md has changes that are not committed" in err
    (repo / "docs/policies/_snippets/deep.md").write_text("Hardware tokens only.\n")
    sign_all(capsys, repo, team)
    assert doc_status(verify(capsys, repo, DOC)[1]) == "effective"
    # Changing a file two includes deep is a change of the approved document.
    (repo / "docs/policies/_snippets/deep.md").write_text("Any second factor.\n")
    commit_all(repo, "Weaken the nested snippet")
    code, data, _ = verify(capsys, repo, DOC)
    assert code == 1
    assert doc_status(data) == "not approved"


def test_markdown_images_are_bound_to_the_signature(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "docs/policies/flow.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>\n')
    (repo / "docs/policies/roles (2026).svg").write_text("<svg/>\n")
    doc = repo / DOC_PATH
    doc.write_text(
        doc.read_text()
        + '\n![Access request flow](flow.svg "Flow")\n![Remote logo](https://example.org/l.png)\n'
        + "\n![Roles][roles]\n\n[roles]: <roles (2026).svg>\n"
    )
    commit_all(repo, "Add diagrams")
    sign_all(capsys, repo, team)
    assert doc_status(verify(capsys, repo, DOC)[1]) == "effective"
    # Swapping a picture readers see, in either form, is a change of the approved document.
    for name in ("flow.svg", "roles (2026).svg"):
        picture = repo / "docs/policies" / name
        original = picture.read_bytes()
        picture.write_text('<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>\n')
        commit_all(repo, f"Swap {name}")
        code, data, _ = verify(capsys, repo, DOC)
        assert (code, doc_status(data)) == (1, "not approved"), name
        picture.write_bytes(original)
        commit_all(repo, f"Restore {name}")
        assert doc_status(verify(capsys, repo, DOC)[1]) == "effective"


def test_an_openpgp_revocation_counts_once_the_registry_records_it(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_all(capsys, repo, team)
    # The author revokes their key with the certificate gpg made when it was generated,
    # and publishes the revoked key (done in a scratch keyring: the team is shared).
    certificate = team.author.home / "openpgp-revocs.d" / f"{team.author.fingerprint}.rev"
    scratch = short_tempdir("qt-")
    try:
        gpg = gnupg.GPG(gnupghome=str(scratch))
        gpg.import_keys(team.author.public_key.read_bytes())
        gpg.import_keys(certificate.read_text().replace(":-----BEGIN", "-----BEGIN"))
        revoked = gpg.export_keys(team.author.fingerprint, armor=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    key_file = repo / f"signatures/keys/{team.author.fingerprint}.asc"
    key_file.write_text(revoked)
    commit_all(repo, "Publish the author's revoked key")

    code, data, _ = verify(capsys, repo, DOC)
    assert (code, doc_status(data)) == (1, "draft")
    [finding] = data["registry"]["findings"]
    assert finding["path"] == key_file.relative_to(repo).as_posix()
    assert finding["message"].startswith(
        "the key of Lena Vogt carries an OpenPGP revocation the registry does not record"
    )
    # A revoked key is never registered (again).
    code, _, err = run(
        capsys, "--root", str(repo), "signers", "add", str(key_file), "--name", "Lena Vogt",
        "--email", team.author.email, "--role", "author",
        "--key", team.admin.fingerprint, "--gnupghome", str(team.admin.home), "--yes",
    )  # fmt: skip
    assert code == 1 and f"key {team.author.fingerprint} has been revoked by its owner" in err
    code, _, err = run(
        capsys, "--root", str(repo), "signers", "revoke", team.author.fingerprint,
        "--at", format_utc(datetime.now(tz=UTC) + timedelta(seconds=1)),
        "--reason", "Key revoked by its owner",
        "--key", team.admin.fingerprint, "--gnupghome", str(team.admin.home), "--yes",
    )  # fmt: skip
    assert code == 0, err
    # Signatures made before the recorded end of trust keep counting.
    code, data, _ = verify(capsys, repo, DOC)
    assert (code, doc_status(data)) == (0, "effective"), data
