"""Signed migrations, verified: which qms-approval/1 records are tied to which commit."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from qms.adapters.gpg import Keyring
from qms.config import QmsConfig
from qms.model.approval import StatementError
from qms.model.findings import Finding, FindingCode
from qms.model.migration import Migration, Tie
from qms.model.registry_history import RegistryHistory
from qms.model.signature_rules import Claim, RegistryAdministrator
from qms.services.content import sha256_of
from qms.services.handbook import display_path
from qms.services.layout import SignatureLayout
from qms.services.signatures import verify_signed

MIGRATION_FILE = re.compile(r"^(\d{4})\.json$")


@dataclass(frozen=True)
class Migrations:
    """The ties of every migration that counts, and a finding for each that does not."""

    ties: Mapping[str, Tie] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()

    def commit_for(self, path: str, data: bytes) -> str:
        """The commit a record at `path` (handbook-relative) with bytes `data` is tied to."""
        tie = self.ties.get(path)
        return tie.commit if tie is not None and tie.sha256 == sha256_of(data) else ""


NO_MIGRATIONS = Migrations()


def migration_numbers(config: QmsConfig) -> list[int]:
    """The numbers of the migration files present, in order."""
    folder = SignatureLayout.of(config).migrations
    found = (MIGRATION_FILE.match(p.name) for p in folder.iterdir()) if folder.is_dir() else ()
    return sorted(int(m.group(1)) for m in found if m)


def load_migrations(config: QmsConfig, keyring: Keyring, history: RegistryHistory) -> Migrations:
    """Every migration, checked like a registry revision: a registry-admin's signature.

    A migration that does not count ties nothing, so its records stay findings.
    """
    layout = SignatureLayout.of(config)
    ties: dict[str, Tie] = {}
    findings: list[Finding] = []
    for number in migration_numbers(config):
        path = layout.migration_file(number)
        problem, migration = _check(number, path.read_bytes(), keyring, history, layout)
        if migration is None:
            message = (
                f"migration {number} does not count: {problem}; the records it lists stay untied"
            )
            findings.append(
                Finding(display_path(config.root, path), None, message, FindingCode.MIGRATION)
            )
            continue
        for tie in migration.ties:
            ties.setdefault(tie.path, tie)
    return Migrations(ties, tuple(findings))


def _check(
    number: int, data: bytes, keyring: Keyring, history: RegistryHistory, layout: SignatureLayout
) -> tuple[str, Migration | None]:
    """(why it does not count, None) or ("", the migration)."""
    try:
        migration = Migration.from_bytes(data)
    except StatementError as exc:
        return str(exc), None
    if migration.number != number:
        return f"the file holds migration {migration.number}", None
    signature = SignatureLayout.signature_of(layout.migration_file(number))
    claim = Claim(migration.signer_fingerprint, migration.signed_at)
    verdict = verify_signed(keyring, signature, data, claim, RegistryAdministrator(), history)
    return (verdict.problem, None) if verdict.problem else ("", migration)
