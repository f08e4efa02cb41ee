"""Witnesses outside the branch: this clone's high-water mark, and published releases.

The high-water mark lives in the clone's git folder (qms/high-water.json), one entry per
branch: the commit last verified clean and every signature file it held. A later verify
on that branch fails when a witnessed file is gone or changed, or when the branch no
longer descends, along its own first-parent line, from that commit (a rebase, a reset, a
force-push, or old history merged back). A detached HEAD (looking at an old commit) is
not judged. A published release witnesses the files its manifest lists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from qms.adapters.files import write_atomic
from qms.adapters.git import Repository
from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.findings import Finding
from qms.model.parsing import load_json
from qms.model.release import Manifest
from qms.model.timeutil import display_utc, format_utc
from qms.model.witness import Acceptance, Loss, Snapshot, losses
from qms.services.content import sha256_of

MARK = Path("qms") / "high-water.json"
CODE = "rollback"


def witnessed_files(config: QmsConfig) -> dict[str, str]:
    """Every append-only signature file: path (from the handbook root) -> SHA-256.

    Keys (a revocation may be appended) and the live registry file change legitimately;
    everything else under signatures/ is only ever added.
    """
    base = config.signatures_path
    if not base.is_dir():
        return {}
    found = {}
    for path in sorted(p for p in base.rglob("*") if p.is_file() and not p.is_symlink()):
        relative = path.relative_to(config.root).as_posix()
        if relative.startswith("signatures/keys/") or relative == "signatures/signers.yaml":
            continue
        found[relative] = sha256_of(path.read_bytes())
    return found


@dataclass(frozen=True)
class HighWater:
    """The outcome of checking a clone's high-water mark."""

    branch: str | None
    previous: Snapshot | None
    findings: tuple[Finding, ...]
    lost: tuple[Loss, ...]


def _load(repo: Repository) -> dict[str, Any]:
    path = repo.git_dir / MARK
    if not path.is_file():
        return {"branches": {}, "accepted": []}
    try:
        data = load_json(path.read_bytes())
        if not isinstance(data, dict) or not isinstance(data.get("branches"), dict):
            raise ValueError("not a high-water mark")
    except ValueError as exc:
        raise QmsError(
            f"{path} is damaged ({exc})",
            "restore it from a backup, or delete it to start a new mark (that forgets what "
            "this clone has seen)",
        ) from exc
    data.setdefault("accepted", [])
    return data


def check_high_water(config: QmsConfig, repo: Repository) -> HighWater:
    """Compare the branch with what this clone last verified on it."""
    branch = repo.branch()
    if branch is None:
        return HighWater(None, None, (), ())
    raw = _load(repo)["branches"].get(branch)
    if raw is None:
        return HighWater(branch, None, (), ())
    previous = Snapshot.from_dict(raw)
    lost = losses(previous.files, witnessed_files(config))
    when = previous.seen_at or "before"
    findings = [
        Finding(
            loss.path,
            None,
            f"{'is gone' if loss.change == 'gone' else 'changed'} since this clone verified "
            f"branch {branch} at commit {previous.head[:12]} ({when}): the history was rolled "
            "back or rewritten; if that was deliberate, run 'qms verify --accept-rollback "
            "--reason TEXT'",
            CODE,
        )
        for loss in lost
    ]
    if previous.head and previous.head not in repo.first_parents():
        findings.append(
            Finding(
                "(git history)",
                None,
                f"branch {branch} no longer descends from commit {previous.head[:12]}, which "
                f"this clone verified ({when}): it was rebased, reset or force-pushed, or old "
                "history was merged back; if that was deliberate, run 'qms verify "
                "--accept-rollback --reason TEXT'",
                CODE,
            )
        )
    return HighWater(branch, previous, tuple(findings), tuple(lost))


def record_high_water(config: QmsConfig, repo: Repository, now: datetime) -> None:
    """After a clean verify: this branch's mark becomes HEAD and its signature files."""
    branch, head = repo.branch(), repo.head()
    if branch is None or head is None:
        return
    data = _load(repo)
    data["branches"][branch] = Snapshot(
        head, tuple(witnessed_files(config).items()), display_utc(now)
    ).as_dict()
    write_atomic(repo.git_dir / MARK, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())


def accept_rollback(
    config: QmsConfig, repo: Repository, reason: str, checked: HighWater, now: datetime
) -> Acceptance:
    """Record that the branch's rollback was deliberate, then mark HEAD as seen."""
    if not reason.strip():
        raise QmsError("--accept-rollback needs --reason TEXT", "say why the history went back")
    if checked.branch is None:
        raise QmsError("HEAD is detached", "check out the branch whose rollback you accept")
    if not checked.findings:
        raise QmsError(
            f"branch {checked.branch} holds everything this clone verified on it",
            "there is no rollback to accept; run 'qms verify' alone",
        )
    lost = [f"{loss.path} ({loss.change})" for loss in checked.lost]
    if checked.previous is not None and checked.previous.head not in repo.first_parents():
        lost.append(f"commit {checked.previous.head} left the branch")
    acceptance = Acceptance(format_utc(now), repo.user_name(), checked.branch, reason, tuple(lost))
    data = _load(repo)
    data["accepted"].append(acceptance.as_dict())
    write_atomic(repo.git_dir / MARK, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())
    record_high_water(config, repo, now)
    return acceptance


def check_witness(config: QmsConfig, folder: Path) -> list[Finding]:
    """Check the handbook against every published release in `folder` (or `folder` itself).

    A release counts as a witness only when it verifies offline against the handbook's
    trust roots; each file its manifest attests must still be in the handbook, unchanged,
    and so must the release's own manifest.
    """
    from qms.services.release import verify_release_folder  # releases import this module

    if not folder.is_dir():
        raise QmsError(f"no folder {folder}", "point --witness at the published releases")
    releases = (
        [folder]
        if (folder / "manifest.json").is_file()
        else sorted(p for p in folder.iterdir() if (p / "manifest.json").is_file())
    )
    if not releases:
        raise QmsError(f"{folder} holds no published release", "point at the publish target")
    current = witnessed_files(config)
    findings: list[Finding] = []
    for release in releases:
        data = (release / "manifest.json").read_bytes()
        try:
            manifest = Manifest.from_bytes(data)
            problems = verify_release_folder(release, config.trust_roots)
        except (ValueError, QmsError) as exc:
            findings.append(Finding(release.name, None, f"not a witness: {exc}", "witness"))
            continue
        if problems:
            message = f"not a witness, it does not verify: {problems[0].render()}"
            findings.append(Finding(release.name, None, message, "witness"))
            continue
        own = f"signatures/releases/{manifest.name}/manifest.json"
        attested = (*manifest.witness, (own, sha256_of(data)))
        for loss in losses(tuple(attested), current):
            findings.append(
                Finding(
                    loss.path,
                    None,
                    f"{'is gone' if loss.change == 'gone' else 'changed'}, but published "
                    f"release {manifest.name} (commit {manifest.commit[:12]}) attests it: the "
                    "history was rolled back or rewritten after staff read that release",
                    "witness",
                )
            )
    return findings
