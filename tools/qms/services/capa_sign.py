"""Closing a CAPA and verifying its effectiveness: judged by the reading rules, signed, filed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from qms.adapters.git import Repository
from qms.adapters.gpg import UserKeys, hermetic_keyring
from qms.config import QmsConfig
from qms.errors import QmsError, RefusedError
from qms.model.audits import CapaItem, capa_items
from qms.model.capa import Act, CapaPolicy, CapaStatement, Result, open_actions, statement_refusal
from qms.model.capa_import import CapaImport, from_csv
from qms.model.signers import SignerEntry
from qms.services.capa import CapaRecord, load_capa
from qms.services.ceremony import signing_summary
from qms.services.content import sha256_of
from qms.services.layout import SignatureLayout
from qms.services.registry import load_registry
from qms.services.signed_files import write_signed
from qms.services.signers import signing_key
from qms.services.traceability import load_graph


@dataclass(frozen=True)
class Signed:
    """What a CAPA command wrote and committed."""

    path: Path
    commit: str
    signer: str
    role: str
    count: int = 1


def _policy(config: QmsConfig) -> CapaPolicy:
    if config.capa is None:
        raise QmsError(
            "no [tool.qms.capa] names who closes and verifies CAPAs",
            "add it to pyproject.toml (close_roles, verify_roles, gxp_roles) and have a "
            "registry administrator approve it with 'qms signers policy'",
        )
    return config.capa


def find_capa(items: list[CapaItem], capa_id: str) -> CapaItem:
    """The CAPA `capa_id` of the handbook; a refusal naming the closest id otherwise."""
    for item in items:
        if item.id == capa_id:
            return item
    close = difflib.get_close_matches(capa_id, [i.id for i in items], n=1)
    hint = f"did you mean {close[0]}?" if close else "'qms capa' lists the CAPAs"
    raise QmsError(f"no CAPA {capa_id} in the handbook", hint)


def _role(entry: SignerEntry, allowed: tuple[str, ...], act: Act, item: CapaItem) -> str:
    """The first of `allowed` the signer holds; a refusal when none."""
    for role in allowed:
        if role in entry.roles:
            return role
    kind = "a GxP-relevant CAPA" if item.gxp else "this CAPA"
    raise RefusedError(
        f"{entry.name} holds none of the roles that may {act} {kind} ({', '.join(allowed)})",
        "sign with a key of one of those roles ([tool.qms.capa])",
    )


def sign_capa(
    config: QmsConfig,
    capa_id: str,
    act: Act,
    user_keys: UserKeys,
    key: str | None,
    now: datetime,
    *,
    result: Result | None = None,
    checked_on: date | None = None,
    comment: str = "",
) -> Signed:
    """Close `capa_id`, or record its effectiveness check; refuse with nothing written when
    the rules the log applies would not count it."""
    policy = _policy(config)
    moment = now.replace(microsecond=0)
    run = load_graph(config)
    items = capa_items(run.graph)
    item = find_capa(items, capa_id)
    layout = SignatureLayout.of(config)
    with hermetic_keyring(layout.keys) as keyring:
        registry = load_registry(config, keyring)
        fingerprint, entry = signing_key(
            keyring,
            registry,
            user_keys,
            key,
            moment,
            untrusted="no CAPA can be closed or verified until it is repaired",
            unregistered="use your key",
        )
        record = load_capa(config, keyring, registry.history, {i.id: i for i in items}).of(capa_id)
    _refuse_state(item, act, record)
    role = _role(entry, policy.roles_for(act, item.gxp), act, item)
    statement = CapaStatement(
        capa_id,
        act,
        role,
        entry.name,
        fingerprint,
        moment,
        checked_on=(checked_on or moment.date()) if act is Act.VERIFY else None,
        criterion=item.need.text("criterion") if act is Act.VERIFY else "",
        result=result if act is Act.VERIFY else None,
        comment=" ".join(comment.split()),
        wording=config.signing.wording("capa-closure" if act is Act.CLOSE else "capa-verification"),
    )
    problem = statement_refusal(statement, item.gxp, policy, record.closure)
    if problem:
        raise RefusedError(f"{capa_id}: {problem}; nothing was written", _HINTS[act])
    path = layout.capa_statement_file(capa_id, str(act), fingerprint, moment)
    data = statement.to_bytes()
    verb = "Close" if act is Act.CLOSE else "Record the effectiveness check of"
    summary = signing_summary(
        config,
        f"{verb} {capa_id}",
        (("CAPA", f"{capa_id} {item.need.title}"),),
        data,
        "capa-closure" if act is Act.CLOSE else "capa-verification",
        meaning=str(act) if result is None else f"{act}: {result}",
        signer_name=entry.name,
        role=role,
        fingerprint=fingerprint,
    )
    files = write_signed(
        layout,
        path,
        data,
        moment,
        user_keys,
        fingerprint,
        summary=summary,
        timestamps=config.timestamps,
    )
    what = "closed" if act is Act.CLOSE else f"effectiveness check: {result}"
    commit = Repository(config.root).commit(files, f"{capa_id} {what}, signed by {entry.name}\n")
    return Signed(path, commit, entry.name, role)


_HINTS = {
    Act.CLOSE: "close a CAPA once its actions are done",
    Act.VERIFY: "date the check on or after the closure, and no later than today (--on DATE)",
}


def _refuse_state(item: CapaItem, act: Act, record: CapaRecord) -> None:
    """Refuse a closure or verification the CAPA's state does not allow."""
    if act is Act.CLOSE:
        if record.closure is not None:
            raise RefusedError(
                f"{item.id} is already closed ({record.closure.signed_at.date()}); nothing "
                "was written",
                f"record its effectiveness check with 'qms capa verify {item.id}'",
            )
        pending = open_actions((a.id, a.done) for a in item.actions)
        if pending:
            raise RefusedError(
                f"{item.id} has actions not done ({', '.join(pending)}); nothing was written",
                "set ':done: YYYY-MM-DD' on each action once it is done",
            )
        return
    if record.closure is None:
        raise RefusedError(
            f"{item.id} is not closed; nothing was written",
            f"close it first with 'qms capa close {item.id}'",
        )
    if record.verification is not None:
        raise RefusedError(
            f"{item.id}'s effectiveness was already checked "
            f"({record.verification.checked_on}: {record.verification.result}); nothing was "
            "written",
            "a CAPA that was not effective is followed by a new CAPA",
        )


