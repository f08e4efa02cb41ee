"""`qms release diff` between two real releases of the example handbook, signed with its
DEMO keys in a clone of this repository (real git history, real gpg)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import git
import gnupg
import pytest

from qms.model.frontmatter import parse_document
from tests.conftest import REPO
from tests.keys import short_tempdir
from tests.signing_repo import commit_all, run

DEMO = REPO / "tests/fixtures/demo-gnupg"
POLICY = "docs/policies/pol-isms-001.md"  # the public set's one document
# Who signs what under the example's rules: a policy is authored, reviewed by QA and
# approved by the CEO and the CIO; a release is signed by the ISMS Manager and QA.
PEOPLE = ("lena-vogt", "sarah-oneill", "katrin-hofmann", "thomas-brandt")
APPROVALS = (("authored", "lena-vogt"), ("reviewed", "sarah-oneill"),
             ("approved", "katrin-hofmann"), ("approved", "thomas-brandt"))  # fmt: skip


@pytest.fixture
def home() -> Iterator[tuple[Path, dict[str, str]]]:
    """A throwaway GnuPG home with the DEMO secret keys of the signers needed."""
    folder = short_tempdir("qd-")
    gpg = gnupg.GPG(gnupghome=str(folder))
    keys = {}
    for person in PEOPLE:
        imported = gpg.import_keys((DEMO / f"{person}.secret.asc").read_text(encoding="ascii"))
        keys[person] = str(imported.fingerprints[0])
    yield folder, keys
    shutil.rmtree(folder, ignore_errors=True)


def _example(tmp_path: Path) -> Path:
    if not (REPO / ".git").exists():
        pytest.skip("needs this repository's git history (run in a clone)")
    root = tmp_path / "example"
    repo = git.Repo.clone_from(str(REPO), str(root))
    with repo.config_writer() as config:
        config.set_value("user", "name", "Dr. Lena Vogt")
        config.set_value("user", "email", "lena.vogt@corvane.example")
    return root


def test_release_diff_between_two_releases_of_the_example(
    tmp_path: Path, home: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, keys = home
    root = _example(tmp_path)

    def qms(*argv: str) -> str:
        code, out, err = run(capsys, "--root", str(root), *argv)
        assert code == 0, err
        return out

    def signed(command: str, *argv: str, who: str) -> None:
        qms(command, *argv, "--key", keys[who], "--gnupghome", str(folder), "--yes")

    def release(name: str) -> None:
        qms("release", "create", name, "--set", "public")
        signed("release", "sign", name, who="lena-vogt")
        signed("release", "sign", name, who="sarah-oneill")

    before = parse_document(POLICY, (root / POLICY).read_text(encoding="utf-8")).document
    assert before is not None
    release("E1")
    path = root / POLICY
    text = path.read_text(encoding="utf-8")
    scope = "the Cork manufacturing and QC site and the Munich clinical operations office."
    assert scope in text
    path.write_text(text.replace(scope, scope[:-1] + " and the Lyon packaging site."), "utf-8")
    reason = "Lyon packaging site added to the ISMS scope"
    qms("bump", "POL-ISMS-001", "--reason", reason)
    commit_all(root, "POL-ISMS-001: Lyon packaging site")
    for meaning, who in APPROVALS:
        signed("approve", "POL-ISMS-001", "--meaning", meaning, who=who)
    release("E2")
    after = parse_document(POLICY, path.read_text(encoding="utf-8")).document
    assert after is not None and after.version > before.version

    diff = json.loads(qms("release", "diff", "E1", "E2", "--json"))
    assert diff["revised"] == [
        {
            "id": "POL-ISMS-001",
            "title": before.title,
            "old_version": str(before.version),
            "new_version": str(after.version),
            "change_reason": reason,
        }
    ]
    assert diff["superseded"] == [
        {"id": "POL-ISMS-001", "version": str(before.version), "in_force": str(after.version)}
    ]
    unchanged = [
        k for k in diff if isinstance(diff[k], list) and k not in ("revised", "superseded")
    ]
    assert unchanged and all(diff[k] == [] for k in unchanged)
    text_out = qms("release", "diff", "E1", "E2")
    assert f"POL-ISMS-001  {before.title}  {before.version}   {after.version}  {reason}" in text_out
