"""A synthetic handbook of D documents with K needs each, signed, with git history."""

from __future__ import annotations

import random
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import git
import gnupg

from qms.adapters.gpg import UserKeys
from qms.config import load_config
from qms.model.approval import Meaning, Statement
from qms.services.content import sha256_of
from qms.services.layout import SignatureLayout
from qms.services.signers import add_signer

TYPES = (
    ("policy", "POL", "policies"),
    ("procedure", "SOP", "procedures"),
    ("standard", "STD", "standards"),
)
PREFIX = {"risk": "RSK", "control": "CTL", "procedure": "PRC"}
SIGNERS = (("Ada Author", "author"), ("Rex Reviewer", "reviewer"), ("Quinn Quality", "qa"))
WORDS = (
    "access", "review", "encryption", "backup", "supplier", "incident", "validation",
    "record", "audit", "trail", "batch", "laboratory", "clinical", "retention",
    "segregation", "approval", "change", "risk", "control",
)  # fmt: skip


@dataclass(frozen=True)
class Synthetic:
    """Where a generated handbook is and what it holds."""

    root: Path
    documents: int
    needs_per_document: int
    gnupg_home: Path


def _paragraph(rng: random.Random, words: int = 60) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _need_blocks(rng: random.Random, index: int, k: int, plain: bool) -> list[str]:
    """K needs for document `index`: a risk, a control per risk, procedures for controls."""
    blocks = []
    for n in range(k):
        kind = ("risk", "control", "procedure")[n % 3]
        need_id = f"{PREFIX[kind]}-{index:04d}-{n:02d}"
        title = f"{kind.title()} {index}.{n} on {rng.choice(WORDS)}"
        if plain:
            blocks.append(f"```{{admonition}} {title}\n{need_id}: {_paragraph(rng, 20)}\n```\n")
            continue
        options = [f":id: {need_id}"]
        if kind == "risk":
            options += [
                ":asset: Example system",
                ":threat: Misuse",
                ":vulnerability: Weak process",
                ":likelihood: 2",
                ":impact: 3",
                ":residual_likelihood: 1",
                ":residual_impact: 3",
                ":treatment: mitigate",
                ":risk_owner: ISMS Manager",
            ]
        elif kind == "control":
            options += [
                ":applicable: yes",
                ":justification: Needed",
                ":implementation: implemented",
                f":mitigates: RSK-{index:04d}-{n - 1:02d}",
            ]
        else:
            options += [f":implements: CTL-{index:04d}-{n - 1:02d}"]
        blocks.append(
            f"```{{{kind}}} {title}\n" + "\n".join(options) + f"\n```\n\n{_paragraph(rng, 20)}\n"
        )
    return blocks


def _document(index: int, k: int, version: str, plain: bool) -> tuple[str, str]:
    rng = random.Random(index)  # noqa: S311 - filler text, not secrets
    doc_type, prefix, folder = TYPES[index % len(TYPES)]
    doc_id = f"{prefix}-B{index // 100:02d}-{index % 100 + 1:03d}"
    head = (
        f"---\nid: {doc_id}\ntitle: Synthetic {doc_type} {index}\ntype: {doc_type}\n"
        f'version: "{version}"\nowner: ISMS Manager\nclassification: internal\n'
        f"review_months: 12\neffective: 2026-01-01\nchange_reason: Revision {version}\n---\n"
    )
    if plain:
        head = f"# Synthetic {doc_type} {index}\n"
    sections = [f"## Section {s}\n\n{_paragraph(rng)}\n" for s in range(3)]
    body = "\n".join(sections + _need_blocks(rng, index, k, plain))
    return f"{folder}/{doc_id.lower()}.md", head + "\n" + body


def _site_pages(docs: Path, plain: bool) -> None:
    folders = [folder for _, _, folder in TYPES]
    toctree = "\n".join(f"{folder}/index" for folder in folders)
    (docs / "index.md").write_text(
        f"# Synthetic handbook\n\n```{{toctree}}\n:hidden:\n\n{toctree}\n```\n"
    )
    for folder in folders:
        register = "" if plain else "```{qms-register}\n```\n\n"
        (docs / folder / "index.md").write_text(
            f"# {folder.title()}\n\n{register}```{{toctree}}\n:hidden:\n:glob:\n\n*\n```\n"
        )


