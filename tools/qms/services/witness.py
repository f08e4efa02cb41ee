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
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from qms.adapters.files import write_atomic
from qms.adapters.git import Repository
from qms.adapters.http import fetch, is_url
from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.findings import Finding
from qms.model.parsing import load_json
from qms.model.release import Manifest
from qms.model.signers import Registry
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


def _save(repo: Repository, data: dict[str, Any]) -> None:
    write_atomic(repo.git_dir / MARK, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())


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
    _save(repo, data)


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
    _save(repo, data)
    record_high_water(config, repo, now)
    return acceptance


def _fetch_release(base: str, into: Path) -> None:
    """Copy a published release's manifest and control files from `base` into `into`.

    Only what the manifest's signatures need: the registry and its revisions, the keys it
    names and the release signatures. Names that are not listed anywhere (a revision's
    and a release's signature files) are tried for every registered key.
    """

    def get(path: str, required: bool = False) -> bytes | None:
        data = fetch(base, path)
        if data is None and required:
            raise QmsError(f"{base} has no {path}", "point --witness at a published release")
        if data is not None:
            write_atomic(into / path, data)
        return data

    manifest = Manifest.from_bytes(get("manifest.json", required=True) or b"")
    registry = Registry.from_bytes(get("signatures/signers.yaml", required=True) or b"", base)
    keys = sorted({e.fingerprint for e in registry.signers} | set(manifest.trust_roots))
    for fingerprint in keys:
        get(f"signatures/keys/{fingerprint}.asc")
    for number in range(1, registry.revision + 1):
        get(f"signatures/registry/{number:04d}.yaml", required=True)
        for fingerprint in keys:
            get(f"signatures/registry/{number:04d}.{fingerprint[-16:]}.asc")
    for role in manifest.signer_roles:
        for fingerprint in keys:
            get(f"signatures/release/{role}--{fingerprint[-16:]}.asc")


def _releases_at(target: str) -> list[tuple[str, Path | None]]:
    """(name or URL, local folder) of every release a --witness argument names."""
    if is_url(target):
        if fetch(target, "manifest.json") is not None:
            return [(target, None)]
        index = fetch(target, "index.html")
        if index is None:
            raise QmsError(f"{target} has no release and no index.html", "check the address")
        names = sorted(set(re.findall(r'href="\./([A-Za-z0-9][A-Za-z0-9._-]*)/', index.decode())))
        return [(urljoin(target.rstrip("/") + "/", name + "/"), None) for name in names]
    folder = Path(target)
    if not folder.is_dir():
        raise QmsError(f"no folder {folder}", "point --witness at the published releases")
    if (folder / "manifest.json").is_file():
        return [(folder.name, folder)]
    return [(p.name, p) for p in sorted(folder.iterdir()) if (p / "manifest.json").is_file()]


def check_witness(config: QmsConfig, target: str) -> list[Finding]:
    """Check the handbook against every published release at `target` (or `target` itself).

    `target` is a folder (the publish target, or one release) or an http(s) address. A
    release counts as a witness only when it verifies against the handbook's trust roots
    (a folder: every file; an address: the manifest and its signatures); each file its
    manifest attests must still be in the handbook, unchanged, and so must the release's
    own manifest.
    """
    from qms.services.release import verify_release_folder  # releases import this module

    releases = _releases_at(target)
    if not releases:
        raise QmsError(f"{target} holds no published release", "point at the publish target")
    current = witnessed_files(config)
    findings: list[Finding] = []
    for name, folder in releases:
        with tempfile.TemporaryDirectory(prefix="qms-witness-") as scratch:
            try:
                if folder is None:
                    folder = Path(scratch)
                    _fetch_release(name, folder)
                    problems = verify_release_folder(folder, config.trust_roots, output=False)
                else:
                    problems = verify_release_folder(folder, config.trust_roots)
                data = (folder / "manifest.json").read_bytes()
                manifest = Manifest.from_bytes(data)
            except (ValueError, QmsError) as exc:
                findings.append(Finding(name, None, f"not a witness: {exc}", "witness"))
                continue
        if problems:
            message = f"not a witness, it does not verify: {problems[0].render()}"
            findings.append(Finding(name, None, message, "witness"))
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
