"""A signing repository with release sets, and a release of it signed and published."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import ROOTS
from tests.keys import Person
from tests.signing_repo import Output, Team, commit_all, make_signing_repo, run

SETS = """
[tool.qms.sets.staff]
title = "Staff handbook"
classifications = ["public", "internal"]

[tool.qms.sets.policies]
title = "Policy set"
types = ["policy"]
classifications = ["internal"]

[tool.qms.release]
signer_roles = ["qa", "reviewer"]
"""


def approve_fully(capsys: Output, root: Path, team: Team, doc: str) -> None:
    """Author, reviewer and approver sign `doc`, in that order."""
    for person, meaning in ((team.author, "authored"), (team.reviewer, "reviewed"),
                            (team.approver, "approved")):  # fmt: skip
        code, _, err = run(
            capsys, "--root", str(root), "approve", doc, "--meaning", meaning,
            "--key", person.fingerprint, "--gnupghome", str(person.home), "--yes",
        )  # fmt: skip
        assert code == 0, err


def make_release_repo(
    tmp_path: Path, team: Team, capsys: Output, edit: Callable[[Path], None] | None = None
) -> Path:
    """The test handbook with the release sets above and POL-ACC-001 approved (after `edit`)."""
    root = make_signing_repo(tmp_path, team, capsys, ROOTS / "test-handbook")
    with (root / "pyproject.toml").open("a") as handle:
        handle.write(SETS)
    if edit is not None:
        edit(root)
    commit_all(root, "Release sets")
    admin = ("--key", team.admin.fingerprint, "--gnupghome", str(team.admin.home), "--yes")
    code, _, err = run(capsys, "--root", str(root), "signers", "policy", *admin)
    assert code == 0, err  # the release signer roles changed: an administrator approves them
    approve_fully(capsys, root, team, "POL-ACC-001")
    return root


def sign(capsys: Output, root: Path, person: Person) -> tuple[int, str, str]:
    """`person` signs release R1."""
    return run(capsys, "--root", str(root), "release", "sign", "R1", "--key", person.fingerprint,
               "--gnupghome", str(person.home), "--yes")  # fmt: skip


def publish_signed(capsys: Output, repo: Path, team: Team, tmp_path: Path) -> Path:
    """Create release R1 of the policy set, sign it for both roles, publish it."""
    assert run(capsys, "--root", str(repo), "release", "create", "R1", "--set", "policies")[0] == 0
    sign(capsys, repo, team.approver)
    sign(capsys, repo, team.reviewer)
    published = tmp_path / "published"
    code = run(capsys, "--root", str(repo), "release", "publish", "R1", "--to", str(published))[0]
    assert code == 0
    return published
