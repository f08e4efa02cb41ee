"""Electronic signatures: content binding, manifestation, authority, expiry and revocation."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from qms.oq.handbook import (
    DOC,
    DOC_PATH,
    approve,
    commit_all,
    edit,
    problems,
    qms,
    status_of,
    verify,
)
from qms.oq.people import Team


def statements(root: Path) -> list[dict[str, object]]:
    folder = root / "signatures/approvals" / DOC / "1.0"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


@pytest.mark.requirement("URS-SIG-001", "URS-STA-002")
def test_a_fully_signed_version_is_bound_to_its_content_and_effective(effective: Path) -> None:
    code, report = verify(effective, DOC)
    assert code == 0, problems(report)
    assert status_of(report) == "effective"
    digest = hashlib.sha256((effective / DOC_PATH).read_bytes()).hexdigest()
    found = statements(effective)
    assert len(found) == 3
    assert {s["content_sha256"] for s in found} == {digest}


@pytest.mark.requirement("URS-SIG-001", "URS-SIG-002", check="negative")
def test_a_body_edit_after_signing_makes_every_signature_not_count(
    signed: Path,
) -> None:
    edit(signed, "least privilege", "need to know")
    code, report = verify(signed, DOC)
    assert code == 1
    assert status_of(report) == "not approved"
    assert (
        problems(report)
        == [f"{DOC} 1.0: content changed after it was signed; bump the version and sign again"] * 3
    )


@pytest.mark.requirement("URS-SIG-002", check="negative")
def test_a_forged_statement_does_not_count(signed: Path) -> None:
    statement = next((signed / "signatures/approvals" / DOC / "1.0").glob("reviewed--*.json"))
    statement.write_bytes(statement.read_bytes().replace(b'"role":"reviewer"', b'"role":"qa"'))
    commit_all(signed, "Forge a statement")
    code, report = verify(signed, DOC)
    assert code == 1
    assert status_of(report) != "effective"
    assert any("signature does not verify" in m for m in problems(report))


@pytest.mark.requirement("URS-SIG-002")
def test_an_unchanged_signed_version_keeps_verifying_in_a_copy(signed: Path) -> None:
    # Nothing altered: the same signatures verify from another clone of the repository.
    code, report = verify(signed, DOC)
    assert (code, status_of(report)) == (0, "effective")
    assert len(next(d for d in report["documents"] if d["id"] == DOC)["signatures"]) == 3


@pytest.mark.requirement("URS-SIG-003")
def test_the_manifestation_names_signer_time_and_meaning(effective: Path, team: Team) -> None:
    result = qms(effective, "verify", "--json", "--no-cache", DOC)
    [document] = result.json()["documents"]
    shown = [(s["meaning"], s["name"], s["role"]) for s in document["signatures"]]
    assert shown == [
        ("authored", team.author.name, "author"),
        ("reviewed", team.reviewer.name, "reviewer"),
        ("approved", team.approver.name, "qa"),
    ]
    for signature in document["signatures"]:
        assert signature["signed_at"].endswith("Z"), signature


@pytest.mark.requirement("URS-SIG-003")
def test_the_page_shows_each_signers_printed_name_utc_time_and_meaning(
    revised: Path, team: Team
) -> None:
    html = (revised / "_build/html/policies/pol-acc-001.html").read_text(encoding="utf-8")
    table = html[html.index('class="qms-signatures') :]
    table = table[: table.index("</table>")]
    rows = table.split("<tr")[2:]
    assert len(rows) == 3
    for row, person, meaning in zip(
        rows,
        (team.author, team.reviewer, team.approver),
        ("authored", "reviewed", "approved"),
        strict=True,
    ):
        assert f"<p>{person.name}</p>" in row
        assert f'<span>{meaning}<span class="qms-wording">\u201c' in row
        assert person.fingerprint in row
        assert re.search(r"<p>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</p>", row), row


@pytest.mark.requirement("URS-SIG-003", check="negative")
def test_a_signature_by_a_key_other_than_the_one_named_is_not_shown(
    signed: Path, team: Team
) -> None:
    statement = next((signed / "signatures/approvals" / DOC / "1.0").glob("reviewed--*.json"))
    forged, _ = team.outsider.keys().sign_detached(
        statement.read_bytes(), team.outsider.fingerprint
    )
    Path(f"{statement}.asc").write_bytes(forged)
    (signed / "signatures/keys" / team.outsider.public_key.name).write_bytes(
        team.outsider.public_key.read_bytes()
    )
    commit_all(signed, "Forge a signature")
    code, report = verify(signed, DOC)
    assert code == 1
    [document] = report["documents"]
    # The manifestation shows only who really signed: the forged review is not listed.
    assert team.reviewer.name not in [s["name"] for s in document["signatures"]]
    assert team.outsider.name not in [s["name"] for s in document["signatures"]]
    assert any(team.outsider.fingerprint in m for m in problems(report))


@pytest.mark.requirement("URS-SIG-004")
def test_a_key_registered_for_the_role_counts(fresh: Path, team: Team) -> None:
    result = approve(fresh, team.author, "authored")
    assert result.code == 0, result.err
    assert result.out.startswith(f"{DOC} 1.0: authored by {team.author.name} (author) at ")
    code, report = verify(fresh, DOC)
    assert (code, status_of(report)) == (0, "in review")


@pytest.mark.requirement("URS-SIG-004", check="negative")
def test_a_key_outside_the_registry_or_the_role_is_refused(fresh: Path, team: Team) -> None:
    result = approve(fresh, team.outsider, "authored")
    assert result.code == 1
    assert f"key {team.outsider.fingerprint} is not in the signer registry" in result.err
    assert approve(fresh, team.author, "authored").code == 0
    assert approve(fresh, team.reviewer, "reviewed").code == 0
    # The reviewer's role may not give the approval.
    result = approve(fresh, team.reviewer, "approved")
    assert result.code == 1
    assert "may not sign policy POL-ACC-001 as approved" in result.err


def revoke(root: Path, team: Team, person_fingerprint: str, at: str) -> None:
    result = qms(
        root, "signers", "revoke", person_fingerprint, "--at", at, "--reason", "Key lost",
        *team.admin.signing(),
    )  # fmt: skip
    assert result.code == 0, result.err


@pytest.mark.requirement("URS-SIG-005", check="negative")
def test_a_signature_made_after_the_key_was_revoked_does_not_count(
    signed: Path, team: Team
) -> None:
    # Revoked before the signature was made (a day ago): the approval no longer counts.
    revoke(signed, team, team.approver.fingerprint, "2020-01-01T00:00:00Z")
    code, report = verify(signed, DOC)
    assert code == 1
    assert status_of(report) == "in review"
    assert any(f"after {team.approver.name}'s key was revoked" in m for m in problems(report))


@pytest.mark.requirement("URS-SIG-005")
def test_a_revocation_after_signing_keeps_the_signature(signed: Path, team: Team) -> None:
    revoke(signed, team, team.approver.fingerprint, "2099-01-01T00:00:00Z")
    code, report = verify(signed, DOC)
    assert (code, status_of(report)) == (0, "effective")


@pytest.mark.requirement("URS-SIG-006")
def test_without_a_terminal_or_yes_nothing_is_signed(fresh: Path, team: Team) -> None:
    before = sorted(p.name for p in (fresh / "signatures").rglob("*"))
    result = qms(
        fresh, "approve", DOC, "--meaning", "authored", "--key", team.author.fingerprint,
        "--gnupghome", str(team.author.home),
    )  # fmt: skip
    assert result.code != 0
    assert "no terminal to confirm the summary" in result.err
    assert sorted(p.name for p in (fresh / "signatures").rglob("*")) == before


@pytest.mark.requirement("URS-SIG-006")
def test_the_meanings_wording_is_recorded_in_the_statement(effective: Path) -> None:
    wording = {s["meaning"]: s.get("wording") for s in statements(effective)}
    assert set(wording) == {"authored", "reviewed", "approved"}
    assert all(isinstance(w, str) and w for w in wording.values()), wording
    assert len(set(wording.values())) == 3
