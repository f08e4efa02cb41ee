"""The one signed-statement service: a detached signature read by gpg, judged by the shared rules.

Approvals, registry revisions, migrations and release signatures all pass through
`verify_signed`; a new statement kind brings its parser, its `Claim` and its `Authority`
(`model/signature_rules.py`), not a loop of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from qms.adapters.gpg import Keyring
from qms.model.registry_history import RegistryHistory
from qms.model.signature_rules import (
    Authority,
    Claim,
    SignatureFacts,
    SignatureVerdict,
    judge_signature,
)


def signature_facts(keyring: Keyring, signature: Path, data: bytes) -> SignatureFacts:
    """What gpg says of `signature` over `data`; a missing signature file is named."""
    if not signature.is_file():
        return SignatureFacts(False, problem=f"signature file {signature.name} is missing")
    return keyring.verify(signature, data)


def verify_signed(
    keyring: Keyring,
    signature: Path,
    data: bytes,
    claim: Claim,
    authority: Authority,
    history: RegistryHistory,
) -> SignatureVerdict:
    """Judge the detached `signature` over a statement's `data`."""
    return judge_signature(signature_facts(keyring, signature, data), claim, authority, history)


def prefetch(keyring: Keyring, items: Iterable[tuple[Path, bytes]]) -> None:
    """Have gpg check many signatures at once (in parallel); later calls reuse the results."""
    keyring.verify_many([(signature, data) for signature, data in items if signature.is_file()])
