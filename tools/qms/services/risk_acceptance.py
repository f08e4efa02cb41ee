"""Reading risk acceptances: each signature verified, the latest valid one per risk judged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from qms.adapters.gpg import Keyring, hermetic_keyring
from qms.config import QmsConfig
from qms.model.canonical import StatementError
from qms.model.findings import Finding, FindingCode
from qms.model.registry_history import RegistryHistory
from qms.model.risk_acceptance import (
    DEFAULT_POLICY,
    Acceptance,
    AcceptancePolicy,
    Lapse,
    RiskNow,
    lapse,
    owner_role,
    risk_now,
    signing_refusal,
)
from qms.model.signature_rules import Claim, RegisteredSigner
from qms.model.timeutil import format_utc
from qms.model.traceability import Graph, risk_rows
from qms.services.handbook import display_path, load_handbook
from qms.services.layout import STATEMENT_SUFFIX, SignatureLayout
from qms.services.registry import load_registry
from qms.services.signatures import prefetch, verify_signed
from qms.services.traceability import load_graph


@dataclass(frozen=True)
class RiskStatus:
    """One risk's acceptance as verified: the latest acceptance whose signature counts,
    and why it lapsed (None while it holds)."""

    risk: RiskNow
    acceptance: Acceptance | None
    lapse: Lapse | None = None
    lapse_reason: str = ""

    @property
    def valid(self) -> bool:
        """A signed acceptance holds today."""
        return self.acceptance is not None and self.lapse is None

    @property
    def state(self) -> str:
        """accepted, lapsed, missing (needed, none holds) or not needed."""
        if self.valid:
            return "accepted"
        if self.acceptance is not None:
            return "lapsed"
        return "missing" if self.risk.needs_acceptance else "not needed"

    def as_dict(self) -> dict[str, Any]:
        """The row as `qms risk status --json` prints it."""
        accepted = self.acceptance
        return {
            "id": self.risk.id,
            "owner": self.risk.owner,
            "current_score": self.risk.score,
            "needs_acceptance": self.risk.needs_acceptance,
            "state": self.state,
            "accepted_by": accepted.signer_name if accepted else "",
            "accepted_role": accepted.signer_role if accepted else "",
            "accepted_at": format_utc(accepted.signed_at) if accepted else "",
            "until": accepted.until.isoformat() if accepted else "",
            "accepted_score": accepted.score if accepted else None,
            "register_version": accepted.register_version if accepted else "",
            "lapse": str(self.lapse) if self.lapse else "",
            "lapse_reason": self.lapse_reason,
        }


@dataclass(frozen=True)
class AcceptanceFacts:
    """Every risk's acceptance status, and the findings: bad files and lapses."""

    statuses: tuple[RiskStatus, ...]
    findings: tuple[Finding, ...]

    @property
    def accepted(self) -> frozenset[str]:
        """Ids of the risks a signed acceptance covers today."""
        return frozenset(s.risk.id for s in self.statuses if s.valid)

    def of(self, risk_id: str) -> RiskStatus | None:
        """The status of one risk."""
        return next((s for s in self.statuses if s.risk.id == risk_id), None)


def policy_of(config: QmsConfig) -> AcceptancePolicy:
    """The configured acceptance levels, or the default (the risk's owner accepts)."""
    return config.risk_acceptance or DEFAULT_POLICY


def risks_of(
    config: QmsConfig,
    graph: Graph,
    registers: Mapping[str, tuple[str, str]],
    paths: Mapping[str, str],
) -> dict[str, RiskNow]:
    """Each risk of the graph as acceptance sees it.

    `registers` maps docnames to the (id, version) of the document holding the risk,
    `paths` docnames to the path findings name.
    """
    found = {}
    for row in risk_rows(graph):
        docname = row.risk.docname
        where = (paths.get(docname, docname), row.risk.lineno)
        register = registers.get(docname, ("", ""))
        found[row.risk.id] = risk_now(row, config.risk_acceptance_threshold, register, where)
    return found


