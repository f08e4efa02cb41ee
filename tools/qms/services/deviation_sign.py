"""Signing QA's disposition of one OQ deviation: judged, signed, filed and committed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qms.adapters.git import Repository
from qms.adapters.gpg import UserKeys, hermetic_keyring
from qms.config import QmsConfig
from qms.errors import RefusedError
from qms.model.deviation import DISPOSITION_ROLE, Decision, Disposition, disposition_refusal
from qms.services.ceremony import signing_summary
from qms.services.deviations import deviation_report
from qms.services.handbook import display_path
from qms.services.layout import SignatureLayout
from qms.services.registry import load_registry
from qms.services.signed_files import write_signed
from qms.services.signers import signing_key
from qms.services.validation_files import read_oq_results


@dataclass(frozen=True)
class Disposed:
    """What `qms validate disposition` wrote and committed."""

    disposition: Disposition
    path: Path
    commit: str


def dispose(
    config: QmsConfig,
    results_path: Path,
    test_id: str,
    decision: Decision,
    reason: str,
    user_keys: UserKeys,
    key: str | None,
    now: datetime,
) -> Disposed:
    """Sign QA's disposition of the deviation `test_id` of the committed results at
    `results_path`; refuse with nothing written when it would not count."""
    results = read_oq_results(results_path)
    reason = " ".join(reason.split())
    refusal = disposition_refusal(results, test_id, reason)
    if refusal:
        raise RefusedError(f"{refusal}; nothing was written", "'qms validate oq' lists them")
    repo = Repository(config.root)
    shown = display_path(config.root, results_path)
    if repo.uncommitted(results_path):
        raise RefusedError(
            f"{shown} has changes that are not committed",
            "commit the OQ results first: a disposition binds the results git holds",
        )
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
            role=DISPOSITION_ROLE,
            untrusted="no disposition can be trusted until a registry administrator repairs it",
            unregistered=f"a deviation is disposed of by QA: sign with a key of the "
            f"{DISPOSITION_ROLE} role",
        )
        report = deviation_report(config, results, keyring)
    case = results.case(test_id)
    assert case is not None  # disposition_refusal found it
    earlier = next((d for d in report.deviations if d.case.test_id == test_id), None)
    if earlier is not None and earlier.disposition is not None:
        raise RefusedError(
            f"{test_id} is already disposed of ({earlier.disposition.decision} by "
            f"{earlier.disposition.signer_name}); nothing was written",
            "a new OQ run gives new results, and new deviations to dispose of",
        )
    disposition = Disposition(
        test_id=test_id,
        results_sha256=results.sha256,
        outcome=str(case.outcome),
        decision=decision,
        reason=reason,
        signer_name=entry.name,
        signer_fingerprint=fingerprint,
        signer_role=DISPOSITION_ROLE,
        signed_at=moment,
    )
    data = disposition.to_bytes()
    summary = signing_summary(
        config,
        f"Dispose of the OQ deviation {test_id}",
        (
            ("OQ results", f"{shown} (SHA-256 {results.sha256[:16]}…)"),
            ("deviation", f"{case.outcome}: {case.message or 'no message'}"),
            ("decision", str(decision)),
        ),
        data,
        "deviation",
        meaning=str(decision),
        signer_name=entry.name,
        role=DISPOSITION_ROLE,
        fingerprint=fingerprint,
        extra=(("reason", reason),),
    )
    path = layout.deviation_file(results.sha256, test_id, moment, fingerprint)
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
    message = (
        f"OQ deviation {test_id} ({case.outcome}): {decision} by {entry.name} "
        f"({DISPOSITION_ROLE})\n\n{reason}\n\nOQ results: {shown} sha256 {results.sha256}\n"
    )
    return Disposed(disposition, path, repo.commit(files, message))
