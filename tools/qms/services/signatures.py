"""The one signed-statement service: a detached signature read by gpg, judged by the shared rules.

Approvals, registry revisions, migrations and release signatures all pass through
`verify_signed`; a new statement kind brings its parser, its `Claim` and its `Authority`
(`model/signature_rules.py`), not a loop of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from qms.adapters.git import Repository
from qms.adapters.gpg import Keyring
from qms.adapters.verified_cache import VerifiedCache
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
    try:
        signature_bytes = signature.read_bytes()
    except OSError:
        return SignatureFacts(False, problem=f"signature file {signature.name} is missing")
    return keyring.verify(signature, data, signature_bytes)


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
    keyring.verify_many(list(items))


# Where a clone keeps what gpg said in earlier runs: its own git folder, never committed,
# beside the high-water mark (services/witness.py).
CACHE = Path("qms") / "verified-signatures.json"


@contextmanager
def kept_verifications(keyring: Keyring, repo: Repository | None, use: bool) -> Iterator[None]:
    """Within the block, `keyring` asks gpg only about signatures no earlier run of this
    clone found good for the same bytes and keys; what it verifies is kept afterwards.

    Without `use` (`--no-cache`, and every release) or a repository, nothing is read or
    written. Only gpg's answer is kept; every rule is judged again each time.
    """
    if not use or repo is None:
        yield
        return
    cache = VerifiedCache.load(repo.git_dir / CACHE, keyring.gpg_version)
    keyring.cache = cache
    try:
        yield
    finally:
        keyring.cache = None
        cache.save()
