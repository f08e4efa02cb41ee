"""Where approval records, keys, registry revisions and migrations live under signatures/."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qms.config import QmsConfig
from qms.model.approval import Statement
from qms.model.timestamp_policy import LATER_TOKEN_SUFFIX, TOKEN_SUFFIX

STATEMENT_SUFFIX = ".json"
SIGNATURE_SUFFIX = ".asc"


@dataclass(frozen=True)
class SignatureLayout:
    """Paths under the signatures folder of one handbook."""

    base: Path

    @classmethod
    def of(cls, config: QmsConfig) -> SignatureLayout:
        """The layout of a configured handbook."""
        return cls(config.signatures_path)

    @property
    def keys(self) -> Path:
        """Public keys of every registered signer, ever (published with each release)."""
        return self.base / "keys"

    @property
    def staff_keys(self) -> Path:
        """Public keys of people who sign only their own training acknowledgements: the
        roster, not the signer registry, says whose they are, and they are never published."""
        return self.training / "keys"

    @property
    def key_folders(self) -> tuple[Path, Path]:
        """Every folder a handbook keyring is built from: signers' keys and staff keys."""
        return (self.keys, self.staff_keys)

    @property
    def registry_file(self) -> Path:
        """The registry in force."""
        return self.base / "signers.yaml"

    @property
    def registry_history(self) -> Path:
        """Approved registry revisions and their signatures."""
        return self.base / "registry"

    @property
    def approvals(self) -> Path:
        """Approval records, one folder per document and version."""
        return self.base / "approvals"

    @property
    def migrations(self) -> Path:
        """Signed migrations that tie commit-less approval statements to commits."""
        return self.base / "migrations"

    @property
    def live_files(self) -> tuple[Path, ...]:
        """The files that are rewritten with each change (each revision or approval beside
        them is kept): everything else under signatures/ is only ever added."""
        return (self.registry_file, self.roster_file)

    @property
    def training(self) -> Path:
        """The roster, its HR approvals and training records (personal data: never published)."""
        return self.base / "training"

    @property
    def roster_file(self) -> Path:
        """The staff roster in force."""
        return self.training / "roster.yaml"

    @property
    def roster_approvals(self) -> Path:
        """HR's signed approvals of roster contents, one per change."""
        return self.training / "roster-approvals"

    @property
    def training_records(self) -> Path:
        """Training records, by year, named by their digest so no name shows in a path."""
        return self.training / "records"

    # Risk acceptances (issue 15)
    @property
    def risk_acceptances(self) -> Path:
        """Signed risk acceptances, one folder per risk; each file is only ever added."""
        return self.base / "risks" / "acceptances"

    def risk_acceptance_file(self, risk_id: str, signed_at: datetime, fingerprint: str) -> Path:
        """One acceptance, named by its time and signer so that none is ever overwritten."""
        stamp = signed_at.strftime("%Y%m%dT%H%M%SZ")
        return self.risk_acceptances / risk_id / f"{stamp}--{fingerprint[-16:]}{STATEMENT_SUFFIX}"

    # Internal audits and CAPA.
    @property
    def capa(self) -> Path:
        """CAPA closures and effectiveness verifications, one folder per CAPA."""
        return self.base / "capa"

    @property
    def capa_imports(self) -> Path:
        """CAPA states imported from an external eQMS, one signed file per import."""
        return self.base / "capa-imports"

    def capa_import_file(self, fingerprint: str, at: datetime) -> Path:
        """One signed import."""
        return self.capa_imports / f"{at.strftime('%Y%m%dT%H%M%SZ')}--{fingerprint[-16:]}.json"

    def capa_statement_file(self, capa_id: str, act: str, fingerprint: str, at: datetime) -> Path:
        """One file per signed closure or verification, so nothing is ever rewritten."""
        stamp = at.strftime("%Y%m%dT%H%M%SZ")
        return self.capa / capa_id / f"{act}--{fingerprint[-16:]}--{stamp}{STATEMENT_SUFFIX}"

    # Change impact (issue 17)
    @property
    def impact(self) -> Path:
        """Signed impact assessments of suspect links, one folder per downstream document."""
        return self.base / "impact"

    def impact_file(self, document_id: str, signed_at: datetime, fingerprint: str) -> Path:
        """One assessment, named by its time and signer so that none is ever overwritten."""
        stamp = signed_at.strftime("%Y%m%dT%H%M%SZ")
        return self.impact / document_id / f"{stamp}--{fingerprint[-16:]}{STATEMENT_SUFFIX}"

    # Validation of the tool (issue 19)
    @property
    def deviations(self) -> Path:
        """QA's signed dispositions of OQ deviations, one folder per results file."""
        return self.base / "validation" / "deviations"

    def deviation_file(
        self, results_sha256: str, test_id: str, signed_at: datetime, fingerprint: str
    ) -> Path:
        """One disposition, named by its time, signer and test (a digest: node ids hold
        characters no file name should) so that none is ever overwritten."""
        stamp = signed_at.strftime("%Y%m%dT%H%M%SZ")
        test = hashlib.sha256(test_id.encode("utf-8")).hexdigest()[:12]
        name = f"{stamp}--{fingerprint[-16:]}--{test}{STATEMENT_SUFFIX}"
        return self.deviations / results_sha256[:16] / name

    def migration_file(self, number: int) -> Path:
        """One migration statement (its signature lies beside it)."""
        return self.migrations / f"{number:04d}{STATEMENT_SUFFIX}"

    def key_file(self, fingerprint: str) -> Path:
        """Where a signer's public key is kept."""
        return self.keys / f"{fingerprint}{SIGNATURE_SUFFIX}"

    def staff_key_file(self, fingerprint: str) -> Path:
        """Where a roster-listed person's own public key is kept: named by a digest of the
        fingerprint, since a release manifest lists the paths it witnesses."""
        name = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
        return self.staff_keys / f"{name}{SIGNATURE_SUFFIX}"

    def revision_file(self, revision: int) -> Path:
        """The snapshot of one registry revision."""
        return self.registry_history / f"{revision:04d}.yaml"

    def revision_signature(self, revision: int, fingerprint: str) -> Path:
        """An administrator's signature over one registry revision."""
        return self.registry_history / f"{revision:04d}.{fingerprint[-16:]}{SIGNATURE_SUFFIX}"

    def document_folder(self, document_id: str) -> Path:
        """All approval records of one document."""
        return self.approvals / document_id

    # Retirement (issue 17)
    @property
    def retirements(self) -> Path:
        """Signed retirements, one folder per document and version, as approvals are filed."""
        return self.base / "retirements"

    def retirement_folder(self, document_id: str) -> Path:
        """All retirement records of one document."""
        return self.retirements / document_id

    def statement_file(self, statement: Statement) -> Path:
        """One file per signature, so parallel approvals never touch the same file; a
        retirement statement goes under retirements/, never beside the approvals."""
        stamp = statement.signed_at.strftime("%Y%m%dT%H%M%SZ")
        name = f"{statement.meaning}--{statement.signer_fingerprint[-16:]}--{stamp}"
        folder = (
            self.retirement_folder(statement.document_id)
            if statement.retirement_reason
            else self.document_folder(statement.document_id)
        )
        return folder / statement.version / (name + STATEMENT_SUFFIX)

    @staticmethod
    def signature_of(statement_path: Path) -> Path:
        """The detached signature beside a statement."""
        return statement_path.with_name(statement_path.name + SIGNATURE_SUFFIX)

    @staticmethod
    def token_of(signature_path: Path, later: bool = False) -> Path:
        """The time-stamp token beside a detached signature (`later`: one added after
        signing, by 'qms timestamp --missing')."""
        stem = signature_path.name.removesuffix(SIGNATURE_SUFFIX)
        return signature_path.with_name(stem + (LATER_TOKEN_SUFFIX if later else TOKEN_SUFFIX))

    @classmethod
    def kind_at(cls, signature_path: Path) -> str:
        """The statement kind of a signature, wherever its `signatures` folder lies (a
        handbook's or a published release's)."""
        base = next((p for p in signature_path.parents if p.name == "signatures"), None)
        return cls(base).kind_of(signature_path) if base is not None else ""

    def kind_of(self, signature_path: Path) -> str:
        """The statement kind (model/timestamp_policy.py KINDS) a signature is filed as,
        by the folder it lies in ("" outside them: no token is asked for)."""
        try:
            parts = signature_path.relative_to(self.base).parts
        except ValueError:
            return ""
        folders = {
            "approvals": "approval",
            "retirements": "retirement",
            "registry": "registry",
            "migrations": "migration",
            "capa": "capa",
            "capa-imports": "capa_import",
            "impact": "impact",
            "risks": "risk_acceptance",
            "releases": "release",
            "validation": "deviation",
        }
        if parts[:2] == ("training", "roster-approvals"):
            return "roster"
        if parts[:1] == ("training",):
            return "training"
        return folders.get(parts[0], "") if parts else ""
