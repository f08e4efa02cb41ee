"""Trusted time: real RFC 3161 tokens from a TSA on loopback, real gpg, real git."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import git
import pytest

from qms.adapters.gpg import UserKeys
from qms.adapters.tsa import request_token
from qms.cli.main import main
from qms.config import load_config
from qms.errors import ConfigError, RefusedError
from qms.model.approval import Meaning
from qms.model.timestamp_policy import TimestampAuthority
from qms.services.approve import approve
from qms.services.layout import SignatureLayout
from qms.services.signers import approve_policy, revoke_signer
from tests.faked_clock import faked, faked_people, registered_handbook
from tests.keys import Person
from tests.release_repo import make_release_repo, publish_signed
from tests.signing_repo import Team, run, team
from tests.tsa_server import LoopbackTsa, make_tsa_files, running_tsa

__all__ = ["team"]

DOC = "POL-ACC-001"
# Keys and registrations date from a day ago, so that back-dated signatures are possible.
T0 = (datetime.now(tz=UTC) - timedelta(days=1)).replace(microsecond=0)


def timestamps(need: str, tolerance: int = 300, kind: str = "approval") -> str:
    return textwrap.dedent(
        f"""\
        [tool.qms.timestamps]
        tolerance_seconds = {tolerance}
        kinds = {{ {kind} = "{need}" }}
        [[tool.qms.timestamps.authorities]]
        name = "Test TSA"
        url = "{{url}}"
        certificates = "signatures/tsa/test-tsa.pem"
        """
    )


@pytest.fixture
def people(tmp_path: Path) -> Iterator[dict[str, Person]]:
    yield from faked_people(tmp_path, T0)


@pytest.fixture
def tsa(tmp_path: Path) -> Iterator[LoopbackTsa]:
    with running_tsa(tmp_path / "tsa") as running:
        yield running


def make_handbook(tmp_path: Path, people: dict[str, Person], tsa: LoopbackTsa, table: str) -> Path:
    """A committed handbook whose registry revision 1 approves `table` as its policy."""
    root = tmp_path / "handbook"
    (root / "signatures/tsa").mkdir(parents=True)
    (root / "signatures/tsa/test-tsa.pem").write_text(tsa.ca_pem)
    return registered_handbook(root, people, T0, table.replace("{url}", tsa.url))


def sign(root: Path, person: Person, meaning: Meaning, at: datetime | None = None) -> Path:
    """Sign as `person` (at `at` on a faked clock); the signature file written."""
    options = (faked(at),) if at is not None else ()
    approval = approve(load_config(root), DOC, meaning, UserKeys(person.home, options),
                       person.fingerprint, now=at or datetime.now(tz=UTC))  # fmt: skip
    return SignatureLayout.signature_of(approval.statement_path)


def verify(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(["--root", str(root), "verify", DOC, "--json"])
    return code, json.loads(capsys.readouterr().out)


def signatures(report: dict[str, object]) -> list[dict[str, str]]:
    documents = report["documents"]
    assert isinstance(documents, list)
    found: list[dict[str, str]] = documents[0]["signatures"]
    return found


def findings(report: dict[str, object]) -> str:
    """Every problem the report names, as one text."""
    return json.dumps(report["documents"])


def test_a_valid_token_makes_the_time_trusted(
    tmp_path: Path, people: dict[str, Person], tsa: LoopbackTsa, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_handbook(tmp_path, people, tsa, timestamps("optional"))
    signature = sign(root, people["author"], Meaning.AUTHORED)
    token = SignatureLayout.token_of(signature)
    assert token.is_file()
    assert token.name.endswith(".json.tsr")
    # Filed in the signing commit, beside the signature.
    assert not git.Repo(root).is_dirty(untracked_files=True)
    code, report = verify(root, capsys)
    assert code == 0, report
    assert [s["time_source"] for s in signatures(report)] == ["time trusted (TSA Test TSA)"]
    capsys.readouterr()
    assert main(["--root", str(root), "verify", DOC]) == 0
    assert "time trusted (TSA Test TSA)" in capsys.readouterr().out
    # The page's signature table says so too.
    assert main(["--root", str(root), "build"]) == 0
    html = (root / "_build/html/policies/pol-acc-001.html").read_text(encoding="utf-8")
    block = html[html.index('class="qms-signatures') :]
    block = block[: block.index("</table>")]
    assert "<p>time trusted (TSA Test TSA)</p>" in block


def test_a_token_over_other_bytes_is_a_finding(
    tmp_path: Path, people: dict[str, Person], tsa: LoopbackTsa, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_handbook(tmp_path, people, tsa, timestamps("optional"))
    first = sign(root, people["author"], Meaning.AUTHORED)
    second = sign(root, people["reviewer"], Meaning.REVIEWED)
    # The reviewer's token replaced by the author's: the imprint no longer matches.
    SignatureLayout.token_of(second).write_bytes(SignatureLayout.token_of(first).read_bytes())
    code, report = verify(root, capsys)
    assert code == 1
    assert "covers other bytes than this signature" in findings(report)


def test_a_token_from_an_unpinned_tsa_is_a_finding(
    tmp_path: Path, people: dict[str, Person], tsa: LoopbackTsa, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_handbook(tmp_path, people, tsa, timestamps("optional"))
    signature = sign(root, people["author"], Meaning.AUTHORED)
    with running_tsa(tmp_path / "rogue", "Rogue TSA") as rogue:
        authority = TimestampAuthority("Rogue", rogue.url, rogue.ca_pem)
        token = request_token(authority, signature.read_bytes())
    SignatureLayout.token_of(signature).write_bytes(token)
    code, report = verify(root, capsys)
    assert code == 1
    assert "does not verify against a pinned TSA (pinned: Test TSA)" in findings(report)


def test_a_token_outside_the_tolerance_is_a_finding(
    tmp_path: Path, people: dict[str, Person], tsa: LoopbackTsa, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_handbook(tmp_path, people, tsa, timestamps("optional", tolerance=600))
    # The signer's clock is an hour slow; the TSA's is not.
    sign(root, people["author"], Meaning.AUTHORED, datetime.now(tz=UTC) - timedelta(hours=1))
    code, report = verify(root, capsys)
    assert code == 1
    text = findings(report)
    assert "(tolerance 600 s)" in text and "stamped it at" in text


def test_a_back_dated_signature_after_revocation_is_caught(
    tmp_path: Path, people: dict[str, Person], tsa: LoopbackTsa, capsys: pytest.CaptureFixture[str]
) -> None:
    # A tolerance of a day, so that only the revocation can catch it.
    root = make_handbook(tmp_path, people, tsa, timestamps("optional", tolerance=86400))
    now = datetime.now(tz=UTC).replace(microsecond=0)
    revoke_signer(
        load_config(root), people["author"].fingerprint, now - timedelta(minutes=30),
        "laptop stolen", people["admin"].fingerprint, UserKeys(people["admin"].home), now,
    )  # fmt: skip
    # The thief sets the clock back to before the revocation and signs.
    signature = sign(root, people["author"], Meaning.AUTHORED, now - timedelta(hours=2))
    code, report = verify(root, capsys)
    assert code == 1
    assert "signed after Abe Author's key was revoked" in findings(report)
    assert signatures(report) == []
    # Without the token, the claimed time would have passed: the token is what caught it
    # (removing it is reported as an altered signature file, not as the revocation).
    SignatureLayout.token_of(signature).unlink()
    code, report = verify(root, capsys)
    assert "was revoked" not in findings(report)
    assert [s["time_source"] for s in signatures(report)] == ["time as claimed by the signer"]
    assert "deleted in the working tree" in json.dumps(report["altered"])


def test_a_required_tsa_that_is_down_refuses_and_writes_nothing(
    tmp_path: Path, people: dict[str, Person], capsys: pytest.CaptureFixture[str]
) -> None:
    with running_tsa(tmp_path / "tsa") as tsa:
        root = make_handbook(tmp_path, people, tsa, timestamps("required"))
    # The TSA has stopped answering.
    before = sorted(p for p in (root / "signatures").rglob("*"))
    head = git.Repo(root).head.commit.hexsha
    with pytest.raises(RefusedError, match="requires a trusted time for approval signatures"):
        sign(root, people["author"], Meaning.AUTHORED)
    capsys.readouterr()
    code = main(["--root", str(root), "approve", DOC, "--meaning", "authored",
                 "--gnupghome", str(people["author"].home), "--yes"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert "TSA Test TSA did not answer" in err and "nothing was signed" in err
    assert sorted(p for p in (root / "signatures").rglob("*")) == before
    assert git.Repo(root).head.commit.hexsha == head


def test_an_optional_tsa_that_is_down_warns_and_signs(
    tmp_path: Path, people: dict[str, Person], capsys: pytest.CaptureFixture[str]
) -> None:
    with running_tsa(tmp_path / "tsa") as tsa:
        root = make_handbook(tmp_path, people, tsa, timestamps("optional"))
    capsys.readouterr()
    code = main(["--root", str(root), "approve", DOC, "--meaning", "authored",
                 "--gnupghome", str(people["author"].home), "--yes"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert err.startswith("qms: warning: TSA Test TSA did not answer")
    assert "time as claimed by this machine's clock" in err
    approvals = SignatureLayout.of(load_config(root)).document_folder(DOC)
    assert len(list(approvals.rglob("*.asc"))) == 1
    assert not list(approvals.rglob("*.tsr"))


def test_signatures_made_before_a_tsa_keep_verifying_and_can_be_stamped_later(
    tmp_path: Path, people: dict[str, Person], tsa: LoopbackTsa, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_handbook(tmp_path, people, tsa, "")
    signature = sign(root, people["author"], Meaning.AUTHORED)
    assert not SignatureLayout.token_of(signature).exists()
    # The TSA is adopted later, through the registry like any policy change.
    pyproject = root / "pyproject.toml"
    table = timestamps("optional", kind='approval = "optional", registry')
    pyproject.write_text(pyproject.read_text() + table.replace("{url}", tsa.url))
    git.Repo(root).index.add(["pyproject.toml"])
    git.Repo(root).index.commit("Adopt a TSA")
    _, change = approve_policy(
        load_config(root), people["admin"].fingerprint, UserKeys(people["admin"].home),
        datetime.now(tz=UTC),
    )  # fmt: skip
    # The revision that adopts the TSA is stamped itself, as the policy it approves asks.
    layout = SignatureLayout.of(load_config(root))
    revision = layout.revision_signature(change.registry.revision, people["admin"].fingerprint)
    assert SignatureLayout.token_of(revision).is_file()
    code, report = verify(root, capsys)
    assert code == 0, report
    assert signatures(report)[0]["time_source"] == "time as claimed by the signer"
    code = main(["--root", str(root), "timestamp", "--missing", "--json"])
    stamped = json.loads(capsys.readouterr().out)
    assert code == 0
    names = [Path(row["signature"]).name for row in stamped["stamped"]]
    assert signature.name in names and revision.name not in names
    assert SignatureLayout.token_of(signature, later=True).is_file()
    assert not git.Repo(root).is_dirty(untracked_files=True)
    code, report = verify(root, capsys)
    assert code == 0, report
    source = signatures(report)[0]["time_source"]
    assert source.startswith("time as claimed by the signer; existed no later than ")
    assert source.endswith("(TSA Test TSA)")
    # Nothing is left to stamp.
    assert main(["--root", str(root), "timestamp", "--missing"]) == 0
    assert "every signature carries a token already" in capsys.readouterr().out


def test_a_published_release_carries_its_tokens_and_verifies_them_offline(
    tmp_path: Path, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_tsa(tmp_path / "tsa") as tsa:

        def adopt(root: Path) -> None:
            (root / "signatures/tsa").mkdir(parents=True)
            (root / "signatures/tsa/test-tsa.pem").write_text(tsa.ca_pem)
            table = timestamps("required", kind="release").replace("{url}", tsa.url)
            with (root / "pyproject.toml").open("a") as handle:
                handle.write("\n" + table)

        repo = make_release_repo(tmp_path, team, capsys, adopt)
        published = publish_signed(capsys, repo, team, tmp_path)
    # The TSA is gone: the folder verifies with what it holds (the registry pins the chain).
    folder = published / "R1"
    tokens = sorted(p.name for p in (folder / "signatures/release").glob("*.tsr"))
    assert len(tokens) == 2
    assert "BEGIN CERTIFICATE" in (folder / "signatures/signers.yaml").read_text()
    code, out, err = run(capsys, "release", "verify", str(folder))
    assert code == 0, out + err
    # Swapped tokens no longer cover their signatures.
    first, second = (folder / "signatures/release" / name for name in tokens)
    one, other = first.read_bytes(), second.read_bytes()
    first.write_bytes(other)
    second.write_bytes(one)
    code, out, err = run(capsys, "release", "verify", str(folder))
    assert code == 1
    assert "signature does not verify for its role" in out + err


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('kinds = { approvals = "optional" }', "has an unknown statement kind approvals"),
        ('kinds = { approval = "sometimes" }', 'is "required", "optional" or "off"'),
        ('certificates = "signatures/tsa/none.pem"', "cannot read signatures/tsa/none.pem"),
    ],
)
def test_a_misconfigured_tsa_is_named_in_one_line(tmp_path: Path, table: str, message: str) -> None:
    (tmp_path / "signatures/tsa").mkdir(parents=True)
    (tmp_path / "signatures/tsa/test-tsa.pem").write_text(make_tsa_files(tmp_path / "ca"))
    text = timestamps("optional").replace("{url}", "http://127.0.0.1:9/tsr")
    key = table.split(" = ")[0]
    text = "\n".join(table if line.startswith(f"{key} = ") else line for line in text.splitlines())
    (tmp_path / "pyproject.toml").write_text(f"[tool.qms]\n{text}\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(tmp_path)


def test_a_required_token_removed_after_signing_makes_the_signature_count_no_more(
    tmp_path: Path, people: dict[str, Person], tsa: LoopbackTsa, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_handbook(tmp_path, people, tsa, timestamps("required"))
    signature = sign(root, people["author"], Meaning.AUTHORED)
    assert verify(root, capsys)[0] == 0
    # Without its token the time is only the signer's claim, which a revoked key would
    # set back: the signature no longer counts.
    SignatureLayout.token_of(signature).unlink()
    code, report = verify(root, capsys)
    assert code == 1
    assert "requires a trusted time-stamp on approval signatures" in findings(report)


def test_stamping_later_asks_only_a_tsa_the_approved_policy_pins(
    tmp_path: Path, people: dict[str, Person], tsa: LoopbackTsa, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_handbook(tmp_path, people, tsa, "")
    signature = sign(root, people["author"], Meaning.AUTHORED)
    # The TSA is named in the working copy, but no registry administrator approved it.
    pyproject = root / "pyproject.toml"
    table = timestamps("optional", kind='approval = "optional", registry')
    pyproject.write_text(pyproject.read_text() + table.replace("{url}", tsa.url))
    capsys.readouterr()
    code = main(["--root", str(root), "timestamp", "--missing"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "the approved signing policy names no TSA" in err and "qms signers policy" in err
    assert not SignatureLayout.token_of(signature, later=True).exists()


def test_stamping_later_with_the_tsa_down_writes_nothing(
    tmp_path: Path, people: dict[str, Person], capsys: pytest.CaptureFixture[str]
) -> None:
    with running_tsa(tmp_path / "tsa") as tsa:
        root = make_handbook(tmp_path, people, tsa, timestamps("optional", kind="retirement"))
        sign(root, people["author"], Meaning.AUTHORED)
        sign(root, people["reviewer"], Meaning.REVIEWED)
        git.Repo(root).git.add(A=True)
        git.Repo(root).index.commit("Two signatures without tokens")
    # The TSA has stopped answering: neither signature gets a token, nothing is committed.
    head = git.Repo(root).head.commit.hexsha
    before = sorted((root / "signatures").rglob("*"))
    capsys.readouterr()
    code = main(["--root", str(root), "timestamp", "--missing"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "did not answer" in err and "nothing was written" in err
    assert len(err.strip().splitlines()) == 1, err
    assert sorted((root / "signatures").rglob("*")) == before
    assert git.Repo(root).head.commit.hexsha == head
