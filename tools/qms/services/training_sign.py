"""Making training records and roster changes: judged by the verifying rules, signed, committed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from qms.adapters.files import write_atomic
from qms.adapters.git import Repository
from qms.adapters.gpg import Keyring, UserKeys, hermetic_keyring, keys_in
from qms.config import QmsConfig
from qms.errors import RefusedError
from qms.model.csvcells import read_rows
from qms.model.document import Version
from qms.model.roster import ROSTER_ROLE, Roster, RosterApproval, from_csv
from qms.model.signers import SignerEntry
from qms.model.training import InForce
from qms.model.training_record import (
    METHOD_ROLES,
    SESSION_FORMS,
    Completed,
    Method,
    TrainingRecord,
    record_authority,
    record_refusal,
)
from qms.services.ceremony import approved_signing, require_protected, signing_summary
from qms.services.content import sha256_of
from qms.services.handbook import load_handbook, select
from qms.services.layout import STATEMENT_SUFFIX, SignatureLayout
from qms.services.registry import RegistryState, approved_policy, load_registry
from qms.services.signed_files import write_signed
from qms.services.signers import choose_key, signing_key
from qms.services.training import (
    approved_contents,
    completion_problem,
    in_force_items,
    load_roster,
    record_files,
)
from qms.services.verify import verify_handbook

IMPORT_COLUMNS = ("employee", "document_id", "version", "completed_on")


@dataclass(frozen=True)
class Filed:
    """What a training command wrote and committed."""

    path: Path
    commit: str
    signer: str
    count: int


def _signer(
    keyring: Keyring,
    registry: RegistryState,
    user_keys: UserKeys,
    key: str | None,
    role: str,
    now: datetime,
) -> tuple[str, SignerEntry]:
    """The key to sign with and its registry entry, when it may sign as `role` now."""
    return signing_key(
        keyring,
        registry,
        user_keys,
        key,
        now,
        role=role,
        untrusted="no training record can be trusted until it is repaired",
        unregistered=f"the role '{role}' is given with 'qms signers add'",
    )


def import_roster(
    config: QmsConfig,
    text: str,
    source: str,
    user_keys: UserKeys,
    key: str | None,
    now: datetime,
) -> Filed:
    """Replace the roster with an HR export, signed by a holder of the hr role.

    All or nothing: any bad row refuses the whole import, every bad row named. A person
    leaves by an end date on their roles, never by deletion, so that their training
    records stay judgeable.
    """
    roster, problems = from_csv(text, source)
    if roster is None:
        raise RefusedError(
            f"{len(problems)} bad row(s) in {source}; nothing was written",
            "correct the export and import it again",
            problems,
        )
    layout = SignatureLayout.of(config)
    moment = now.replace(microsecond=0)
    with hermetic_keyring(*layout.key_folders) as keyring:
        registry = load_registry(config, keyring)
        fingerprint, entry = _signer(keyring, registry, user_keys, key, ROSTER_ROLE, moment)
        in_force = load_roster(config, keyring, registry.history)
    previous = in_force.roster
    if in_force.latest_at is not None and moment <= in_force.latest_at:
        # A second import within the second of the last: state it one second later (well
        # inside the clock tolerance), so that it is the latest by construction.
        moment = in_force.latest_at + timedelta(seconds=1)
    dropped = sorted(
        {p.employee for p in previous.people} - {p.employee for p in roster.people}
        if previous
        else set()
    )
    if dropped:
        raise RefusedError(
            f"the export drops {', '.join(dropped)} from the roster; nothing was written",
            "people leave the roster by an end date ('until') on their roles, never by "
            "deletion, so that their training records stay judgeable",
        )
    data = roster.to_bytes()
    approval = RosterApproval(
        sha256_of(data),
        len(roster.people),
        entry.name,
        fingerprint,
        moment,
        f"CSV import of {Path(source).name} (SHA-256 {sha256_of(text.encode('utf-8'))})",
        wording=config.signing.wording("roster"),
    )
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    # The approval's own digest in the name: two imports within a second never share one.
    own = sha256_of(approval.to_bytes())[:12]
    path = layout.roster_approvals / f"{stamp}--{fingerprint[-16:]}--{own}{STATEMENT_SUFFIX}"
    summary = signing_summary(
        config,
        "Approve the staff roster",
        (("roster", f"{Path(source).name}: {len(roster.people)} people"),),
        sha256_of(data),
        "roster",
        meaning="roster",
        signer_name=entry.name,
        role=ROSTER_ROLE,
        fingerprint=fingerprint,
    )
    signed = write_signed(
        layout, path, approval.to_bytes(), moment, user_keys, fingerprint,
        summary=summary, timestamps=config.timestamps,
    )  # fmt: skip
    # Written once the approval is signed: a refused signing leaves the roster as it was.
    write_atomic(layout.roster_file, data)
    files = [layout.roster_file, *signed]
    commit = Repository(config.root).commit(
        sorted(files), f"Roster: {len(roster.people)} people, approved by {entry.name} (HR)\n"
    )
    return Filed(path, commit, entry.name, len(roster.people))


@dataclass(frozen=True)
class _Context:
    roster: Roster
    items: dict[str, InForce]


def _context(
    config: QmsConfig, keyring: Keyring, registry: RegistryState, ids: Sequence[str], now: datetime
) -> _Context:
    """The approved roster and, for `ids` (all when empty), what was approved of each."""
    roster = load_roster(config, keyring, registry.history)
    if roster.roster is None:
        problem = roster.findings[0].render() if roster.findings else "there is no roster"
        raise RefusedError(
            f"no approved staff roster ({problem})",
            "HR imports one with 'qms training roster import CSV --key HR-KEY'",
        )
    handbook = load_handbook(config)
    documents = select(handbook.documents, ids) if ids else handbook.documents
    verification = verify_handbook(config, handbook, documents, now=now)
    return _Context(
        roster.roster, in_force_items(documents, approved_contents(verification.verdicts))
    )


def _current(context: _Context, ids: Sequence[str]) -> list[tuple[str, Version, str]]:
    """(id, version, approved digest) of each document's current version, or a refusal."""
    found, problems = [], []
    for document_id in ids:
        item = context.items[document_id]
        version = item.document.version
        digest = item.approved.get(version)
        if digest is None:
            problems.append(
                f"{document_id} {version} is not approved: there is nothing to train on"
            )
        else:
            found.append((document_id, version, digest))
    if problems:
        raise RefusedError(problems[0], "train on approved versions only", problems[1:])
    return found