def import_states(
    config: QmsConfig,
    text: str,
    source: str,
    system: str,
    user_keys: UserKeys,
    key: str | None,
    now: datetime,
) -> Signed:
    """Sign the CAPA states of an eQMS export as one import; all or nothing, every bad row
    named."""
    policy = _policy(config)
    rows, problems = from_csv(text, source)
    if rows is None:
        raise RefusedError(
            f"{len(problems)} bad row(s) in {source}; nothing was written",
            "correct the export and import it again",
            problems,
        )
    system = " ".join(system.split())
    if not system:
        raise QmsError("an import names its source system", "pass --system 'the eQMS'")
    moment = now.replace(microsecond=0)
    layout = SignatureLayout.of(config)
    with hermetic_keyring(layout.keys) as keyring:
        registry = load_registry(config, keyring)
        fingerprint, entry = signing_key(
            keyring,
            registry,
            user_keys,
            key,
            moment,
            untrusted="no CAPA import can be trusted until it is repaired",
            unregistered="use your key",
        )
    role = next((r for r in policy.import_roles if r in entry.roles), "")
    if not role:
        raise RefusedError(
            f"{entry.name} holds none of the roles that may import CAPA states "
            f"({', '.join(policy.import_roles)}); nothing was written",
            "sign with a key of one of those roles ([tool.qms.capa] import_roles)",
        )
    statement = CapaImport(
        rows, system, sha256_of(text.encode("utf-8")), role, entry.name, fingerprint, moment,
        wording=config.signing.wording("capa-import"),
    )  # fmt: skip
    path = layout.capa_import_file(fingerprint, moment)
    data = statement.to_bytes()
    summary = signing_summary(
        config,
        f"Import {len(rows)} CAPA state(s) from {system}",
        (("export", f"{source} ({len(rows)} rows)"),),
        data,
        "capa-import",
        meaning="import",
        signer_name=entry.name,
        role=role,
        fingerprint=fingerprint,
    )
    files = write_signed(
        layout,
        path,
        data,
        moment,
        user_keys,
        fingerprint,
        summary=summary,
        timestamps=config.timestamps,
    )
    commit = Repository(config.root).commit(
        files, f"CAPA states: {len(rows)} from {system}, signed by {entry.name}\n"
    )
    return Signed(path, commit, entry.name, role, len(rows))
