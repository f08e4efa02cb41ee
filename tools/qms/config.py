"""The handbook's configuration: the `[tool.qms]` table of pyproject.toml."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qms.errors import ConfigError, NotAHandbookError
from qms.model.approval import MEANING_ORDER, Meaning
from qms.model.approval_rules import MeaningRule, OwnerRule
from qms.model.capa import CapaPolicy
from qms.model.ceremony import DEFAULT_SIGNING, SigningPolicy
from qms.model.document import Document
from qms.model.parsing import load_toml
from qms.model.release import DocumentSet
from qms.model.risk_acceptance import AcceptanceLevel, AcceptancePolicy, level_problems
from qms.model.roster import ROSTER_ROLE
from qms.model.schemas import problems
from qms.model.signers import REGISTRY_ADMIN, normalise_fingerprint
from qms.model.site_pages import DEFAULT_SITE_PAGES
from qms.model.timestamp_policy import Need, TimestampAuthority, TimestampPolicy
from qms.model.tool_version import DEFAULT_VALIDATION, OnChange, ValidationPolicy
from qms.model.training import Requirement, TrainingPolicy
from qms.model.training_record import METHOD_ROLES

PYPROJECT = "pyproject.toml"
SCHEMA = "config"
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
    # "required": every new version's change reason names a CAPA or change request.
    change_reference: str = "optional"
    # Signature rules: "default" and per document type, as (key, rules) pairs.
    approvals: tuple[tuple[str, tuple[MeaningRule, ...]], ...] = (("default", DEFAULT_RULES),)
    # The meaning each risk owner a document names signs (ISO/IEC 27001 6.1.3 e), per
    # approvals key that sets `risk_owners`, as (key, meaning) pairs.
    owner_approvals: tuple[tuple[str, Meaning], ...] = ()
    # Document sets that releases publish, and the roles whose signatures a release needs.
    sets: tuple[DocumentSet, ...] = ()
    release_roles: tuple[str, ...] = ("qa",)
    # What readers see for each role key ("qa" -> "Head of Quality Assurance").
    role_titles: tuple[tuple[str, str], ...] = ()
    # Who must read what, by when ([tool.qms.training]); None when not configured.
    training: TrainingPolicy | None = None
    # Who may accept which residual risk score ([tool.qms.risk_acceptance]); None when
    # not configured.
    risk_acceptance: AcceptancePolicy | None = None
    # Who closes and verifies CAPAs ([tool.qms.capa]); None when not configured.
    capa: CapaPolicy | None = None
    # How many years a retired document's archive copy is kept, per type or "default".
    retention: tuple[tuple[str, int], ...] = ()
    # What each meaning says in words, and whether keys must be protected ([tool.qms.signing]).
    signing: SigningPolicy = DEFAULT_SIGNING
    # Which TSAs are pinned and which statements need a token ([tool.qms.timestamps]);
    # None when not configured: every time is as the signer claimed it.
    timestamps: TimestampPolicy | None = None
    # What 'qms verify' does when the installed qms-handbook is not the version the last
    # signed validation report covers ([tool.qms.validation]).
    validation: ValidationPolicy = DEFAULT_VALIDATION

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

    def owner_rule(self, document: Document) -> OwnerRule | None:
        """One signature per risk owner role `document` names, with the meaning its type's
        approval rules give `risk_owners` (None: no such rule, or no owner named)."""
        table = dict(self.approvals)
        key = document.type if document.type in table else "default"
        meaning = dict(self.owner_approvals).get(key)
        if meaning is None or not document.risk_owners:
            return None
        return OwnerRule(meaning, document.risk_owners)

    def required_meanings(self, doc_type: str) -> tuple[str, ...]:
        """The meanings a document of `doc_type` needs, in signing order."""
        return tuple(str(rule.meaning) for rule in self.rules_for(doc_type))

    def retention_years(self, doc_type: str) -> int | None:
        """Years a retired document of `doc_type` is kept; None when nothing is configured."""
        years = dict(self.retention)
        return years.get(doc_type, years.get("default"))

    def role_title(self, key: str) -> str:
        """The title readers see for the role `key`; the key itself when none is configured."""
        return dict(self.role_titles).get(key, key)

    def signing_policy(self) -> dict[str, Any]:
        """Who may make signatures count: what a signed registry revision must approve.

        Role titles are part of it, since a title is what a reader takes a signature
        to mean; only when configured, so that registries approved without them stay valid.
        """
        approvals: dict[str, dict[str, Any]] = {
            key: {str(rule.meaning): list(rule.roles) for rule in rules}
            for key, rules in self.approvals
        }
        # Only where configured, so that registries approved without it stay valid.
        for key, meaning in self.owner_approvals:
            approvals[key]["risk_owners"] = str(meaning)
        policy: dict[str, Any] = {
            "trust_roots": sorted(self.trust_roots),
            "approvals": approvals,
            "release_signer_roles": list(self.release_roles),
        }
        if self.role_titles:
            policy["role_titles"] = dict(sorted(self.role_titles))
        # Training requirements are controlled like who may sign: a change counts only
        # once a registry administrator approves it (qms signers policy).
        if self.training is not None:
            policy["training"] = self.training.as_dict()
        # Risk acceptance levels likewise (issue 15); absent, the policy is unchanged.
        if self.risk_acceptance is not None:
            policy["risk_acceptance"] = self.risk_acceptance.as_dict()
        # Who closes and verifies CAPAs, likewise: only when configured.
        if self.capa is not None:
            policy["capa"] = self.capa.as_dict()
        # The wording a signature means and the protected-key rule: only what is configured,
        # so that registries approved with the default wording stay valid.
        if self.signing.as_dict():
            policy["signing"] = self.signing.as_dict()
        # The pinned TSA certificates too: a token counts only against a chain a
        # registry administrator approved.
        if self.timestamps is not None:
            policy["timestamps"] = self.timestamps.as_dict()
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


def config_from_table(root: Path, table: Mapping[str, Any]) -> QmsConfig:
    """Validate a `[tool.qms]` table (already parsed) into a QmsConfig.

    Its shape is qms/schemas/config.schema.json; the first problem is the error.
    """
    found = problems(SCHEMA, dict(table))
    if found:
        first = found[0]
        titles = sorted(str(p.path[1]) for p in found if len(p.path) == 2 and p.path[0] == "roles")
        if len(titles) > 1 and first.path[:1] == ("roles",) and len(first.path) == 2:
            # Every role without a title at once, as the message always named them.
            raise ConfigError(
                f"[tool.qms.roles] {', '.join(titles)} must be non-empty text", first.hint
            )
        raise ConfigError(first.message, first.hint)
    approvals = _approvals(table.get("approvals", {}))
    owner_approvals = _owner_approvals(table.get("approvals", {}), approvals)
    release_roles = tuple(table.get("release", {}).get("signer_roles", ("qa",)))
    training = _training(table)
    risk_acceptance = _risk_acceptance(table)
    capa = _capa(table)
    return QmsConfig(
        root=root,
        organisation=table.get("organisation", QmsConfig.organisation),
        handbook_title=table.get("handbook_title", QmsConfig.handbook_title),
        docs_dir=table.get("docs_dir", QmsConfig.docs_dir),
        build_dir=table.get("build_dir", QmsConfig.build_dir),
        site_pages=tuple(table.get("site_pages", QmsConfig.site_pages)),
        trust_roots=_fingerprints(table.get("trust_roots", ())),
        risk_acceptance_threshold=table.get(
            "risk_acceptance_threshold", QmsConfig.risk_acceptance_threshold
        ),
        change_reference=table.get("change_reference", QmsConfig.change_reference),
        approvals=approvals,
        owner_approvals=owner_approvals,
        sets=tuple(_document_set(name, spec) for name, spec in table.get("sets", {}).items()),
        release_roles=release_roles,
        role_titles=_role_titles(
            table.get("roles", {}), approvals, release_roles, training, risk_acceptance, capa
        ),
        training=training,
        risk_acceptance=risk_acceptance,
        capa=capa,
        retention=tuple(sorted(table.get("retention", {}).items())),
        signing=SigningPolicy.from_dict(table.get("signing", {})),
        timestamps=_timestamps(root, table),
        validation=ValidationPolicy(
            OnChange(table.get("validation", {}).get("on_version_change", OnChange.WARN))
        ),
    )


def _role_titles(
    raw: Mapping[str, str],
    approvals: tuple[tuple[str, tuple[MeaningRule, ...]], ...],
    release_roles: tuple[str, ...],
    training: TrainingPolicy | None,
    risk_acceptance: AcceptancePolicy | None = None,
    capa: CapaPolicy | None = None,
) -> tuple[tuple[str, str], ...]:
    # A title for a role nobody can hold is most likely a misspelt key.
    known = {REGISTRY_ADMIN, *release_roles}
    known |= {role for _, rules in approvals for rule in rules for role in rule.roles}
    if training is not None:
        known |= {ROSTER_ROLE, *(r for r in METHOD_ROLES.values() if r)}
        known |= {role for r in training.requirements for role in r.roles}
    if risk_acceptance is not None:
        known |= set(risk_acceptance.roles)
    if capa is not None:
        known |= capa.roles
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(
            f"[tool.qms.roles] names roles no approval rule or release uses: {', '.join(unknown)}",
            f"use one of {', '.join(sorted(known))}",
        )
    return tuple(sorted((key, " ".join(title.split())) for key, title in raw.items()))


def _document_set(name: str, spec: Mapping[str, Any]) -> DocumentSet:
    return DocumentSet(
        name=name,
        title=spec.get("title", name),
        types=tuple(spec.get("types", ())),
        tags=tuple(spec.get("tags", ())),
        classifications=tuple(spec.get("classifications", ())),
        pages=tuple(spec.get("pages", ())),
    )


def _fingerprints(raw: list[str]) -> tuple[str, ...]:
    try:
        return tuple(normalise_fingerprint(f) for f in raw)
    except ValueError as exc:
        raise ConfigError(f"[tool.qms] trust_roots: {exc}", "list full key fingerprints") from exc


def _approvals(
    raw: Mapping[str, Mapping[str, Any]],
) -> tuple[tuple[str, tuple[MeaningRule, ...]], ...]:
    result: dict[str, tuple[MeaningRule, ...]] = {"default": DEFAULT_RULES}
    for key, meanings in raw.items():
        result[key] = tuple(
            MeaningRule(meaning, tuple(meanings[str(meaning)]))
            for meaning in MEANING_ORDER
            if str(meaning) in meanings
        )
    return tuple(result.items())


def _owner_approvals(
    raw: Mapping[str, Mapping[str, Any]],
    approvals: tuple[tuple[str, tuple[MeaningRule, ...]], ...],
) -> tuple[tuple[str, Meaning], ...]:
    """(key, meaning) of each approvals table that sets risk_owners, a meaning it takes."""
    found = []
    rules = dict(approvals)
    for key, table in raw.items():
        if "risk_owners" not in table:
            continue
        meaning = Meaning(table["risk_owners"])
        taken = [rule.meaning for rule in rules[key]]
        if meaning not in taken:
            raise ConfigError(
                f"[tool.qms.approvals.{key}] risk_owners = {str(meaning)!r} is not a signature "
                "it takes",
                f"use one of {', '.join(str(m) for m in taken) or 'the meanings it lists'}",
            )
        found.append((key, meaning))
    return tuple(sorted(found))


def _training(table: Mapping[str, Any]) -> TrainingPolicy | None:
    """The training policy of a table its schema has accepted (None when not configured)."""
    raw = table.get("training")
    if raw is None:
        return None
    requirements = tuple(
        Requirement(
            tuple(item["roles"]),
            tuple(item.get("ids", ())),
            tuple(item.get("types", ())),
            tuple(item.get("tags", ())),
            item.get("due_days"),
        )
        for item in raw.get("requirements", [])
    )
    gates = tuple(sorted((key, float(share)) for key, share in raw.get("gates", {}).items()))
    return TrainingPolicy(
        requirements,
        raw.get("due_days", TrainingPolicy.due_days),
        raw.get("retrain_on_minor", False),
        gates,
    )


def _risk_acceptance(table: Mapping[str, Any]) -> AcceptancePolicy | None:
    """The risk acceptance levels of a table its schema has accepted (None when absent)."""
    raw = table.get("risk_acceptance")
    if raw is None:
        return None
    levels = tuple(
        AcceptanceLevel(item["up_to"], tuple(dict.fromkeys(item["roles"])))
        for item in raw["levels"]
    )
    problem = level_problems(levels)
    if problem:
        raise ConfigError(f"[tool.qms.risk_acceptance] {problem}", "fix it in pyproject.toml")
    return AcceptancePolicy(levels, tuple(dict.fromkeys(raw.get("owner_roles", ()))))


def _capa(table: Mapping[str, Any]) -> CapaPolicy | None:
    """Who closes and verifies CAPAs, from a table its schema has accepted (None when absent)."""
    raw = table.get("capa")
    if raw is None:
        return None
    return CapaPolicy(
        tuple(raw.get("close_roles", CapaPolicy.close_roles)),
        tuple(raw.get("verify_roles", CapaPolicy.verify_roles)),
        tuple(raw.get("gxp_roles", CapaPolicy.gxp_roles)),
        tuple(raw.get("import_roles", CapaPolicy.import_roles)),
    )


def _timestamps(root: Path, table: Mapping[str, Any]) -> TimestampPolicy | None:
    """The TSAs and needs of a table its schema has accepted, each chain read from its PEM
    file (None when not configured)."""
    raw = table.get("timestamps")
    if raw is None:
        return None
    authorities = []
    for item in raw["authorities"]:
        path = root / item["certificates"]
        try:
            pem = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"[tool.qms.timestamps] TSA {item['name']}: cannot read {item['certificates']}",
                "save the TSA's certificate chain there as PEM",
            ) from exc
        if "-----BEGIN CERTIFICATE-----" not in pem:
            raise ConfigError(
                f"[tool.qms.timestamps] TSA {item['name']}: {item['certificates']} holds no "
                "PEM certificate",
                "save the TSA's certificate chain there as PEM",
            )
        authorities.append(TimestampAuthority(item["name"], item["url"], pem))
    names = [a.name for a in authorities]
    if len(set(names)) != len(names):
        raise ConfigError("[tool.qms.timestamps] names a TSA twice", "give each TSA its own name")
    needs = tuple(sorted((kind, Need(need)) for kind, need in raw.get("kinds", {}).items()))
    return TimestampPolicy(
        tuple(authorities), needs, raw.get("tolerance_seconds", TimestampPolicy.tolerance_seconds)
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
