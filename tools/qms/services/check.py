"""The `check` service: every rule that can fail a handbook, as located findings."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from qms.config import QmsConfig
from qms.model.findings import Finding, FindingCode
from qms.services.change_control import change_control
from qms.services.handbook import load_handbook
from qms.services.sphinx_run import Progress, run_sphinx


def quick_check(config: QmsConfig, now: datetime) -> list[Finding]:
    """Front matter, ids and change control: no Sphinx, fast enough for a pre-commit hook."""
    handbook = load_handbook(config)
    return sorted(
        [*handbook.findings, *change_control(config, handbook, now=now).findings],
        key=lambda f: f.sort_key,
    )


@dataclass(frozen=True)
class FullCheck:
    """What a full check found: the problems, and the notices that fail nothing."""

    findings: list[Finding]
    notices: tuple[Finding, ...] = ()


def full_check(
    config: QmsConfig,
    now: datetime,
    progress: TextIO | None = None,
    phases: Progress | None = None,
) -> FullCheck:
    """Everything the build enforces: a fresh Sphinx read of all sources.

    The front-matter rules run inside the build from the same model code, so the
    build's warnings already include them; change control is added from git.
    """
    unreadable = [f for f in load_handbook(config).findings if f.code == FindingCode.ENCODING]
    if unreadable:
        return FullCheck(unreadable)  # Sphinx cannot read these at all; report them first
    with tempfile.TemporaryDirectory(prefix="qms-check-") as scratch:
        run = run_sphinx(
            config, "dummy", Path(scratch) / "out", fresh=True, progress=progress, phases=phases
        )
    control = change_control(config, now=now).findings
    found = sorted(set(run.findings) | set(control), key=lambda f: f.sort_key)
    return FullCheck(found, tuple(sorted(run.notices, key=lambda f: f.sort_key)))