# The wording key of each way of making a record (model/ceremony.py).
_WORDING = {
    Method.SELF: "training",
    Method.SESSION: "training-session",
    Method.IMPORT: "training-import",
}


def _file(config: QmsConfig, record: TrainingRecord, user_keys: UserKeys, message: str) -> Filed:
    """Write a record under records/<year>/, named by its digest, and commit it."""
    layout = SignatureLayout.of(config)
    record = replace(record, wording=config.signing.wording(_WORDING[record.method]))
    data = record.to_bytes()
    year = record.signed_at.strftime("%Y")
    path = layout.training_records / year / f"{sha256_of(data)[:16]}{STATEMENT_SUFFIX}"
    fingerprint = record.signer_fingerprint
    # Someone who signs only for themselves keeps their key with the roster, unpublished.
    own = record.method is Method.SELF and not layout.key_file(fingerprint).is_file()
    key_path = layout.staff_key_file(fingerprint) if own else None
    documents = sorted({f"{c.document_id} {c.version}" for c in record.completions})
    people = {c.employee for c in record.completions}
    summary = signing_summary(
        config,
        f"Record training ({record.method})",
        (("documents", ", ".join(documents)), ("people", str(len(people)))),
        data,
        _WORDING[record.method],
        meaning=str(record.method),
        signer_name=record.signer_name,
        role=METHOD_ROLES[record.method] or "staff",
        fingerprint=fingerprint,
    )
    files = write_signed(
        layout,
        path,
        data,
        record.signed_at,
        user_keys,
        fingerprint,
        key_path,
        summary=summary,
        timestamps=config.timestamps,
    )
    commit = Repository(config.root).commit(files, message)
    return Filed(path, commit, record.signer_name, len(record.completions))


def acknowledge(
    config: QmsConfig, ids: Sequence[str], user_keys: UserKeys, key: str | None, now: datetime
) -> Filed:
    """Sign, with your own key, that you read and understood the current version of `ids`.

    The key need not be in the signer registry: the HR-approved roster says whose it is.
    """
    moment = now.replace(microsecond=0)
    layout = SignatureLayout.of(config)
    with hermetic_keyring(*layout.key_folders) as keyring:
        registry = load_registry(config, keyring)
        context = _context(config, keyring, registry, ids, moment)
        revoked = frozenset(keyring.revoked())
    listed = {fpr: p for p in context.roster.people for fpr in p.keys}
    fingerprint = choose_key(
        user_keys,
        key,
        listed,
        unlisted=(
            "none of your secret keys is listed on the staff roster",
            "HR adds your key fingerprint to your roster entry (column keys), or pass --key",
        ),
    )
    person = listed.get(fingerprint)
    if person is None:
        raise RefusedError(
            f"key {fingerprint} is not listed for anyone on the staff roster",
            "HR adds your key fingerprint to your roster entry (column keys)",
        )
    _refuse_expired(user_keys, fingerprint, moment)
    # Staff sign with their own keys, under the same rule as the registered signers.
    approved = registry.history.latest
    policy = approved_signing(approved_policy(approved) if approved else {})
    require_protected(user_keys, fingerprint, policy)
    completions = tuple(
        Completed(person.employee, document_id, version, digest, moment.date())
        for document_id, version, digest in _current(context, [*context.items])
    )
    record = TrainingRecord(Method.SELF, completions, person.name, fingerprint, moment)
    authority = record_authority(record, {person.employee: person.keys}, revoked)
    _, refusal = authority.refusal(registry.history, fingerprint, moment)
    problem = record_refusal(record) or refusal
    if problem:
        raise RefusedError(problem, "acknowledge with your own key")
    listed_ids = ", ".join(f"{c.document_id} {c.version}" for c in completions)
    return _file(config, record, user_keys, f"Training: {person.employee} read {listed_ids}\n")


