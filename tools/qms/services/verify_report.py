"""What one `qms verify` found, as data front ends print: document rows and the --json shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from qms.config import QmsConfig
from qms.model.findings import Finding
from qms.services.handbook import StatusRow
from qms.services.verify import Verification
from qms.services.witness import Witnessed


@dataclass(frozen=True)
class DocumentReport:
    """One verified document: its status row, its counted signatures and its findings."""

    row: StatusRow
    signatures: tuple[dict[str, str], ...]  # signer_summary() plus the verdict's note
    findings: tuple[Finding, ...]

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {
            **self.row.as_dict(),
            "signatures": list(self.signatures),
            "findings": [f.as_dict() for f in self.findings],
        }


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
            tuple(
                {
                    **v.record.statement.signer_summary(),
                    "note": v.note,
                    "time_source": v.record.signature.time_source,
                }
                for v in verdict.signatures
                if v.record.statement is not None
            ),
            verdict.findings,
        )
        for row, verdict in verification.rows(config, on)
    )
    return VerifyReport(verification, witnessed, documents)
