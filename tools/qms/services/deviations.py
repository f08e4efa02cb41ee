"""OQ deviations and QA's verified dispositions of them, for the report and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qms.adapters.gpg import Keyring, hermetic_keyring
from qms.config import QmsConfig
from qms.model.canonical import StatementError
from qms.model.deviation import DISPOSITION_ROLE, Deviation, Disposition, deviations
from qms.model.findings import Finding, FindingCode
from qms.model.oq_results import OqResults
from qms.model.registry_history import RegistryHistory
from qms.model.signature_rules import Claim, RegisteredSigner
from qms.services.handbook import display_path
from qms.services.layout import STATEMENT_SUFFIX, SignatureLayout
from qms.services.registry import load_registry
from qms.services.signatures import prefetch, verify_signed


@dataclass(frozen=True)
class DeviationReport:
    """Each deviation of one results file with its disposition, and the dispositions that
    do not count."""

    results: OqResults
    deviations: tuple[Deviation, ...]
    findings: tuple[Finding, ...]

    @property
    def undisposed(self) -> tuple[Deviation, ...]:
        """The deviations no verified disposition answers for."""
        return tuple(d for d in self.deviations if not d.disposed)


def disposition_files(config: QmsConfig, results: OqResults) -> list[Path]:
    """The disposition files filed for these results, in order."""
    folder = SignatureLayout.of(config).deviations / results.sha256[:16]
    return sorted(folder.glob(f"*{STATEMENT_SUFFIX}")) if folder.is_dir() else []


def verified_dispositions(
    config: QmsConfig, keyring: Keyring, history: RegistryHistory, results: OqResults
) -> tuple[list[Disposition], list[Finding]]:
    """The dispositions of these results that verify (signed by a registered QA key at
    signing time, unaltered), and a finding for each that does not."""
    read: list[tuple[Path, bytes, Disposition]] = []
    findings: list[Finding] = []
    for path in disposition_files(config, results):
        data = path.read_bytes()
        try:
            read.append((path, data, Disposition.from_bytes(data)))
        except StatementError as exc:
            shown = display_path(config.root, path)
            findings.append(Finding(shown, None, str(exc), FindingCode.DISPOSITION))
    prefetch(keyring, ((SignatureLayout.signature_of(p), data) for p, data, _ in read))
    valid: list[Disposition] = []
    for path, data, disposition in read:
        verdict = verify_signed(
            keyring,
            SignatureLayout.signature_of(path),
            data,
            Claim(disposition.signer_fingerprint, disposition.signed_at),
            RegisteredSigner(DISPOSITION_ROLE),
            history,
        )
        if verdict.valid and disposition.signer_role == DISPOSITION_ROLE:
            valid.append(disposition)
            continue
        problem = verdict.problem or f"signed as {disposition.signer_role}, not {DISPOSITION_ROLE}"
        shown = display_path(config.root, path)
        findings.append(
            Finding(shown, None, f"{disposition.test_id}: {problem}", FindingCode.DISPOSITION)
        )
    return valid, findings


def deviation_report(
    config: QmsConfig, results: OqResults, keyring: Keyring | None = None
) -> DeviationReport:
    """The deviations of `results`, each with the verified disposition answering for it
    (judged at its own signing time); `keyring`: a hermetic keyring of the handbook."""
    if keyring is None:
        with hermetic_keyring(SignatureLayout.of(config).keys) as own:
            return _report(config, results, own)
    return _report(config, results, keyring)


def _report(config: QmsConfig, results: OqResults, keyring: Keyring) -> DeviationReport:
    registry = load_registry(config, keyring)
    if not registry.trusted:
        valid: list[Disposition] = []
        findings = list(registry.findings)
    else:
        valid, findings = verified_dispositions(config, keyring, registry.history, results)
    return DeviationReport(results, deviations(results, valid), tuple(findings))