def _refuse_expired(user_keys: UserKeys, fingerprint: str, now: datetime) -> None:
    """Refuse a key that has expired: what it signs now would not count."""
    for info in keys_in(user_keys.export_public(fingerprint)):
        if info.expires is not None and info.expires <= now:
            raise RefusedError(f"key {fingerprint} has expired", "renew it or use another key")


def attest_session(
    config: QmsConfig,
    ids: Sequence[str],
    attendees: Sequence[str],
    form: str,
    title: str,
    held_on: date,
    user_keys: UserKeys,
    key: str | None,
    now: datetime,
) -> Filed:
    """A trainer signs that `attendees` were trained on the current version of `ids`."""
    moment = now.replace(microsecond=0)
    if form not in SESSION_FORMS:
        raise RefusedError(f"unknown session form {form!r}", f"use {', '.join(SESSION_FORMS)}")
    if held_on > moment.date():
        raise RefusedError(f"the session date {held_on} lies in the future", "attest after it")
    layout = SignatureLayout.of(config)
    with hermetic_keyring(*layout.key_folders) as keyring:
        registry = load_registry(config, keyring)
        fingerprint, entry = _signer(
            keyring, registry, user_keys, key, METHOD_ROLES[Method.SESSION], moment
        )
        context = _context(config, keyring, registry, ids, moment)
    unknown = [e for e in attendees if context.roster.get(e) is None]
    if unknown:
        raise RefusedError(
            f"not on the staff roster: {', '.join(unknown)}; nothing was written",
            "give attendees by employee number, as the roster lists them",
        )
    completions = tuple(
        Completed(employee, document_id, version, digest, held_on)
        for employee in dict.fromkeys(attendees)
        for document_id, version, digest in _current(context, [*context.items])
    )
    record = TrainingRecord(
        Method.SESSION, completions, entry.name, fingerprint, moment, form=form, title=title
    )
    message = f"Training session {held_on} ({form}): {len(set(attendees))} attendee(s)\n"
    return _file(config, record, user_keys, message)


def import_completions(
    config: QmsConfig,
    text: str,
    source: str,
    system: str,
    user_keys: UserKeys,
    key: str | None,
    now: datetime,
) -> Filed:
    """The training coordinator signs the completions of a learning-system export.

    All or nothing: rows naming unknown people, documents or versions, or content that
    was never approved, refuse the whole import, each named by its line.
    """
    moment = now.replace(microsecond=0)
    layout = SignatureLayout.of(config)
    with hermetic_keyring(*layout.key_folders) as keyring:
        registry = load_registry(config, keyring)
        fingerprint, entry = _signer(
            keyring, registry, user_keys, key, METHOD_ROLES[Method.IMPORT], moment
        )
        context = _context(config, keyring, registry, (), moment)
    completions, problems = _import_rows(text, source, context, moment.date())
    if problems:
        raise RefusedError(
            f"{len(problems)} bad row(s) in {source}; nothing was written",
            "correct the export and import it again",
            problems,
        )
    if any(_imported_before(config, sha256_of(text.encode("utf-8")))):
        raise RefusedError(f"{source} was imported before", "each export is imported once")
    record = TrainingRecord(
        Method.IMPORT, tuple(completions), entry.name, fingerprint, moment,
        source_system=system, source_sha256=sha256_of(text.encode("utf-8")),
    )  # fmt: skip
    message = f"Training import from {system}: {len(completions)} completion(s)\n"
    return _file(config, record, user_keys, message)


def _import_rows(
    text: str, source: str, context: _Context, today: date
) -> tuple[list[Completed], list[str]]:
    rows, problems = read_rows(text, IMPORT_COLUMNS, source)
    if problems:
        return [], [f"{problems[0]}; the export needs {', '.join(IMPORT_COLUMNS)}"]
    completions: list[Completed] = []
    for line, cells in rows:
        where = f"{source}:{line}"
        try:
            version = Version.parse(cells["version"])
            completed_on = date.fromisoformat(cells["completed_on"])
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if completed_on > today:
            problems.append(f"{where}: completed_on {completed_on} lies in the future")
            continue
        item = context.items.get(cells["document_id"])
        digest = item.approved.get(version, "") if item else ""
        problem = completion_problem(
            cells["employee"], cells["document_id"], version, digest, context.roster,
            context.items,
        )  # fmt: skip
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        completions.append(
            Completed(cells["employee"], cells["document_id"], version, digest, completed_on)
        )
    if not completions and not problems:
        problems.append(f"{source}: the export holds no rows")
    return completions, problems


def _imported_before(config: QmsConfig, digest: str) -> list[Path]:
    """Records that already import an export with this SHA-256."""
    found = []
    for path in record_files(config):
        try:
            record = TrainingRecord.from_bytes(path.read_bytes())
        except ValueError:
            continue
        if record.source_sha256 == digest:
            found.append(path)
    return found
