"""Trusted time: RFC 3161 tokens from a TSA on loopback, verified offline; authority judged
at the token's time; a required TSA that is down refuses."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import git
import pytest

from qms.adapters.tsa import request_token
from qms.config import load_config
from qms.model.approval import Meaning
from qms.model.timestamp_policy import TimestampAuthority
from qms.oq.handbook import DOC, new_handbook, qms, verify
from qms.oq.people import Person, Team
from qms.oq.tsa_server import Tsa, running_tsa
from qms.services.approve import approve
from qms.services.layout import SignatureLayout
from qms.services.signers import revoke_signer

PIN = "signatures/tsa/oq-tsa.pem"


def policy(url: str, need: str = "optional", tolerance: int = 300) -> str:
    return textwrap.dedent(
        f"""
        [tool.qms.timestamps]
        tolerance_seconds = {tolerance}
        kinds = {{ approval = "{need}" }}
        [[tool.qms.timestamps.authorities]]
        name = "OQ TSA"
        url = "{url}"
        certificates = "{PIN}"
        """
    )


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tsa]:
    with running_tsa(tmp_path_factory.mktemp("tsa")) as running:
        yield running


def handbook(tmp_path: Path, team: Team, tsa: Tsa, **options: Any) -> Path:
    return new_handbook(tmp_path / "handbook", team, policy(tsa.url, **options), {PIN: tsa.ca_pem})


def sign(root: Path, person: Person, meaning: Meaning, at: datetime | None = None) -> Path:
    """`person` signs (with gpg's clock at `at`); the signature file written."""
    moment = at or datetime.now(tz=UTC)
    approval = approve(load_config(root), DOC, meaning, person.keys(at), person.fingerprint,
                       now=moment)  # fmt: skip
    return SignatureLayout.signature_of(approval.statement_path)


def signatures(report: dict[str, Any]) -> list[dict[str, str]]:
    return list(report["documents"][0]["signatures"])


@pytest.mark.requirement("URS-TIM-001")
def test_a_valid_token_makes_the_signing_time_trusted(tmp_path: Path, team: Team, tsa: Tsa) -> None:
    root = handbook(tmp_path, team, tsa)
    result = qms(root, "approve", DOC, "--meaning", "authored", *team.author.signing())
    assert result.code == 0, result.err
    [token] = (root / "signatures/approvals").rglob("*.tsr")
    assert token.name.endswith(".json.tsr")
    assert not git.Repo(root).is_dirty(untracked_files=True)  # filed in the signing commit
    code, report = verify(root, DOC)
    assert code == 0, report
    assert [s["time_source"] for s in signatures(report)] == ["time trusted (TSA OQ TSA)"]


@pytest.mark.requirement("URS-TIM-001", check="negative")
def test_a_token_over_other_bytes_from_an_unpinned_tsa_or_out_of_tolerance_is_a_finding(
    tmp_path: Path, team: Team, tsa: Tsa
) -> None:
    root = handbook(tmp_path, team, tsa, tolerance=600)
    first = sign(root, team.author, Meaning.AUTHORED)
    second = sign(root, team.reviewer, Meaning.REVIEWED)
    SignatureLayout.token_of(second).write_bytes(SignatureLayout.token_of(first).read_bytes())
    code, report = verify(root, DOC)
    assert code == 1
    assert "covers other bytes than this signature" in json.dumps(report["documents"])
    with running_tsa(tmp_path / "rogue", "Rogue TSA") as rogue:
        token = request_token(
            TimestampAuthority("Rogue", rogue.url, rogue.ca_pem), first.read_bytes()
        )
    SignatureLayout.token_of(first).write_bytes(token)
    code, report = verify(root, DOC)
    assert code == 1
    assert "does not verify against a pinned TSA" in json.dumps(report["documents"])
    # A signer whose clock is an hour slow: the TSA's time is outside the tolerance.
    other = handbook(tmp_path / "slow", team, tsa, tolerance=600)
    sign(other, team.author, Meaning.AUTHORED, datetime.now(tz=UTC) - timedelta(hours=1))
    code, report = verify(other, DOC)
    assert code == 1
    text = json.dumps(report["documents"])
    assert "(tolerance 600 s)" in text and "stamped it at" in text


@pytest.mark.requirement("URS-TIM-002")
def test_a_revocation_after_the_tokens_time_keeps_the_signature(
    tmp_path: Path, team: Team, tsa: Tsa
) -> None:
    root = handbook(tmp_path, team, tsa)
    sign(root, team.author, Meaning.AUTHORED)
    later = datetime.now(tz=UTC) + timedelta(days=365)
    revoke_signer(load_config(root), team.author.fingerprint, later, "leaves the company",
                  team.admin.fingerprint, team.admin.keys(), datetime.now(tz=UTC))  # fmt: skip
    code, report = verify(root, DOC)
    assert code == 0, report
    assert [(s["name"], s["time_source"]) for s in signatures(report)] == [
        (team.author.name, "time trusted (TSA OQ TSA)")
    ]


@pytest.mark.requirement("URS-TIM-002", check="negative")
def test_a_back_dated_signature_after_revocation_is_caught_by_the_token(
    tmp_path: Path, team: Team, tsa: Tsa
) -> None:
    # A day's tolerance, so that only the revocation judged at the token's time catches it.
    root = handbook(tmp_path, team, tsa, tolerance=86400)
    now = datetime.now(tz=UTC).replace(microsecond=0)
    revoke_signer(load_config(root), team.author.fingerprint, now - timedelta(minutes=30),
                  "laptop stolen", team.admin.fingerprint, team.admin.keys(), now)  # fmt: skip
    sign(root, team.author, Meaning.AUTHORED, now - timedelta(hours=2))  # the clock set back
    code, report = verify(root, DOC)
    assert code == 1
    assert f"signed after {team.author.name}'s key was revoked" in json.dumps(report["documents"])
    assert signatures(report) == []


@pytest.mark.requirement("URS-TIM-003", check="negative")
def test_a_required_tsa_that_is_down_refuses_and_writes_nothing(tmp_path: Path, team: Team) -> None:
    with running_tsa(tmp_path / "gone") as gone:
        root = handbook(tmp_path, team, gone, need="required")
    before = sorted((root / "signatures").rglob("*"))
    head = git.Repo(root).head.commit.hexsha
    result = qms(root, "approve", DOC, "--meaning", "authored", *team.author.signing())
    assert result.code == 1
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert "did not answer" in result.err and "nothing was signed" in result.err
    assert sorted((root / "signatures").rglob("*")) == before
    assert git.Repo(root).head.commit.hexsha == head
