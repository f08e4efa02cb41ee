"""The CAPA service: verified closures and effectiveness verifications, and the CAPA log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from qms.adapters.gpg import Keyring, hermetic_keyring
from qms.config import QmsConfig
from qms.model.audits import CapaItem, capa_items, changed_versions
from qms.model.canonical import StatementError
from qms.model.capa import Act, CapaState, CapaStatement, derive_state, statement_refusal
from qms.model.capa_import import CapaImport, ExternalCapa
from qms.model.findings import Finding, FindingCode
from qms.model.metric_sources import CapaCounts
from qms.model.registry_history import RegistryHistory
from qms.model.signature_rules import Claim, RegisteredSigner
from qms.model.traceability import Graph
from qms.model.vocabulary import ADDRESSES, FINDING
from qms.services.handbook import display_path
from qms.services.layout import STATEMENT_SUFFIX, SignatureLayout
from qms.services.registry import load_registry
from qms.services.signatures import prefetch, verify_signed


@dataclass(frozen=True)
class CapaRecord:
    """What counts of one CAPA's signed statements."""

    closure: CapaStatement | None = None
    verification: CapaStatement | None = None


@dataclass(frozen=True)
class CapaFacts:
    """Every CAPA's closure and verification that count, and the statements that do not."""

    records: Mapping[str, CapaRecord]
    findings: tuple[Finding, ...]

    def of(self, capa_id: str) -> CapaRecord:
        """The record of one CAPA (empty when nothing was signed)."""
        return self.records.get(capa_id, CapaRecord())


def statement_files(config: QmsConfig) -> list[Path]:
    """Every CAPA statement file, in order."""
    folder = SignatureLayout.of(config).capa
    return sorted(folder.rglob(f"*{STATEMENT_SUFFIX}")) if folder.is_dir() else []


def _read(
    config: QmsConfig, paths: Sequence[Path], items: Mapping[str, CapaItem]
) -> tuple[list[tuple[Path, bytes, CapaStatement]], list[Finding]]:
    """The statements that parse and name a CAPA of the handbook, in signing order."""
    found: list[tuple[Path, bytes, CapaStatement]] = []
    findings: list[Finding] = []
    for path in paths:
        shown = display_path(config.root, path)
        data = path.read_bytes()
        try:
            statement = CapaStatement.from_bytes(data)
        except StatementError as exc:
            findings.append(Finding(shown, None, str(exc), FindingCode.CAPA))
            continue
        if statement.capa_id not in items:
            message = f"names {statement.capa_id}, which is no CAPA of this handbook"
        elif path.parent.name != statement.capa_id:
            message = f"a statement of {statement.capa_id} filed under {path.parent.name}"
        else:
            found.append((path, data, statement))
            continue
        findings.append(Finding(shown, None, message, FindingCode.CAPA))
    found.sort(key=lambda item: (item[2].act is Act.VERIFY, item[2].signed_at))
    return found, findings


def load_capa(
    config: QmsConfig,
    keyring: Keyring,
    history: RegistryHistory,
    items: Mapping[str, CapaItem],
) -> CapaFacts:
    """Verify every CAPA statement; keep each CAPA's first closure and, after it, its first
    verification that count. Without [tool.qms.capa] no statement counts."""
    paths = statement_files(config)
    statements, findings = _read(config, paths, items)
    prefetch(keyring, ((SignatureLayout.signature_of(p), data) for p, data, _ in statements))
    closures: dict[str, CapaStatement] = {}
    verifications: dict[str, CapaStatement] = {}
    for path, data, statement in statements:
        problem = _problem(config, keyring, history, items, path, data, statement, closures)
        counted = closures if statement.act is Act.CLOSE else verifications
        if not problem and statement.capa_id in counted:
            earlier = counted[statement.capa_id].signed_at.date()
            problem = f"{statement.capa_id} was already {statement.act}d on {earlier}"
        if problem:
            shown = display_path(config.root, path)
            findings.append(Finding(shown, None, problem, FindingCode.CAPA))
        else:
            counted[statement.capa_id] = statement
    records = {
        capa_id: CapaRecord(closures.get(capa_id), verifications.get(capa_id))
        for capa_id in sorted({*closures, *verifications})
    }
    return CapaFacts(records, tuple(findings))


def _problem(
    config: QmsConfig,
    keyring: Keyring,
    history: RegistryHistory,
    items: Mapping[str, CapaItem],
    path: Path,
    data: bytes,
    statement: CapaStatement,
    closures: Mapping[str, CapaStatement],
) -> str:
    """Why one statement does not count ("" when it does)."""
    if config.capa is None:
        return "no [tool.qms.capa] names who closes and verifies CAPAs"
    item = items[statement.capa_id]
    refusal = statement_refusal(statement, item.gxp, config.capa, closures.get(statement.capa_id))
    if refusal:
        return refusal
    verdict = verify_signed(
        keyring,
        SignatureLayout.signature_of(path),
        data,
        Claim(statement.signer_fingerprint, statement.signed_at),
        RegisteredSigner(statement.role),
        history,
    )
    return "" if verdict.valid else verdict.problem


