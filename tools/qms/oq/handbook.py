"""A small handbook in a temporary git repository, and `qms` run in process against it."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from qms.cli.main import main
from qms.config import load_config
from qms.oq.people import T0, Person, Team
from qms.services.signers import add_signer

POLICY_ACC = """\
---
id: POL-ACC-001
title: Access Control Policy
type: policy
version: "1.0"
owner: ISMS Manager
classification: internal
review_months: 12
effective: 2026-01-15
---

## Purpose

Access to Corvane systems is granted on least privilege.
"""

POLICY_CRY = """\
---
id: POL-CRY-001
title: Cryptography <Policy> & Keys
type: policy
version: "1.0"
owner: Chief Information Officer
classification: internal
review_months: 24
effective: 2026-01-15
---

## Purpose

Keys are generated in the HSM.
"""

PAGES = {
    "index.md": "# OQ handbook\n\n```{toctree}\n:hidden:\n\nregister\npolicies/index\n```\n",
    "register.md": "# Document register\n\n```{qms-register}\n```\n",
    "policies/index.md": (
        "# Policies\n\n```{qms-register}\n:type: policy\n```\n\n"
        "```{toctree}\n:hidden:\n:glob:\n\n*\n```\n"
    ),
    "policies/pol-acc-001.md": POLICY_ACC,
    "policies/pol-cry-001.md": POLICY_CRY,
}

CONF = 'extensions = ["qms_sphinx"]\nhtml_theme = "furo"\n'

SETTINGS = """
[tool.qms.approvals.default]
authored = ["author"]
reviewed = ["reviewer"]
approved = ["qa"]

[tool.qms.sets.policies]
title = "Policy set"
types = ["policy"]
classifications = ["internal"]

[tool.qms.release]
signer_roles = ["qa", "reviewer"]
"""

ROLES = {
    "admin": ["registry-admin"],
    "author": ["author"],
    "reviewer": ["reviewer"],
    "approver": ["qa", "author"],
    "approver_again": ["reviewer"],
    "hr": ["hr"],
}

DOC = "POL-ACC-001"
DOC_PATH = "docs/policies/pol-acc-001.md"


@dataclass(frozen=True)
class Result:
    """What one `qms` run returned and printed."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def qms(root: Path | None, *argv: str) -> Result:
    """Run `qms` in process (with `--root root`), capturing what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*(("--root", str(root)) if root is not None else ()), *argv])
    result = Result(code, out.getvalue(), err.getvalue())
    assert "Traceback" not in result.err, result.err
    return result


def commit_all(root: Path, message: str) -> str:
    """Commit everything in the working tree; the new commit's id."""
    repo = git.Repo(root)
    repo.git.add(A=True)
    return repo.index.commit(message).hexsha


def write_handbook(
    root: Path, trust_root: str, settings: str = SETTINGS, extra: str = "", head: str = ""
) -> None:
    """The handbook's files: configuration, Sphinx conf.py and a few pages."""
    for name, text in PAGES.items():
        (root / "docs" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / name).write_text(text, encoding="utf-8")
    (root / "conf.py").write_text(CONF, encoding="utf-8")
    top = textwrap.dedent(
        f"""\
        [tool.qms]
        organisation = "Corvane Pharma AG"
        trust_roots = ["{trust_root}"]
        """
    )
    head += "\n" if head and not head.endswith("\n") else ""
    (root / "pyproject.toml").write_text(top + head + settings + extra, encoding="utf-8")


def new_handbook(
    root: Path,
    team: Team,
    extra: str = "",
    files: dict[str, str] | None = None,
    head: str = "",
) -> Path:
    """A committed handbook at `root` with the team registered a day ago (revision 1 approves
    the signing policy `extra` tables add to; `head` adds [tool.qms] keys); `files` are
    written before the first commit."""
    write_handbook(root, team.admin.fingerprint, extra=extra, head=head)
    for name, text in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    repository = git.Repo.init(root)
    with repository.config_writer() as writer:
        writer.set_value("user", "name", "OQ Author")
        writer.set_value("user", "email", "oq.author@corvane.example")
    commit_all(root, "Handbook")
    config = load_config(root)
    admin = team.admin.keys(T0)
    for key, roles in ROLES.items():
        person: Person = getattr(team, key)
        add_signer(
            config, person.public_key.read_bytes(), person.name, person.email, roles,
            team.admin.fingerprint, admin, T0,
        )  # fmt: skip
    return root


def copy_handbook(source: Path, target: Path) -> Path:
    """A copy of a handbook repository (with its git history and caches)."""
    shutil.copytree(source, target, symlinks=True)
    return target


def approve(root: Path, person: Person, meaning: str, doc: str = DOC) -> Result:
    return qms(root, "approve", doc, "--meaning", meaning, *person.signing())


def approve_fully(root: Path, team: Team, doc: str = DOC) -> None:
    """Author, reviewer and approver sign `doc`, in that order."""
    for person, meaning in (
        (team.author, "authored"),
        (team.reviewer, "reviewed"),
        (team.approver, "approved"),
    ):
        result = approve(root, person, meaning, doc)
        assert result.code == 0, result.err


def verify(root: Path, *ids: str) -> tuple[int, dict[str, Any]]:
    result = qms(root, "verify", "--json", "--no-cache", *ids)
    return result.code, result.json()


def status_of(report: dict[str, Any], doc: str = DOC) -> str:
    return str(next(d["status"] for d in report["documents"] if d["id"] == doc))


def problems(report: dict[str, Any]) -> list[str]:
    """Every finding a verify report names."""
    return [f["message"] for d in report["documents"] for f in d["findings"]] + [
        f["message"] for f in report["registry"]["findings"]
    ]


def edit(root: Path, old: str, new: str, path: str = DOC_PATH, commit: bool = True) -> None:
    """Replace `old` by `new` in the file at `path` (and commit it)."""
    file = root / path
    text = file.read_text(encoding="utf-8")
    assert old in text, old
    file.write_text(text.replace(old, new), encoding="utf-8")
    if commit:
        commit_all(root, f"Edit {path}")
