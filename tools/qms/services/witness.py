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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from qms.adapters.files import write_atomic
from qms.adapters.git import Repository, open_repository
from qms.adapters.http import Client, is_url
from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.findings import Finding, FindingCode
from qms.model.parsing import load_json
from qms.model.release import Manifest
from qms.model.signers import Registry, normalise_fingerprint
from qms.model.timeutil import display_utc, format_utc
from qms.model.witness import PRESENT, Acceptance, Loss, Snapshot, losses
from qms.services.content import sha256_of
from qms.services.layout import SignatureLayout

MARK = Path("qms") / "high-water.json"


def witnessed_files(
    config: QmsConfig, tracked: frozenset[str] | None = None, keys: bool = False
) -> dict[str, str]:
    """Every append-only signature file: path (from the handbook root) -> SHA-256.

    The live registry and roster files change legitimately; everything else under
    signatures/ is only ever added. Keys may change (a revocation is appended) but never
    go: with `keys`, each is listed as PRESENT. With `tracked` (paths from the top of the
    working tree), only files git tracks count: an untracked file was never part of the
    branch.
    """
    base = config.signatures_path
    if not base.is_dir():
        return {}
    found = {}
    layout = SignatureLayout.of(config)
    live = set(layout.live_files)
    key_folders = layout.key_folders
    for path in sorted(p for p in base.rglob("*") if p.is_file() and not p.is_symlink()):
        relative = path.relative_to(config.root).as_posix()
        if path in live:
            continue
        if tracked is not None and relative not in tracked:
            continue
        if path.parent in key_folders:
            if keys:
                found[relative] = PRESENT
            continue
        found[relative] = sha256_of(path.read_bytes())
    return found


def _tracked(config: QmsConfig, repo: Repository) -> frozenset[str]:
    """Signature files git tracks, as paths from the handbook root."""
    prefix = config.root.resolve().relative_to(repo.root.resolve()).as_posix()
    lead = "" if prefix == "." else prefix + "/"
    return frozenset(p.removeprefix(lead) for p in repo.tracked(config.signatures_path))


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
    try:
        previous = Snapshot.from_dict(raw)
    except ValueError as exc:
        raise QmsError(
            f"{repo.git_dir / MARK} is damaged ({exc})",
            "restore it from a backup, or delete it to start a new mark",
        ) from exc
    lost = losses(previous.files, witnessed_files(config, keys=True))
    when = previous.seen_at or "before"
    findings = [
        Finding(
            loss.path,
            None,
            f"{'is gone' if loss.change == 'gone' else 'changed'} since this clone verified "
            f"branch {branch} at commit {previous.head[:12]} ({when}): the history was rolled "
            "back or rewritten; if that was deliberate, run 'qms verify --accept-rollback "
            "--reason TEXT'",
            FindingCode.ROLLBACK,
        )
        for loss in lost
    ]
    # Only a published commit's rewrite is someone else's doing: amending or rebasing
    # one's own unpushed work is not a rollback (lost files are still named above).
    if previous.published and previous.head not in repo.first_parents():
        findings.append(
            Finding(
                "(git history)",
                None,
                f"branch {branch} no longer descends from commit {previous.head[:12]}, which "
                f"this clone verified ({when}): it was rebased, reset or force-pushed, or old "
                "history was merged back; if that was deliberate, run 'qms verify "
                "--accept-rollback --reason TEXT'",
                FindingCode.ROLLBACK,
            )
        )
    return HighWater(branch, previous, tuple(findings), tuple(lost))