@dataclass(frozen=True)
class CapaRow:
    """One CAPA in the log: as authored, what counts of its signatures, its state on a day."""

    item: CapaItem
    record: CapaRecord
    state: CapaState

    def as_dict(self) -> dict[str, Any]:
        """The row as `qms capa --json` and the site show it."""
        need = self.item.need
        closure, verification = self.record.closure, self.record.verification
        return {
            "id": need.id,
            "title": need.title,
            "source": need.text("origin"),
            "source_ref": need.text("source_ref"),
            "findings": list(need.outgoing(ADDRESSES)),
            "owner": need.text("owner"),
            "gxp": self.item.gxp,
            "root_cause": need.text("root_cause"),
            "actions": [
                {
                    "id": a.id,
                    "title": a.title,
                    "due": a.due.isoformat() if a.due else "",
                    "done": a.done.isoformat() if a.done else "",
                }
                for a in self.item.actions
            ],
            "changes": [f"{d} {v}" for d, v in changed_versions(need.text("changes"))],
            "check_due": self.item.check_due.isoformat() if self.item.check_due else "",
            "criterion": need.text("criterion"),
            "closed_on": closure.signed_at.date().isoformat() if closure else "",
            "closed_by": closure.signer_name if closure else "",
            "checked_on": _day(verification.checked_on) if verification else "",
            "result": str(verification.result or "") if verification else "",
            "verified_by": verification.signer_name if verification else "",
            "state": str(self.state),
        }

    def as_flat(self) -> dict[str, str]:
        """The row with every cell one text (CSV, Markdown, the text table)."""
        row = self.as_dict()
        actions = "; ".join(
            f"{a['id']} due {a['due']}" + (f" done {a['done']}" if a["done"] else "")
            for a in row["actions"]
        )
        flat = {key: value if isinstance(value, str) else "" for key, value in row.items()}
        flat.update(
            findings="; ".join(row["findings"]),
            gxp="yes" if self.item.gxp else "no",
            actions=actions,
            changes="; ".join(row["changes"]),
            next_due=self.next_due,
        )
        return flat

    @property
    def next_due(self) -> str:
        """The next date the CAPA waits for: an open action's, else the check's ("" when done)."""
        if self.record.verification is not None:
            return ""
        if self.record.closure is None:
            due = sorted(a.due for a in self.item.actions if a.done is None and a.due)
            if due:
                return due[0].isoformat()
        return _day(self.item.check_due)


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def capa_rows(items: Sequence[CapaItem], facts: CapaFacts, on: date) -> list[CapaRow]:
    """Each CAPA with its state on `on`."""
    rows = []
    for item in items:
        record = facts.of(item.id)
        actions = [(a.due, a.done) for a in item.actions]
        state = derive_state(actions, item.check_due, record.closure, record.verification, on)
        rows.append(CapaRow(item, record, state))
    return rows


@dataclass(frozen=True)
class ExternalRow:
    """A CAPA kept in an external eQMS that a finding names, as the latest import has it."""

    capa_id: str
    findings: tuple[str, ...]
    imported: ExternalCapa | None
    system: str
    on: date

    @property
    def state(self) -> CapaState | None:
        """Its state on the day judged; None when no import that counts lists it."""
        return self.imported.state_on(self.on) if self.imported else None

    def as_dict(self) -> dict[str, Any]:
        """As `qms capa --json` shows it: the fields an eQMS import knows."""
        state = self.state
        return {
            "id": self.capa_id,
            "external": self.system or True,
            "findings": list(self.findings),
            "due": self.imported.due.isoformat() if self.imported and self.imported.due else "",
            "state": str(state) if state else "not in any import",
        }

    def as_flat(self) -> dict[str, str]:
        """The row in the columns of the handbook's own CAPAs (those it does not know empty)."""
        data = self.as_dict()
        return {
            "id": self.capa_id,
            "title": f"external: {self.system}" if self.system else "external",
            "source": "finding",
            "findings": "; ".join(self.findings),
            "state": data["state"],
            "next_due": data["due"],
        }


def external_rows(graph: Graph, latest: CapaImport | None, on: date) -> tuple[ExternalRow, ...]:
    """Each external CAPA a finding names, with the latest import's word on it."""
    named: dict[str, list[str]] = {}
    for finding in graph.of_type(FINDING):
        if finding.text("external_capa"):
            named.setdefault(finding.text("external_capa"), []).append(finding.id)
    imported = {row.capa_id: row for row in latest.rows} if latest else {}
    system = latest.source_system if latest else ""
    return tuple(
        ExternalRow(capa_id, tuple(ids), imported.get(capa_id), system, on)
        for capa_id, ids in sorted(named.items())
    )


def import_files(config: QmsConfig) -> list[Path]:
    """Every CAPA import file, in order."""
    folder = SignatureLayout.of(config).capa_imports
    return sorted(folder.glob(f"*{STATEMENT_SUFFIX}")) if folder.is_dir() else []


