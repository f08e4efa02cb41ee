"""Training at scale: the cache of verified signatures across runs, and what it may not do."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import git
import pytest

from qms.adapters import gpg as gpg_adapter
from qms.adapters.gpg import Keyring, hermetic_keyring
from qms.adapters.verified_cache import FORMAT, entry_key
from qms.config import load_config
from qms.model.parsing import bracket_depth
from qms.services.layout import SignatureLayout
from qms.services.signatures import CACHE
from qms.services.verify import verify_handbook
from tests.test_training import DOC, Staff, as_, qms, repo, staff, state_of, status, team

__all__ = ["repo", "staff", "team"]


@pytest.fixture
def gpg_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """The signature files gpg is asked about; each qms run starts as a fresh process
    would, with nothing verified in memory."""
    calls: list[Path] = []
    ask_gpg = Keyring._verify

    def counted(self: Keyring, signature_path: Path, data: bytes) -> object:
        calls.append(signature_path)
        return ask_gpg(self, signature_path, data)

    monkeypatch.setattr(Keyring, "_verify", counted)
    gpg_adapter._VERIFIED.clear()
    yield calls
    gpg_adapter._VERIFIED.clear()


def fresh(calls: list[Path]) -> None:
    """Forget this process's verifications, as a new `qms` process starts."""
    gpg_adapter._VERIFIED.clear()
    calls.clear()


def cache_file(root: Path) -> Path:
    return Path(git.Repo(root).git_dir) / CACHE


def test_after_one_acknowledgement_only_its_signature_is_verified_again(
    repo: Path, staff: Staff, gpg_calls: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fresh(gpg_calls)
    code, cold = status(capsys, repo)
    assert code == 0 and len(gpg_calls) > 5  # registry, approvals, roster approval
    kept = json.loads(cache_file(repo).read_text())
    assert kept["format"] == FORMAT and len(kept["entries"]) == len(set(gpg_calls))
    # In the clone's git folder: nothing to commit, nothing a branch carries.
    assert git.Repo(repo).git.status("--porcelain") == ""

    fresh(gpg_calls)
    code, again = status(capsys, repo)
    assert code == 0 and again == cold and gpg_calls == []

    code, _, err = qms(capsys, repo, "training", "ack", DOC, *as_(staff.ana))
    assert code == 0, err
    fresh(gpg_calls)
    code, rows = status(capsys, repo)
    [record] = (repo / "signatures/training/records").rglob("*.json")
    assert code == 0 and gpg_calls == [SignatureLayout.signature_of(record)]
    assert state_of(rows, "E1001") == "done"

    # --no-cache asks gpg about every signature again, and finds the same.
    fresh(gpg_calls)
    code, independent = status(capsys, repo, "--no-cache")
    assert code == 0 and independent == rows and len(gpg_calls) > 5
    code, out, err = qms(capsys, repo, "verify", "--no-cache", "--json")
    assert code == 0, err + out


def test_a_damaged_or_foreign_cache_is_ignored_and_written_afresh(
    repo: Path, gpg_calls: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fresh(gpg_calls)
    code, rows = status(capsys, repo)
    assert code == 0
    asked = len(gpg_calls)
    kept = json.loads(cache_file(repo).read_text())
    for damaged in (b"{not json", json.dumps({**kept, "format": "qms-verified-signatures/0"})):
        cache_file(repo).write_bytes(damaged if isinstance(damaged, bytes) else damaged.encode())
        fresh(gpg_calls)
        code, again = status(capsys, repo)
        assert code == 0 and again == rows and len(gpg_calls) == asked
        assert json.loads(cache_file(repo).read_text()) == kept


def _plant_good(root: Path, signature: Path, data: bytes, fingerprint: str) -> None:
    """A cache entry claiming gpg found `signature` over `data` good."""
    config = load_config(root)
    with hermetic_keyring(*SignatureLayout.of(config).key_folders) as keyring:
        state, version = keyring.key_state(fingerprint), keyring.gpg_version
    item = hashlib.sha256(hashlib.sha256(signature.read_bytes()).digest() + data).hexdigest()
    path = cache_file(root)
    kept = json.loads(path.read_text())
    assert kept["gpg"] == version
    signed_at = json.loads(data)["signed_at"]
    kept["entries"][entry_key(item)] = [fingerprint, signed_at, None, state]
    path.write_text(json.dumps(kept))


def test_no_cache_and_a_release_verification_never_read_the_cache(
    repo: Path, staff: Staff, gpg_calls: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = qms(capsys, repo, "training", "ack", DOC, *as_(staff.ana))
    assert code == 0, err
    [record] = (repo / "signatures/training/records").rglob("*.json")
    # Ana's signature replaced by HR's over the roster approval: gpg finds it bad.
    [approval] = (repo / "signatures/training/roster-approvals").glob("*.json")
    signature = SignatureLayout.signature_of(record)
    signature.write_bytes(SignatureLayout.signature_of(approval).read_bytes())
    fresh(gpg_calls)
    code, rows = status(capsys, repo)
    assert code == 1 and state_of(rows, "E1001") == "overdue"
    # A forged entry is believed by a run that reads the cache: that is what the cache
    # trusts, the clone's own git folder...
    _plant_good(repo, signature, record.read_bytes(), staff.ana.fingerprint)
    fresh(gpg_calls)
    code, rows = status(capsys, repo)
    assert code == 0 and state_of(rows, "E1001") == "done"
    # ...and never by --no-cache, nor by verify as a release calls it (no cache).
    fresh(gpg_calls)
    code, rows = status(capsys, repo, "--no-cache")
    assert code == 1 and state_of(rows, "E1001") == "overdue"
    fresh(gpg_calls)
    facts = verify_handbook(load_config(repo), now=datetime.now(tz=UTC)).training_facts
    assert facts is not None and facts.completions == ()
    assert [f.path for f in facts.findings] == [record.relative_to(repo).as_posix()]


def test_the_json_depth_scan_reads_escapes_as_one_character() -> None:
    assert bracket_depth('["a\\\\", [[1]]]') == 3  # an escaped backslash ends the string
    assert bracket_depth('"\\"[[{"') == 0  # an escaped quote does not
    assert bracket_depth('{"a": "\\u005b", "b": [{}]}') == 3
