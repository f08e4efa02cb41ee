"""Key expiry judged at signing time, with real gpg keys made on a faked clock."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import git
import pytest

from qms.adapters.gpg import UserKeys
from qms.cli.main import main
from qms.config import load_config
from qms.errors import QmsError
from qms.model.approval import Meaning, Statement
from qms.services.approve import approve
from qms.services.layout import SignatureLayout
from qms.services.signers import add_signer
from tests.faked_clock import faked, faked_people, registered_handbook
from tests.keys import Person, make_person, remove_home

DOC = "POL-ACC-001"
# Everything is signed ten days ago; the approver's key lived for one day.
T0 = (datetime.now(tz=UTC) - timedelta(days=10)).replace(microsecond=0)


@pytest.fixture
def people(tmp_path: Path) -> Iterator[dict[str, Person]]:
    yield from faked_people(tmp_path, T0, {"approver": "1d"})


@pytest.fixture
def repo(tmp_path: Path, people: dict[str, Person]) -> Path:
    return registered_handbook(tmp_path / "handbook", people, T0, "")


def sign(root: Path, person: Person, meaning: Meaning, at: datetime) -> None:
    approve(load_config(root), DOC, meaning, UserKeys(person.home, (faked(at),)),
            person.fingerprint, now=at)  # fmt: skip


def test_key_that_expired_after_signing_still_verifies(
    repo: Path, people: dict[str, Person], capsys: pytest.CaptureFixture[str]
) -> None:
    hour = timedelta(hours=1)
    sign(repo, people["author"], Meaning.AUTHORED, T0 + hour)
    sign(repo, people["reviewer"], Meaning.REVIEWED, T0 + 2 * hour)
    sign(repo, people["approver"], Meaning.APPROVED, T0 + 3 * hour)
    code = main(["--root", str(repo), "verify", DOC])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "EFFECTIVE" in out
    assert "approved Quinn Approver" in out and "(key since expired)" in out


def test_signature_after_the_registration_ended_fails(
    repo: Path, people: dict[str, Person], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hour = timedelta(hours=1)
    temp = make_person("Tess Temporary", tmp_path, options=(faked(T0),))
    try:
        config = load_config(repo)
        add_signer(
            config, temp.public_key.read_bytes(), temp.name, temp.email, ["qa"],
            people["admin"].fingerprint, UserKeys(people["admin"].home, (faked(T0),)), T0,
            valid_until=T0 + timedelta(days=1),
        )  # fmt: skip
        sign(repo, people["author"], Meaning.AUTHORED, T0 + hour)
        sign(repo, people["reviewer"], Meaning.REVIEWED, T0 + 2 * hour)
        late = T0 + timedelta(days=2)
        with pytest.raises(QmsError, match="registration ended"):
            sign(repo, temp, Meaning.APPROVED, late)  # approve refuses it outright
        # A statement signed by gpg after the registration ended, filed by hand:
        content = (repo / "docs/policies/pol-acc-001.md").read_bytes()
        statement = Statement(
            document_id=DOC, version="2.0", content_sha256=hashlib.sha256(content).hexdigest(),
            meaning=Meaning.APPROVED, signer_name=temp.name,
            signer_fingerprint=temp.fingerprint, role="qa", signed_at=late,
            commit=git.Repo(repo).head.commit.hexsha,
        )  # fmt: skip
        data = statement.to_bytes()
        path = SignatureLayout.of(config).statement_file(statement)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        signature = temp.gpg(faked(late)).sign(data, keyid=temp.fingerprint, detach=True)
        SignatureLayout.signature_of(path).write_bytes(signature.data)
        code = main(["--root", str(repo), "verify", DOC])
        out = capsys.readouterr().out
        assert code == 1
        assert "signed after Tess Temporary's registration ended at " in out
        assert "IN REVIEW" in out
    finally:
        remove_home(temp)


def test_an_expired_key_is_refused_in_one_line_and_not_registered(
    repo: Path, tmp_path: Path, people: dict[str, Person], capsys: pytest.CaptureFixture[str]
) -> None:
    # Made twenty days ago with a one-day life: expired for nineteen days now.
    made = T0 - timedelta(days=10)
    late = make_person("Lee Late", tmp_path, options=(faked(made),), expire="1d")
    registry = repo / "signatures" / "signers.yaml"
    before = registry.read_bytes()
    try:
        code = main([
            "--root", str(repo), "signers", "add", str(late.public_key), "--name", late.name,
            "--email", late.email, "--role", "qa",
            "--key", people["admin"].fingerprint, "--gnupghome", str(people["admin"].home), "--yes",
        ])  # fmt: skip
    finally:
        remove_home(late)
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    [line] = err.splitlines()
    assert f"key {late.fingerprint} expired at " in line
    assert "Traceback" not in err
    assert registry.read_bytes() == before
