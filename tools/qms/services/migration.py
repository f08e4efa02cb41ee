"""Signed migrations, verified: which qms-approval/1 records are tied to which commit."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from qms.adapters.gpg import Keyring
from qms.config import QmsConfig
from qms.model.approval import StatementError
from qms.model.approval_rules import CLOCK_TOLERANCE
from qms.model.findings import Finding, FindingCode
from qms.model.migration import Migration, Tie
from qms.model.registry_history import RegistryHistory
from qms.model.timeutil import format_utc
from qms.services.content import sha256_of
from qms.services.handbook import display_path
from qms.services.layout import SignatureLayout

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
    signature_path = SignatureLayout.signature_of(layout.migration_file(number))
    if not signature_path.is_file():
        return f"signature file {signature_path.name} is missing", None
    facts = keyring.verify(signature_path, data)
    if not facts.good or facts.signed_at is None or facts.fingerprint is None:
        return f"signature does not verify: {facts.problem or 'bad signature'}", None
    if facts.fingerprint != migration.signer_fingerprint:
        return (
            f"signed with key {facts.fingerprint}, but it names {migration.signer_fingerprint}",
            None,
        )
    if abs(facts.signed_at - migration.signed_at) > CLOCK_TOLERANCE:
        return (
            f"statement time {format_utc(migration.signed_at)} does not match the signature "
            f"time {format_utc(facts.signed_at)}",
            None,
        )
    if facts.key_expires is not None and facts.signed_at >= facts.key_expires:
        return f"signed after the key expired at {format_utc(facts.key_expires)}", None
    refusal = history.administrator_refusal(facts.fingerprint, facts.signed_at)
    return (refusal, None) if refusal else ("", migration)
