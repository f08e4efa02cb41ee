"""The rules that chain signer-registry revisions: approved, in time, undoing nothing before."""

from __future__ import annotations

from datetime import datetime

from qms.model.line_endings import ONLY_LINE_ENDINGS
from qms.model.signers import Registry


def approval_refusal(
    number: int, approvals: list[datetime], problems: list[str], crlf_only: bool
) -> tuple[str, bool]:
    """Why revision `number` is not approved by its signatures ("" if it is), and whether
    the only fault is a CRLF copy of what was signed.

    `approvals` are the signing times of the signatures that count; `problems` name each
    one that does not. One that does not count beside one that does is still a forged or
    damaged record in the controlled registry, so it fails the revision too.
    """
    if not approvals and crlf_only:
        return f"registry revision {number} {ONLY_LINE_ENDINGS}", True
    if not approvals:
        detail = "; ".join(problems) or "no signature"
        return (
            f"registry revision {number} is not approved by a registry administrator ({detail})",
            False,
        )
    if problems:
        return (
            f"registry revision {number} has a signature that does not count: "
            f"{'; '.join(problems)}; remove it with git only if it was never approved",
            False,
        )
    return "", False


def succession_refusal(
    previous: tuple[Registry, datetime] | None, registry: Registry, approved_at: datetime
) -> str:
    """Why `registry`, approved at `approved_at`, may not follow `previous` ("" if it may).

    Revisions follow each other in time; a revocation is final (neither lifted nor moved
    later); signers are revoked, never removed, so their past signatures stay judgeable.
    """
    if previous is None:
        return ""
    before, before_approved = previous
    number = registry.revision
    if approved_at < before_approved:
        return (
            f"revision {number} is approved before revision {number - 1} was; "
            "registry revisions follow each other in time"
        )
    undone = [
        entry.fingerprint
        for entry in before.signers
        if entry.revoked_at is not None
        and (
            (now_entry := registry.get(entry.fingerprint)) is None
            or now_entry.revoked_at is None
            or now_entry.revoked_at > entry.revoked_at
        )
    ]
    if undone:
        return (
            f"revision {number} lifts or delays the revocation of "
            f"{', '.join(undone)}; a revocation is final"
        )
    dropped = {s.fingerprint for s in before.signers} - {s.fingerprint for s in registry.signers}
    if dropped:
        return (
            f"revision {number} deletes signers {', '.join(sorted(dropped))}; "
            "signers are revoked, never removed"
        )
    return ""
