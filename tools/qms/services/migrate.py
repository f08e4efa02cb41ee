"""Writing a signed migration: each untied qms-approval/1 record gets the commit of its content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qms.adapters.git import Repository
from qms.adapters.gpg import Keyring, UserKeys, hermetic_keyring
from qms.config import QmsConfig
from qms.errors import RefusedError
from qms.model.approval import Statement, StatementError
from qms.model.migration import Migration, Tie
from qms.model.signers import REGISTRY_ADMIN
from qms.services.ceremony import approved_signing, require_protected, signing_summary
from qms.services.content import sha256_of
from qms.services.handbook import display_path
from qms.services.history import Revision, document_revisions
from qms.services.layout import STATEMENT_SUFFIX, SignatureLayout
from qms.services.migration import Migrations, migration_numbers
from qms.services.registry import approved_policy, load_registry
from qms.services.signed_files import write_signed


@dataclass(frozen=True)
class MigrationResult:
    """What `migrate` tied and committed, and the records it could not tie, with why."""

    migration: Migration | None
    path: Path | None
    commit: str
    untied: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Pending:
    """An untied qms-approval/1 record and where git keeps it."""

    shown: str
    in_repo: str
    data: bytes
    statement: Statement


def migrate(config: QmsConfig, admin: str, user_keys: UserKeys, now: datetime) -> MigrationResult:
    """Tie every untied qms-approval/1 record to a commit that held its signed content.

    The migration is one statement signed by `admin`, a registry administrator, and
    committed; with nothing to tie, nothing is written.
    """
    repo = Repository(config.root)
    layout = SignatureLayout.of(config)
    with hermetic_keyring(layout.keys) as keyring:
        state = load_registry(config, keyring)
        latest = state.approved("a registry administrator repairs it before anything is migrated")
        refusal = state.history.administrator_refusal(admin, now)
        if refusal:
            raise RefusedError(
                f"cannot sign the migration: {refusal}",
                "pass --key with a registry administrator's key",
            )
        require_protected(user_keys, admin, approved_signing(approved_policy(latest)))
        pending, untied = _untied_records(config, repo, keyring, state.migrations)
    ties: list[Tie] = []
    revisions = document_revisions(config, repo) if pending else {}
    added = repo.first_added(layout.approvals) if pending else {}
    prefix = config.root.resolve().relative_to(repo.root.resolve())
    for record in pending:
        commit = _commit_of(
            repo, record, added, revisions.get(record.statement.document_id, []), prefix
        )
        if commit:
            ties.append(Tie(record.shown, sha256_of(record.data), commit))
        else:
            untied.append((record.shown, "no commit in this branch holds the content it signed"))
    if not ties:
        return MigrationResult(None, None, "", tuple(untied))
    entry = latest.get(admin)
    migration = Migration(
        number=max(migration_numbers(config), default=0) + 1,
        signer_name=entry.name if entry is not None else admin,
        signer_fingerprint=admin,
        signed_at=now.replace(microsecond=0),
        ties=tuple(ties),
        wording=config.signing.wording("migration"),
    )
    path = layout.migration_file(migration.number)
    data = migration.to_bytes()
    summary = signing_summary(
        config,
        f"Sign migration {migration.number}",
        (("statements", f"{len(ties)} qms-approval/1 statement(s) tied to their commits"),),
        data,
        "migration",
        signer_name=migration.signer_name,
        role=REGISTRY_ADMIN,
        fingerprint=admin,
    )
    files = write_signed(
        layout,
        path,
        data,
        migration.signed_at,
        user_keys,
        admin,
        summary=summary,
        timestamps=config.timestamps,
    )
    message = (
        f"Tie {len(ties)} qms-approval/1 statements to the commits that held their content\n\n"
        f"Migration {migration.number}, signed by {migration.signer_name} ({admin}).\n"
    )
    commit = repo.commit(files, message)
    return MigrationResult(migration, path, commit, tuple(untied))


def _untied_records(
    config: QmsConfig, repo: Repository, keyring: Keyring, migrations: Migrations
) -> tuple[list[_Pending], list[tuple[str, str]]]:
    """Committed, genuinely signed qms-approval/1 records no migration ties yet."""
    pending: list[_Pending] = []
    refused: list[tuple[str, str]] = []
    approvals = SignatureLayout.of(config).approvals
    for path in sorted(approvals.glob(f"*/*/*{STATEMENT_SUFFIX}")):
        data = path.read_bytes()
        shown = display_path(config.root, path)
        try:
            statement = Statement.from_bytes(data)
        except StatementError:
            continue  # verify reports it; there is no content to tie
        if statement.commit or migrations.commit_for(shown, data):
            continue
        if repo.uncommitted(path):
            refused.append((shown, "not committed: commit it first"))
            continue
        # An administrator attests to genuine records only; a forgery stays a finding.
        facts = keyring.verify(SignatureLayout.signature_of(path), data)
        if not facts.good:
            refused.append((shown, f"signature does not verify: {facts.problem}"))
            continue
        in_repo = path.resolve().relative_to(repo.root.resolve()).as_posix()
        pending.append(_Pending(shown, in_repo, data, statement))
    return pending, refused


def _commit_of(
    repo: Repository,
    record: _Pending,
    added: dict[str, str],
    revisions: list[Revision],
    prefix: Path,
) -> str:
    """A commit whose tree held exactly the signed content, or "".

    First the commit the record was added on top of (HEAD when it was signed, what a
    qms-approval/2 statement names), then the one that added it, then every commit that
    changed the document, newest first.
    """
    statement = record.statement
    candidates: list[str] = []
    if record.in_repo in added:
        candidates += [*repo.parents(added[record.in_repo])[:1], added[record.in_repo]]
    candidates += [
        r.commit for r in reversed(revisions) if r.content_sha256 == statement.content_sha256
    ]
    paths = list(dict.fromkeys(r.path for r in reversed(revisions) if not r.deleted))

    def held(commit: str, path: str, digest: str) -> bool:
        data = repo.blob_at(commit, (prefix / path).as_posix())
        return (
            data is None if digest == "missing" else data is not None and sha256_of(data) == digest
        )

    for commit in dict.fromkeys(candidates):
        if any(held(commit, path, statement.content_sha256) for path in paths) and all(
            held(commit, path, digest) for path, digest in statement.includes
        ):
            return commit
    return ""