def record_high_water(config: QmsConfig, repo: Repository, now: datetime) -> None:
    """After a clean verify: this branch's mark becomes HEAD and its signature files."""
    branch, head = repo.branch(), repo.head()
    if branch is None or head is None:
        return
    data = _load(repo)
    files = witnessed_files(config, _tracked(config, repo), keys=True)
    data["branches"][branch] = Snapshot(
        head, tuple(files.items()), display_utc(now), repo.is_published(head)
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
    if any(f.path == "(git history)" for f in checked.findings) and checked.previous is not None:
        lost.append(f"commit {checked.previous.head} left the branch")
    acceptance = Acceptance(format_utc(now), repo.user_name(), checked.branch, reason, tuple(lost))
    data = _load(repo)
    data["accepted"].append(acceptance.as_dict())
    _save(repo, data)
    record_high_water(config, repo, now)
    return acceptance


@dataclass(frozen=True)
class Witnessed:
    """What this clone's mark and the witnesses said after one verify."""

    high_water: HighWater | None  # None outside a git repository
    witness: tuple[Finding, ...]
    accepted: Acceptance | None  # the rollback accepted by this run, if any

    @property
    def kept(self) -> tuple[Finding, ...]:
        """The mark's findings that stand (after any rollback accepted by this run)."""
        return self.high_water.findings if self.high_water is not None else ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The mark's findings, then the witnesses'."""
        return self.kept + self.witness

    def high_water_dict(self) -> dict[str, object]:
        """The mark's part of `qms verify --json`."""
        mark = self.high_water
        return {
            "branch": mark.branch if mark else None,
            "checked": bool(mark and mark.previous),
            "findings": [f.as_dict() for f in self.kept],
            "accepted": self.accepted.as_dict() if self.accepted else None,
        }


def witness_verify(
    config: QmsConfig,
    verified: Sequence[Finding],
    witnesses: Sequence[str],
    now: datetime,
    *,
    full: bool,
    accept: bool = False,
    reason: str = "",
) -> Witnessed:
    """After a verify: check the mark and each witness, accept a rollback when asked, and
    raise the mark when everything is clean.

    `verified`: the verify's own findings; `full`: every document was verified. Only a
    full, clean verify raises the mark; a rollback is accepted only over an otherwise
    clean one.
    """
    repo = open_repository(config.root)
    high_water = check_high_water(config, repo) if repo is not None else None
    witness = tuple(f for target in witnesses for f in check_witness(config, target))
    accepted = None
    if accept:
        if repo is None or high_water is None:
            raise QmsError("not a git repository", "a rollback can only be accepted in a clone")
        if verified or witness:
            raise QmsError(
                "other checks fail too; a rollback is accepted only over an otherwise clean verify",
                "run 'qms verify' and fix what it reports first",
            )
        accepted = accept_rollback(config, repo, reason, high_water, now)
        high_water = check_high_water(config, repo)
    outcome = Witnessed(high_water, witness, accepted)
    if not verified and not outcome.findings and repo is not None and full:
        record_high_water(config, repo, now)
    return outcome


# Bounds on what a server may make the client fetch for one release.
MAX_REVISIONS = 1000
MAX_KEYS = 200


def _fetch_release(base: str, into: Path) -> None:
    """Copy a published release's manifest and control files from `base` into `into`.

    Only what the manifest's signatures need: the registry and its revisions, the keys it
    names and the release signatures. Names that are not listed anywhere (a revision's
    and a release's signature files) are tried for every registered key. Every name is
    built from validated values (fingerprints, role keys, numbers), and is checked again
    to stay inside `into`.
    """
    client = Client(base)
    root = into.resolve()

    def get(path: str, required: bool = False) -> bytes | None:
        target = (into / path).resolve()
        if not target.is_relative_to(root):
            raise QmsError(f"refusing to write {path!r}", "the release names a path outside it")
        data = client.fetch(path)
        if data is None and required:
            raise QmsError(f"{base} has no {path}", "point --witness at a published release")
        if data is not None:
            write_atomic(target, data)
        return data

    manifest = Manifest.from_bytes(get("manifest.json", required=True) or b"")
    registry = Registry.from_bytes(get("signatures/signers.yaml", required=True) or b"", base)
    keys = sorted({e.fingerprint for e in registry.signers} | set(manifest.trust_roots))
    if len(keys) > MAX_KEYS or not 0 < registry.revision <= MAX_REVISIONS:
        raise QmsError(f"{base} names more keys or revisions than a registry holds", "check it")
    for fingerprint in keys:
        get(f"signatures/keys/{normalise_fingerprint(fingerprint)}.asc")
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
        client = Client(target)
        if client.fetch("manifest.json") is not None:
            return [(target, None)]
        index = client.fetch("index.html")
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

    repo = open_repository(config.root)
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
                findings.append(Finding(name, None, f"not a witness: {exc}", FindingCode.WITNESS))
                continue
        if problems:
            message = f"not a witness, it does not verify: {problems[0].render()}"
            findings.append(Finding(name, None, message, FindingCode.WITNESS))
            continue
        if repo is not None and not repo.is_ancestor(manifest.commit):
            findings.append(
                Finding(
                    "(git history)",
                    None,
                    f"published release {manifest.name} was made at commit "
                    f"{manifest.commit[:12]}, which this history no longer holds: it was "
                    "rewritten after staff read that release",
                    FindingCode.WITNESS,
                )
            )
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
                    FindingCode.WITNESS,
                )
            )
    return findings