def _documents(config: QmsConfig) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Per docname: the (id, version) of the document, and its path as users see it."""
    registers: dict[str, tuple[str, str]] = {}
    paths: dict[str, str] = {}
    for document in load_handbook(config).documents:
        docname = Path(document.path).relative_to(config.docs_dir).with_suffix("").as_posix()
        registers[docname] = (document.id, str(document.version))
        paths[docname] = document.path
    return registers, paths


def handbook_risks(config: QmsConfig) -> dict[str, RiskNow]:
    """Every risk of the handbook, read with Sphinx, located as users see paths."""
    return risks_of(config, load_graph(config).graph, *_documents(config))


def acceptance_files(config: QmsConfig) -> list[Path]:
    """Every acceptance file, in order."""
    folder = SignatureLayout.of(config).risk_acceptances
    return sorted(folder.rglob(f"*{STATEMENT_SUFFIX}")) if folder.is_dir() else []


def load_acceptances(
    config: QmsConfig,
    keyring: Keyring,
    history: RegistryHistory,
    risks: Mapping[str, RiskNow],
    on: date,
) -> AcceptanceFacts:
    """Verify every acceptance; judge the latest that counts of each risk on `on`.

    A file that does not count is a finding at the file; a lapse is a finding at the
    risk's own line. Status comes from verified signatures only.
    """
    policy = policy_of(config)
    files = acceptance_files(config)
    prefetch(keyring, ((SignatureLayout.signature_of(p), p.read_bytes()) for p in files))
    latest: dict[str, Acceptance] = {}
    findings: list[Finding] = []
    for path in files:
        shown = display_path(config.root, path)
        acceptance, problem = _verified(config, keyring, history, risks, path, policy)
        if problem:
            findings.append(Finding(shown, None, problem, FindingCode.RISK_ACCEPTANCE))
        elif acceptance is not None:
            before = latest.get(acceptance.risk_id)
            if before is None or before.signed_at <= acceptance.signed_at:
                latest[acceptance.risk_id] = acceptance
    statuses = []
    moment = datetime.combine(on, time.max, tzinfo=UTC)
    for risk in risks.values():
        acceptance = latest.get(risk.id)
        if acceptance is None:
            statuses.append(RiskStatus(risk, None))
            continue
        entry, _ = history.signer_at(acceptance.signer_fingerprint, moment)
        why, reason = lapse(
            acceptance,
            risk,
            policy,
            owner_of(config, history, risk),
            entry.roles if entry is not None else None,
            on,
        )
        statuses.append(RiskStatus(risk, acceptance, why, reason))
        if why is not None:
            message = f"{risk.id}: acceptance lapsed: {reason}"
            findings.append(
                Finding(risk.path, risk.line, message, FindingCode.RISK_ACCEPTANCE_LAPSED)
            )
    return AcceptanceFacts(tuple(statuses), tuple(findings))


def owner_of(config: QmsConfig, history: RegistryHistory, risk: RiskNow) -> str:
    """The registry role the risk's owner field names."""
    latest = history.latest
    keys = {role for s in latest.signers for role in s.roles} if latest else set()
    return owner_role(risk.owner, dict(config.role_titles), keys)


def _verified(
    config: QmsConfig,
    keyring: Keyring,
    history: RegistryHistory,
    risks: Mapping[str, RiskNow],
    path: Path,
    policy: AcceptancePolicy,
) -> tuple[Acceptance | None, str]:
    """The acceptance a file holds when its signature and signer count, else why not."""
    data = path.read_bytes()
    try:
        acceptance = Acceptance.from_bytes(data)
    except StatementError as exc:
        return None, str(exc)
    if path.parent.name != acceptance.risk_id:
        return None, f"names {acceptance.risk_id} but lies in the folder of {path.parent.name}"
    claim = Claim(acceptance.signer_fingerprint, acceptance.signed_at)
    verdict = verify_signed(
        keyring,
        SignatureLayout.signature_of(path),
        data,
        claim,
        RegisteredSigner(acceptance.signer_role),
        history,
    )
    if not verdict.valid:
        return None, f"{acceptance.risk_id}: {verdict.problem}"
    risk = risks.get(acceptance.risk_id)
    if risk is None:
        return None, signing_refusal(acceptance, None, policy, "")
    refusal = signing_refusal(acceptance, risk, policy, owner_of(config, history, risk))
    if refusal:
        return None, f"{acceptance.risk_id}: {refusal}"
    return acceptance, ""


def acceptance_status(config: QmsConfig, on: date) -> AcceptanceFacts:
    """Every risk of the handbook and its acceptance on `on` (reads the whole handbook)."""
    risks = handbook_risks(config)
    with hermetic_keyring(SignatureLayout.of(config).keys) as keyring:
        registry = load_registry(config, keyring)
        if not registry.trusted:
            # An untrusted registry makes every signature not count.
            found = tuple(RiskStatus(risk, None) for risk in risks.values())
            return AcceptanceFacts(found, registry.findings)
        return load_acceptances(config, keyring, registry.history, risks, on)


def site_acceptances(
    config: QmsConfig,
    graph: Graph,
    registers: Mapping[str, tuple[str, str]],
    paths: Mapping[str, str],
    on: date,
) -> AcceptanceFacts:
    """What a site build shows and warns of: the graph's risks and their acceptances.

    Without any acceptance file no keyring is opened.
    """
    risks = risks_of(config, graph, registers, paths)
    if not acceptance_files(config):
        return AcceptanceFacts(tuple(RiskStatus(r, None) for r in risks.values()), ())
    with hermetic_keyring(SignatureLayout.of(config).keys) as keyring:
        registry = load_registry(config, keyring)
        if not registry.trusted:
            # The registry's own findings are the site's notices already.
            return AcceptanceFacts(tuple(RiskStatus(r, None) for r in risks.values()), ())
        return load_acceptances(config, keyring, registry.history, risks, on)


# The acceptance columns of the export, named as `qms risk status --json` names them.
EXPORTED = (
    "accepted_by",
    "accepted_role",
    "accepted_at",
    "until",
    "accepted_score",
    "lapse_reason",
)


def risk_export(config: QmsConfig, graph: Graph, on: date) -> list[dict[str, Any]]:
    """The register rows `qms risks` writes: scores, and each acceptance as verified on `on`.

    Bad acceptance files are `qms risk status`'s to report; here they count for nothing.
    """
    facts = site_acceptances(config, graph, *_documents(config), on)
    rows = []
    for row in risk_rows(graph):
        status = facts.of(row.risk.id)
        shown = status.as_dict() if status is not None else {}
        rows.append(
            {
                **row.as_dict(),
                "acceptance_state": shown.get("state", ""),
                **{key: shown.get(key, "") for key in EXPORTED},
            }
        )
    return rows