def latest_import(
    config: QmsConfig, keyring: Keyring, history: RegistryHistory
) -> tuple[CapaImport | None, tuple[Finding, ...]]:
    """The latest signed eQMS import that counts, and why any other does not."""
    latest: CapaImport | None = None
    findings: list[Finding] = []
    for path in import_files(config):
        shown = display_path(config.root, path)
        data = path.read_bytes()
        try:
            statement = CapaImport.from_bytes(data)
        except StatementError as exc:
            findings.append(Finding(shown, None, str(exc), FindingCode.CAPA))
            continue
        problem = ""
        if config.capa is None:
            problem = "no [tool.qms.capa] names who imports CAPA states"
        elif statement.role not in config.capa.import_roles:
            problem = (
                f"the role '{statement.role}' may not import CAPA states; [tool.qms.capa] "
                f"names {', '.join(config.capa.import_roles)}"
            )
        else:
            claim = Claim(statement.signer_fingerprint, statement.signed_at)
            verdict = verify_signed(
                keyring,
                SignatureLayout.signature_of(path),
                data,
                claim,
                RegisteredSigner(statement.role),
                history,
            )
            problem = "" if verdict.valid else verdict.problem
        if problem:
            findings.append(Finding(shown, None, problem, FindingCode.CAPA))
        elif latest is None or statement.signed_at > latest.signed_at:
            latest = statement
    return latest, tuple(findings)


@dataclass(frozen=True)
class CapaLog:
    """The CAPA log on a day, and why any signature in it does not count."""

    rows: tuple[CapaRow, ...]
    findings: tuple[Finding, ...]
    # Why the signer registry does not verify (then no signature counts).
    registry_findings: tuple[Finding, ...] = ()
    # CAPAs kept in an external eQMS that findings name.
    external: tuple[ExternalRow, ...] = ()

    @property
    def overdue(self) -> tuple[CapaRow | ExternalRow, ...]:
        """The CAPAs with an overdue action or effectiveness check, external ones too."""
        rows: tuple[CapaRow | ExternalRow, ...] = (*self.rows, *self.external)
        return tuple(row for row in rows if row.state is not None and row.state.overdue)


def log_table(log: CapaLog) -> list[dict[str, str]]:
    """Every row of the log, external ones after, each cell one text, in the same columns."""
    own = [row.as_flat() for row in log.rows]
    columns = list(own[0]) if own else ["id", "title", "source", "findings", "state", "next_due"]
    external = [{**dict.fromkeys(columns, ""), **row.as_flat()} for row in log.external]
    return own + external


def log_data(log: CapaLog) -> list[dict[str, Any]]:
    """Every row of the log as `qms capa --json` shows it, external ones after."""
    return [*(row.as_dict() for row in log.rows), *(row.as_dict() for row in log.external)]


@dataclass(frozen=True)
class CapaSigned:
    """What the CAPA log reads from signatures, whatever the day: the verified CAPA
    records and the latest import, or why none counts (`untrusted`)."""

    facts: CapaFacts
    latest: CapaImport | None
    findings: tuple[Finding, ...]
    untrusted: tuple[Finding, ...] = ()


def capa_signed(config: QmsConfig, graph: Graph) -> CapaSigned:
    """The signed CAPA records of `graph`'s CAPAs and the latest import, verified.

    A registry that does not verify makes no signature count.
    """
    by_id = {item.id: item for item in capa_items(graph)}
    with hermetic_keyring(SignatureLayout.of(config).keys) as keyring:
        registry = load_registry(config, keyring)
        if not registry.trusted:
            untrusted = registry.findings or (
                Finding("signatures", None, "no approved signer registry", FindingCode.REGISTRY),
            )
            return CapaSigned(CapaFacts({}, ()), None, (), tuple(untrusted))
        facts = load_capa(config, keyring, registry.history, by_id)
        latest, import_findings = latest_import(config, keyring, registry.history)
    return CapaSigned(facts, latest, facts.findings + import_findings)


def capa_log(
    config: QmsConfig, graph: Graph, on: date, signed: CapaSigned | None = None
) -> CapaLog:
    """The CAPAs of `graph`, with their signatures verified and their state on `on`;
    `signed`: what `capa_signed` found for the same graph and signatures."""
    signed = signed or capa_signed(config, graph)
    return CapaLog(
        tuple(capa_rows(capa_items(graph), signed.facts, on)),
        signed.findings,
        signed.untrusted,
        external_rows(graph, signed.latest, on),
    )


def capa_counts(log: CapaLog) -> CapaCounts | None:
    """Open and overdue CAPAs of the log, the handbook's own and the imported ones: what
    the KPIs `capas-open` and `capas-overdue` count. A CAPA is open until its
    effectiveness check found it effective. None for a log without any CAPA: a handbook
    that keeps no CAPA has no such value, which is not the same as none overdue."""
    if not log.rows and not log.external:
        return None
    states = [row.state for row in log.rows]
    states += [row.state for row in log.external if row.state is not None]
    return CapaCounts(
        open=sum(state is not CapaState.EFFECTIVE for state in states),
        overdue=sum(state.overdue for state in states),
    )
