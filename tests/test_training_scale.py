"""Training at scale: what runs keep of gpg's answers (verified signatures, key files), and
what they may not do with it."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git
import gnupg
import pytest

from qms.adapters import gpg as gpg_adapter
from qms.adapters.files import files_under
from qms.adapters.gpg import Keyring, fingerprints_in, hermetic_keyring
from qms.adapters.verified_cache import FORMAT, entry_key
from qms.cli.output import print_json
from qms.config import load_config
from qms.model.parsing import bracket_depth
from qms.services.layout import SignatureLayout
from qms.services.signatures import CACHE, KEY_FILES, KEYBOX
from qms.services.verify import verify_handbook
from tests.keys import make_person, remove_home
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


@pytest.fixture
def imports(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many keys each gpg import of a hermetic keyring was given (gpg still imports)."""
    given: list[int] = []
    import_keys = gnupg.GPG.import_keys

    def counted(self: gnupg.GPG, key_data: Any, *args: Any, **kwargs: Any) -> Any:
        given.append(bytes(key_data).count(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"))
        return import_keys(self, key_data, *args, **kwargs)

    monkeypatch.setattr(gnupg.GPG, "import_keys", counted)
    return given


def key_files(root: Path) -> list[Path]:
    layout = SignatureLayout.of(load_config(root))
    return [p for folder in layout.key_folders for p in sorted(folder.glob("*.asc"))]


def test_key_files_read_before_are_not_imported_one_by_one_again(
    repo: Path,
    staff: Staff,
    gpg_calls: list[Path],
    imports: list[int],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    code, _, err = qms(capsys, repo, "training", "ack", DOC, *as_(staff.ana))
    assert code == 0, err
    files = key_files(repo)
    assert any(p.parent.name == "keys" and p.parent.parent.name == "training" for p in files)
    imports.clear()
    fresh(gpg_calls)
    code, cold = status(capsys, repo)
    assert code == 0 and imports == [1] * len(files)  # each file alone, as without a cache
    kept = json.loads((Path(git.Repo(repo).git_dir) / KEY_FILES).read_text())
    # What gpg read in each file's exact bytes, by their SHA-256.
    assert kept["entries"]["fingerprints"] == {
        hashlib.sha256(p.read_bytes()).hexdigest(): list(fingerprints_in(p.read_bytes()))
        for p in files
    }
    # The keybox gpg built from exactly these files is used as it is: nothing imported.
    imports.clear()
    fresh(gpg_calls)
    code, warm = status(capsys, repo)
    assert code == 0 and warm == cold and imports == []

    # A new hire's key: the files read before go to gpg in one call, the new one alone.
    newcomer = make_person("Nia Novak", tmp_path)
    try:
        layout = SignatureLayout.of(load_config(repo))
        shutil.copy(newcomer.public_key, layout.staff_key_file(newcomer.fingerprint))
        imports.clear()
        fresh(gpg_calls)
        code, rows = status(capsys, repo)
        assert code == 0 and rows == cold
        # The files before it in one call, it alone, those after it in one call.
        assert sum(imports) == len(files) + 1 and 1 in imports and len(imports) <= 3
        code, independent = status(capsys, repo, "--no-cache")
        assert code == 0 and independent == rows
    finally:
        remove_home(newcomer)


def test_a_tampered_key_file_record_or_keybox_is_not_believed(
    repo: Path,
    staff: Staff,
    gpg_calls: list[Path],
    imports: list[int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = qms(capsys, repo, "training", "ack", DOC, *as_(staff.ana))
    assert code == 0, err
    fresh(gpg_calls)
    code, rows = status(capsys, repo)
    assert code == 0 and state_of(rows, "E1001") == "done"
    git_dir = Path(git.Repo(repo).git_dir)
    record_path, keybox = git_dir / KEY_FILES, git_dir / KEYBOX
    true_record = json.loads(record_path.read_text())
    files = key_files(repo)
    [ana_file] = [p for p in files if staff.ana.fingerprint in fingerprints_in(p.read_bytes())]
    ana_digest = hashlib.sha256(ana_file.read_bytes()).hexdigest()

    # 1. A keybox damaged on disk: its bytes no longer match its record.
    keybox.write_bytes(keybox.read_bytes()[:-64])
    # 2. A keybox of other keys (here: without Ana's), its record made to match.
    with tempfile.TemporaryDirectory(prefix="qt-") as scratch:
        gpg = gnupg.GPG(gnupghome=scratch)
        for path in files:
            if path != ana_file:
                gpg.import_keys(path.read_bytes())
        other = (Path(scratch) / "pubring.kbx").read_bytes()
    forged = json.loads(json.dumps(true_record))
    forged["entries"]["keyring"]["last"]["sha256"] = hashlib.sha256(other).hexdigest()
    # 3. Ana's key file said to hold HR's key.
    swapped = json.loads(json.dumps(true_record))
    swapped["entries"]["fingerprints"][ana_digest] = [staff.hanna.fingerprint]
    del swapped["entries"]["keyring"]
    alone = [1] * len(files)
    # (keybox, its record, the imports expected: the keybox not used, the files read
    # before in one call; or gpg finding otherwise, every file alone again).
    for keybox_bytes, record, expected in (
        (keybox.read_bytes(), true_record, [len(files)]),
        (other, forged, [len(files)]),
        (None, swapped, [len(files), *alone]),
        (b"", {"format": "qms-parsed/0", "entries": []}, alone),
    ):
        if keybox_bytes is None:
            keybox.unlink(missing_ok=True)
        else:
            keybox.write_bytes(keybox_bytes)
        record_path.write_text(json.dumps(record))
        imports.clear()
        fresh(gpg_calls)
        code, again = status(capsys, repo)
        # Not believed: the same matrix (Ana's acknowledgement verified with her key)...
        assert code == 0 and again == rows and imports == expected
        # ...and what gpg read is what is kept again.
        rewritten = json.loads(record_path.read_text())["entries"]["fingerprints"]
        assert rewritten == true_record["entries"]["fingerprints"]
    # --no-cache reads none of it, and finds the same.
    code, independent = status(capsys, repo, "--no-cache")
    assert code == 0 and independent == rows


def test_records_are_listed_in_path_order(tmp_path: Path) -> None:
    names = ("2026/b.json", "2026/a.json", "2026-x/a.json", "2026.json", "a.json",
             "2025/deep/z.json", "2026/a.json.asc", "b.txt", "2026/sub.json/c.json")  # fmt: skip
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    expected = sorted(p for p in tmp_path.rglob("*.json") if p.is_file())
    assert files_under(tmp_path, ".json") == expected
    assert files_under(tmp_path / "missing", ".json") == []


def test_rows_of_text_print_as_the_json_encoder_writes_them() -> None:
    rows = [
        {"b": 'quote " backslash \\ é \u2028 \n\t\x00', "a": "", "ü": "ß"},
        {},
        *({"employee": f"E{n}", "state": "done"} for n in range(5000)),
    ]
    for data in (rows, rows[:1], rows[1:2], [{"a": "b", "n": 1}], [], {"a": "b"}):
        written = io.StringIO()
        print_json(data, written)
        assert (
            written.getvalue()
            == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )


def test_a_reused_keybox_still_names_a_key_file_that_holds_no_key(
    repo: Path, gpg_calls: list[Path], imports: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    broken = SignatureLayout.of(load_config(repo)).staff_keys / "0000000000000000.asc"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text("not a key\n")
    for run in ("cold", "warm"):
        imports.clear()
        fresh(gpg_calls)
        code, _, err = qms(capsys, repo, "training", "status")
        assert code == 1 and "0000000000000000.asc: not a valid public key" in err, run
        assert (imports != []) == (run == "cold")  # warm: the keybox gpg built, reused