def write_sources(docs: Path, documents: int, k: int, version: str, plain: bool) -> None:
    """Write (or rewrite) all sources at `version`."""
    for _, _, folder in TYPES:
        (docs / folder).mkdir(parents=True, exist_ok=True)
    _site_pages(docs, plain)
    for index in range(documents):
        path, text = _document(index, k, version, plain)
        (docs / path).write_text(text, encoding="utf-8")


def generate(root: Path, documents: int, k: int) -> Synthetic:
    """A handbook in a git repository: versions 0.1, 1.0 and 1.1, three signatures each."""
    docs = root / "docs"
    docs.mkdir(parents=True)
    (root / "conf.py").write_text('extensions = ["qms_sphinx"]\nhtml_theme = "furo"\n')
    home = Path(tempfile.mkdtemp(prefix="qms-bench-gpg-"))
    gpg = gnupg.GPG(gnupghome=str(home))
    people = []
    for name, role in (("Root Admin", "registry-admin"), *SIGNERS):
        key = gpg.gen_key(
            gpg.gen_key_input(
                key_type="EDDSA",
                key_curve="ed25519",
                key_usage="sign",
                name_real=name,
                name_email=name.lower().replace(" ", ".") + "@example.org",
                no_protection=True,
                expire_date=0,
            )
        )
        people.append((name, role, str(key.fingerprint)))
    (root / "pyproject.toml").write_text(
        f'[tool.qms]\norganisation = "Synthetic"\ntrust_roots = ["{people[0][2]}"]\n'
        '[tool.qms.approvals.default]\nauthored = ["author"]\nreviewed = ["reviewer"]\n'
        'approved = ["qa"]\n'
    )
    repo = git.Repo.init(root)
    with repo.config_writer() as git_config:
        git_config.set_value("user", "name", "Bench")
        git_config.set_value("user", "email", "bench@example.org")
    for version in ("0.1", "1.0", "1.1"):
        write_sources(docs, documents, k, version, plain=False)
        repo.git.add(A=True)
        repo.index.commit(f"Synthetic handbook {version}")
    config = load_config(root)
    keys = UserKeys(home)
    now = datetime.now(tz=UTC).replace(microsecond=0)
    for name, role, fingerprint in people:
        armored = gpg.export_keys(fingerprint, armor=True).encode("ascii")
        add_signer(
            config,
            armored,
            name,
            name.lower().replace(" ", ".") + "@example.org",
            [role],
            people[0][2],
            keys,
            now,
        )
    layout = SignatureLayout.of(config)
    commit = repo.head.commit.hexsha
    moment = datetime.now(tz=UTC).replace(microsecond=0)
    for index in range(documents):
        path, _ = _document(index, k, "1.1", plain=False)
        data = (docs / path).read_bytes()
        doc_id = Path(path).stem.upper()
        for (name, role, fingerprint), meaning in zip(
            people[1:], (Meaning.AUTHORED, Meaning.REVIEWED, Meaning.APPROVED), strict=True
        ):
            statement = Statement(
                doc_id,
                "1.1",
                sha256_of(data),
                meaning,
                name,
                fingerprint,
                role,
                moment,
                commit=commit,
            )
            target = layout.statement_file(statement)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(statement.to_bytes())
            signature, _ = keys.sign_detached(statement.to_bytes(), fingerprint)
            SignatureLayout.signature_of(target).write_bytes(signature)
    repo.git.add(A=True)
    repo.index.commit("Approvals")
    return Synthetic(root, documents, k, home)


def generate_floor(root: Path, documents: int, k: int) -> Path:
    """The same Markdown for plain Sphinx + MyST: needs as admonitions, no extensions."""
    docs = root / "docs"
    docs.mkdir(parents=True)
    (root / "conf.py").write_text(
        'extensions = ["myst_parser"]\nhtml_theme = "furo"\nexclude_patterns = ["_build"]\n'
        'myst_enable_extensions = ["colon_fence"]\n'
    )
    write_sources(docs, documents, k, "1.1", plain=True)
    return root


def remove(synthetic: Synthetic) -> None:
    """Delete the throwaway GnuPG home."""
    shutil.rmtree(synthetic.gnupg_home, ignore_errors=True)
