"""What one `qms verify` found, as data front ends print: document rows and the --json shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from qms.config import QmsConfig
from qms.model.approval_rules import RecordVerdict
from qms.model.findings import Finding
from qms.model.retirement import Retirement, retirement_of
from qms.model.timeutil import format_utc
from qms.services.handbook import StatusRow
from qms.services.verify import Verification
from qms.services.witness import Witnessed


@dataclass(frozen=True)
class DocumentReport:
    """One verified document: its status row, its counted signatures and its findings."""

    row: StatusRow
    signatures: tuple[dict[str, str], ...]  # signer_summary() plus the verdict's note
    findings: tuple[Finding, ...]
    # When, why and by whom it was withdrawn, if its retirement verifies.
    retirement: Retirement | None = None

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        retired = self.retirement
        return {
            **self.row.as_dict(),
            "signatures": list(self.signatures),
            "retirement": None
            if retired is None
            else {
                "at": format_utc(retired.at),
                "reason": retired.reason,
                "keep_until": retired.keep_until.isoformat() if retired.keep_until else None,
                "signatures": [_summary(v) for v in retired.signatures],
            },
            "findings": [f.as_dict() for f in self.findings],
        }


def _summary(verdict: RecordVerdict) -> dict[str, str]:
    statement = verdict.record.statement
    if statement is None:
        return {}
    time_source = verdict.record.signature.time_source
    return {**statement.signer_summary(), "note": verdict.note, "time_source": time_source}


@dataclass(frozen=True)
class VerifyReport:
    """A verification, what the witnesses said after it, and each document's row on a date."""

    verification: Verification
    witnessed: Witnessed
    documents: tuple[DocumentReport, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every failure: the verification's, then the high-water mark's and the witnesses'."""
        return self.verification.findings + self.witnessed.findings

    def as_dict(self) -> dict[str, object]:
        """The shape `qms verify --json` prints."""
        verification = self.verification
        latest = verification.registry.history.latest
        return {
            "ok": not self.findings,
            "registry": {
                "revision": latest.revision if latest else None,
                "trusted": verification.registry.trusted,
                "findings": [f.as_dict() for f in verification.registry.findings],
            },
            "migrations": [f.as_dict() for f in verification.registry.migrations.findings],
            "altered": [f.as_dict() for f in verification.altered],
            "history_unchecked": verification.history_unchecked or None,
            "high_water": self.witnessed.high_water_dict(),
            "witness": [f.as_dict() for f in self.witnessed.witness],
            "line_endings": verification.line_endings or None,
            "documents": [document.as_dict() for document in self.documents],
        }


def verify_report(
    config: QmsConfig, verification: Verification, witnessed: Witnessed, on: date
) -> VerifyReport:
    """The report of a verification, with each document's status on `on`."""
    documents = tuple(
        DocumentReport(
            row,
            tuple(_summary(v) for v in verdict.signatures if v.record.statement is not None),
            verdict.findings,
            retirement_of(verdict, config.retention_years(row.document.type)),
        )
        for row, verdict in verification.rows(config, on)
    )
    return VerifyReport(verification, witnessed, documents)
