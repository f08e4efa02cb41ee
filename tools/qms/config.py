"""The handbook's configuration: the `[tool.qms]` table of pyproject.toml."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qms.errors import ConfigError, NotAHandbookError
from qms.model.approval import MEANING_ORDER, Meaning
from qms.model.approval_rules import MeaningRule
from qms.model.document import DocumentType
from qms.model.parsing import load_toml
from qms.model.release import DocumentSet
from qms.model.roster import ROSTER_ROLE
from qms.model.signers import REGISTRY_ADMIN, normalise_fingerprint
from qms.model.site_pages import DEFAULT_SITE_PAGES
from qms.model.training import Requirement, TrainingPolicy
from qms.model.training_record import METHOD_ROLES

PYPROJECT = "pyproject.toml"
DEFAULT_RULES = (
    MeaningRule(Meaning.AUTHORED, ("author",)),
    MeaningRule(Meaning.REVIEWED, ("reviewer",)),
    MeaningRule(Meaning.APPROVED, ("qa", "isms-manager")),
)


@dataclass(frozen=True)
class QmsConfig:
    """Settings every front end reads the same way."""

    root: Path
    organisation: str = "Example Organisation"
    handbook_title: str = "Information Security Handbook"
    docs_dir: str = "docs"
    build_dir: str = "_build"
    site_pages: tuple[str, ...] = DEFAULT_SITE_PAGES
    trust_roots: tuple[str, ...] = ()
    # A risk scoring above this (likelihood x impact) needs treatment or acceptance.
    risk_acceptance_threshold: int = 8
    # Signature rules: "default" and per document type, as (key, rules) pairs.
    approvals: tuple[tuple[str, tuple[MeaningRule, ...]], ...] = (("default", DEFAULT_RULES),)
    # Document sets that releases publish, and the roles whose signatures a release needs.
    sets: tuple[DocumentSet, ...] = ()
    release_roles: tuple[str, ...] = ("qa",)
    # What readers see for each role key ("qa" -> "Head of Quality Assurance").
    role_titles: tuple[tuple[str, str], ...] = ()
    # Who must read what, by when ([tool.qms.training]); None when not configured.
    training: TrainingPolicy | None = None

    def document_set(self, name: str) -> DocumentSet:
        """The set called `name`; a usage error naming the known sets otherwise."""
        for found in self.sets:
            if found.name == name:
                return found
        known = ", ".join(s.name for s in self.sets) or "none configured"
        raise ConfigError(f"no document set {name!r}", f"known sets: {known}")

    def rules_for(self, doc_type: str) -> tuple[MeaningRule, ...]:
        """The signatures a document of `doc_type` needs, in signing order."""
        table = dict(self.approvals)
        return table.get(doc_type, table.get("default", DEFAULT_RULES))

    def required_meanings(self, doc_type: str) -> tuple[str, ...]:
        """The meanings a document of `doc_type` needs, in signing order."""
        return tuple(str(rule.meaning) for rule in self.rules_for(doc_type))

    def role_title(self, key: str) -> str:
        """The title readers see for the role `key`; the key itself when none is configured."""
        return dict(self.role_titles).get(key, key)

    def signing_policy(self) -> dict[str, Any]:
        """Who may make signatures count: what a signed registry revision must approve.

        Role titles are part of it, since a title is what a reader takes a signature
        to mean; only when configured, so that registries approved without them stay valid.
        """
        policy: dict[str, Any] = {
            "trust_roots": sorted(self.trust_roots),
            "approvals": {
                key: {str(rule.meaning): list(rule.roles) for rule in rules}
                for key, rules in self.approvals
            },
            "release_signer_roles": list(self.release_roles),
        }
        if self.role_titles:
            policy["role_titles"] = dict(sorted(self.role_titles))
        # Training requirements are controlled like who may sign: a change counts only
        # once a registry administrator approves it (qms signers policy).
        if self.training is not None:
            policy["training"] = self.training.as_dict()
        return policy

    @property
    def signatures_path(self) -> Path:
        """The folder of keys, registry and approval records."""
        return self.root / "signatures"

    @property
    def docs_path(self) -> Path:
        """Absolute path of the documents folder."""
        return self.root / self.docs_dir

    @property
    def build_path(self) -> Path:
        """Absolute path of the build output folder."""
        return self.root / self.build_dir


def _text(table: Mapping[str, Any], key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[tool.qms] {key} must be non-empty text", f"fix {key} in {PYPROJECT}")
    return value


def _texts(table: Mapping[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = table.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(
            f"[tool.qms] {key} must be a list of text values", f"fix {key} in {PYPROJECT}"
        )
    return tuple(value)


def config_from_table(root: Path, table: Mapping[str, Any]) -> QmsConfig:
    """Validate a `[tool.qms]` table (already parsed) into a QmsConfig."""
    approvals = _approvals(table)
    release_roles = _texts(table.get("release", {}), "signer_roles", ("qa",))
    training = _training(table)
    return QmsConfig(
        root=root,
        organisation=_text(table, "organisation", QmsConfig.organisation),
        handbook_title=_text(table, "handbook_title", QmsConfig.handbook_title),
        docs_dir=_text(table, "docs_dir", QmsConfig.docs_dir),
        build_dir=_text(table, "build_dir", QmsConfig.build_dir),
        site_pages=_texts(table, "site_pages", QmsConfig.site_pages),
        trust_roots=_fingerprints(table),
        risk_acceptance_threshold=_score(table, "risk_acceptance_threshold", 8),
        approvals=approvals,
        sets=_sets(table),
        release_roles=release_roles,
        role_titles=_role_titles(table, approvals, release_roles, training),
        training=training,
    )


def _role_titles(
    table: Mapping[str, Any],
    approvals: tuple[tuple[str, tuple[MeaningRule, ...]], ...],
    release_roles: tuple[str, ...],
    training: TrainingPolicy | None,
) -> tuple[tuple[str, str], ...]:
    raw = table.get("roles", {})
    where = "[tool.qms.roles]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table of role = title", f"fix it in {PYPROJECT}")
    bad = sorted(
        key for key, title in raw.items() if not isinstance(title, str) or not title.strip()
    )
    if bad:
        raise ConfigError(f"{where} {', '.join(bad)} must be non-empty text", "give each a title")
    # A title for a role nobody can hold is most likely a misspelt key.
    known = {REGISTRY_ADMIN, *release_roles}
    known |= {role for _, rules in approvals for rule in rules for role in rule.roles}
    if training is not None:
        known |= {ROSTER_ROLE, *(r for r in METHOD_ROLES.values() if r)}
        known |= {role for r in training.requirements for role in r.roles}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(
            f"{where} names roles no approval rule or release uses: {', '.join(unknown)}",
            f"use one of {', '.join(sorted(known))}",
        )
    return tuple(sorted((key, " ".join(title.split())) for key, title in raw.items()))


def _sets(table: Mapping[str, Any]) -> tuple[DocumentSet, ...]:
    raw = table.get("sets", {})
    if not isinstance(raw, dict):
        raise ConfigError("[tool.qms.sets] must be a table of sets", f"fix it in {PYPROJECT}")
    found = []
    for name, spec in raw.items():
        if name == "signatures" or not name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(
                f"[tool.qms.sets] cannot be called {name!r}",
                "use letters, digits, - and _, and not 'signatures'",
            )
        if not isinstance(spec, dict):
            raise ConfigError(f"[tool.qms.sets.{name}] must be a table", f"fix it in {PYPROJECT}")
        found.append(
            DocumentSet(
                name=name,
                title=_text(spec, "title", name),
                types=_texts(spec, "types", ()),
                tags=_texts(spec, "tags", ()),
                classifications=_texts(spec, "classifications", ()),
                pages=_texts(spec, "pages", ()),
            )
        )
    return tuple(found)


def _score(table: Mapping[str, Any], key: str, default: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 25:
        raise ConfigError(
            f"[tool.qms] {key} must be a whole number from 1 to 25", f"fix {key} in {PYPROJECT}"
        )
    return value


def _fingerprints(table: Mapping[str, Any]) -> tuple[str, ...]:
    try:
        return tuple(normalise_fingerprint(f) for f in _texts(table, "trust_roots", ()))
    except ValueError as exc:
        raise ConfigError(f"[tool.qms] trust_roots: {exc}", "list full key fingerprints") from exc


def _approvals(table: Mapping[str, Any]) -> tuple[tuple[str, tuple[MeaningRule, ...]], ...]:
    raw = table.get("approvals", {})
    where = "[tool.qms.approvals]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table", f"fix it in {PYPROJECT}")
    allowed_keys = {"default", *(str(t) for t in DocumentType)}
    result: dict[str, tuple[MeaningRule, ...]] = {"default": DEFAULT_RULES}
    for key, meanings in raw.items():
        if key not in allowed_keys or not isinstance(meanings, dict) or not meanings:
            raise ConfigError(
                f"{where}.{key} is not a table of meanings for 'default' or a document type",
                f"use one of {', '.join(sorted(allowed_keys))}",
            )
        unknown = set(meanings) - {str(m) for m in MEANING_ORDER}
        if unknown:
            raise ConfigError(
                f"{where}.{key} names unknown meanings {', '.join(sorted(unknown))}",
                "use authored, reviewed and approved",
            )
        rules = tuple(
            MeaningRule(meaning, _texts(meanings, str(meaning), ()))
            for meaning in MEANING_ORDER
            if str(meaning) in meanings
        )
        if not all(rule.roles for rule in rules):
            raise ConfigError(f"{where}.{key}: every meaning needs at least one role", "add one")
        result[key] = rules
    return tuple(result.items())


def _training(table: Mapping[str, Any]) -> TrainingPolicy | None:
    raw = table.get("training")
    where = "[tool.qms.training]"
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table", f"fix it in {PYPROJECT}")
    unknown = sorted(set(raw) - {"due_days", "retrain_on_minor", "requirements", "gates"})
    if unknown:
        raise ConfigError(
            f"{where} has an unknown key {unknown[0]}",
            "use due_days, retrain_on_minor, requirements and gates",
        )
    due = raw.get("due_days", TrainingPolicy.due_days)
    if isinstance(due, bool) or not isinstance(due, int) or not 1 <= due <= 366:
        raise ConfigError(
            f"{where} due_days must be a whole number of days from 1 to 366", "fix it"
        )
    minor = raw.get("retrain_on_minor", False)
    if not isinstance(minor, bool):
        raise ConfigError(f"{where} retrain_on_minor must be true or false", "fix it")
    items = raw.get("requirements", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ConfigError(
            f"{where} requirements must be an array of tables ([[tool.qms.training.requirements]])",
            "see the README, section For staff and trainers",
        )
    types = {str(t) for t in DocumentType}
    requirements = []
    for n, item in enumerate(items, start=1):
        here = f"{where} requirement {n}"
        unknown = sorted(set(item) - {"roles", "ids", "types", "tags"})
        if unknown:
            raise ConfigError(f"{here}: unknown key {unknown[0]}", "use roles, ids, types, tags")
        requirement = Requirement(
            _texts(item, "roles", ()), _texts(item, "ids", ()), _texts(item, "types", ()),
            _texts(item, "tags", ()),
        )  # fmt: skip
        if not requirement.roles:
            raise ConfigError(f"{here} names no roles", 'add roles = ["..."]')
        bad = sorted(set(requirement.types) - types)
        if bad:
            raise ConfigError(f"{here}: unknown type {bad[0]}", f"use {', '.join(sorted(types))}")
        requirements.append(requirement)
    gates = raw.get("gates", {})
    if not isinstance(gates, dict) or not all(
        key in types and isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 1
        for key, v in gates.items()
    ):
        raise ConfigError(
            f"{where} gates must map document types to a share above 0 and at most 1",
            "for example gates = { procedure = 0.9 }",
        )
    return TrainingPolicy(
        tuple(requirements), due, minor, tuple(sorted((k, float(v)) for k, v in gates.items()))
    )


def read_table(root: Path) -> dict[str, Any] | None:
    """The `[tool.qms]` table of `root/pyproject.toml`, or None when there is none."""
    path = root / PYPROJECT
    if not path.is_file():
        return None
    try:
        data = load_toml(path.read_text(encoding="utf-8"))
    except ValueError as exc:  # TOMLDecodeError, UnicodeDecodeError, nesting too deep
        raise ConfigError(f"{path.name} is not valid TOML: {exc}", "fix the file") from exc
    table = data.get("tool", {}).get("qms")
    return table if isinstance(table, dict) else None


def load_config(root: Path) -> QmsConfig:
    """Load the configuration of the handbook rooted at `root` (defaults if none)."""
    table = read_table(root)
    return config_from_table(root, table or {})


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` whose pyproject.toml has `[tool.qms]`."""
    for folder in (start, *start.parents):
        if read_table(folder) is not None:
            return folder
    raise NotAHandbookError(
        f"not a handbook repository: no {PYPROJECT} with [tool.qms] in {start} or above",
        "run qms inside a handbook checkout, or pass --root DIR",
    )
