"""Publishing into a served folder: interrupted publishes, leftovers, the index, permissions."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.release_repo import publish_signed, sign
from tests.signing_repo import Team, run, team
from tests.test_release import repo

__all__ = ["repo", "team"]


def _published(target: Path) -> list[str]:
    """Release folders a reader can reach in `target` (not hidden)."""
    if not target.is_dir():
        return []
    return sorted(p.name for p in target.iterdir() if p.is_dir() and not p.name.startswith("."))


def _staging(target: Path) -> list[Path]:
    return sorted(target.glob(".qms-staging-*")) if target.is_dir() else []


# Moments to kill a publish at, each seen in the target folder while it runs; `before`
# is what staging the target held when the run started (left by the previous kill).
Moment = Callable[[Path, set[Path]], bool]
MOMENTS: list[tuple[str, Moment]] = [
    ("copying", lambda t, before: bool(set(_staging(t)) - before)),
    (
        "verifying",
        lambda t, before: any(
            (s / "signatures/release").is_dir() for s in set(_staging(t)) - before
        ),
    ),
    ("renamed", lambda t, before: (t / "R1").is_dir()),
]


def _kill_when(command: list[str], target: Path, moment: Moment) -> bool:
    """Run a publish and SIGKILL its process group at `moment`; False if it ended first."""
    before = set(_staging(target))
    child = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    try:
        while child.poll() is None and time.monotonic() < deadline:
            if moment(target, before):
                os.killpg(child.pid, signal.SIGKILL)
                return True
            time.sleep(0.002)
        return False
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def test_killed_publishes_leave_nothing_a_reader_can_reach(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "--root", str(repo), "release", "create", "R1", "--set", "policies")[0] == 0
    assert sign(capsys, repo, team.approver)[0] == 0
    assert sign(capsys, repo, team.reviewer)[0] == 0
    target = tmp_path / "site"
    command = [sys.executable, "-m", "qms", "--root", str(repo), "release", "publish", "R1",
               "--to", str(target)]  # fmt: skip
    killed = []
    for name, moment in MOMENTS:
        if _kill_when(command, target, moment):
            killed.append(name)
        # Whatever the moment, R1 is absent or complete: never a partial copy.
        if (target / "R1").exists():
            code, out, _ = run(capsys, "release", "verify", str(target / "R1"))
            assert code == 0, out
        else:
            assert _published(target) == []
        index = target / "index.html"
        assert not index.exists() or "R1/" not in index.read_text() or (target / "R1").is_dir()
    # On a loaded machine a publish may outrun the poll at one moment, never at all three.
    assert killed, "no publish was killed while it ran"
    # The next publish completes whatever the last kill left undone (here, maybe the index).
    code, _, err = run(capsys, "--root", str(repo), "release", "publish", "R1", "--to",
                       str(target))  # fmt: skip
    assert code == 0, err
    assert _staging(target) == []
    assert _published(target) == ["R1"]
    assert 'href="./R1/policies/index.html"' in (target / "index.html").read_text()


def test_the_next_publish_cleans_up_and_indexes_only_verified_releases(
    repo: Path, team: Team, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = publish_signed(capsys, repo, team, tmp_path)
    target = tmp_path / "site"
    target.mkdir()
    # What an interrupted publish leaves, and a partial copy someone put there by hand.
    shutil.copytree(first / "R1", target / ".qms-staging-R1-k3j9x2qa")
    (target / ".index.html.a1b2c3d4").write_text("<p>half</p>")
    # Not ours: a folder someone named like a staging folder, and a link to one.
    (target / ".qms-staging-notes").mkdir()
    (target / ".qms-staging-R1-linked99").symlink_to(first / "R1")
    # A copy under another name, and one whose link would run script.
    shutil.copytree(first / "R1", target / "R0")
    shutil.copytree(first / "R1", target / "javascript:alert(1)")
    code, out, err = run(capsys, "--root", str(repo), "release", "publish", "R1", "--to",
                         str(target))  # fmt: skip
    assert code == 0, err
    assert (
        "removed 2 leftovers of interrupted publishes: .index.html.a1b2c3d4, "
        ".qms-staging-R1-k3j9x2qa"
    ) in err
    assert "R0 left out of index.html: its manifest names another release" in err
    assert "javascript:alert(1) left out of index.html: release name" in err
    assert out.endswith("index.html lists 1 release\n")
    assert sorted(p.name for p in target.iterdir()) == [
        ".qms-publish.lock", ".qms-staging-R1-linked99", ".qms-staging-notes", "R0", "R1",
        "index.html", "javascript:alert(1)",
    ]  # fmt: skip
    index = target / "index.html"
    page = index.read_text()
    assert "./R1/policies/index.html" in page and "R0/" not in page and "javascript" not in page
    # Who signed the release, and when, in the one time format of the pages.
    assert "Sarah ONeill (qa), 20" in page and " UTC" in page and "Commit time" in page
    assert oct(index.stat().st_mode & 0o777) == "0o644"
    assert oct((target / "R1").stat().st_mode & 0o777) == "0o755"
    assert all(
        oct(p.stat().st_mode & 0o777) == ("0o755" if p.is_dir() else "0o644")
        for p in (target / "R1").rglob("*")
    )
