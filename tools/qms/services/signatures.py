"""The one signed-statement service: a detached signature read by gpg, judged by the shared rules.

Approvals, registry revisions, migrations and release signatures all pass through
`verify_signed`; a new statement kind brings its parser, its `Claim` and its `Authority`
(`model/signature_rules.py`), not a loop of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from qms.adapters.files import write_atomic
from qms.adapters.git import Repository
from qms.adapters.gpg import BuiltKeyring, Keyring, hermetic_keyring, hermetic_unless_given
from qms.adapters.parsed_cache import ParsedCache, digest_of
from qms.adapters.verified_cache import VerifiedCache
from qms.model.registry_history import RegistryHistory
from qms.model.signature_rules import (
    Authority,
    Claim,
    SignatureFacts,
    SignatureVerdict,
    judge_signature,
)
from qms.services.timestamps import required_token, stamp_of


def signature_facts(
    keyring: Keyring,
    signature: Path,
    data: bytes,
    signature_bytes: bytes | None = None,
    history: RegistryHistory | None = None,
) -> SignatureFacts:
    """What gpg says of `signature` over `data` (`signature_bytes`: the file's bytes, when
    the caller read them); a missing signature file is named. With the registry `history`,
    the time-stamp token beside it too, checked against the TSAs its policy pins."""
    if signature_bytes is None:
        try:
            signature_bytes = signature.read_bytes()
        except OSError:
            return SignatureFacts(False, problem=f"signature file {signature.name} is missing")
    facts = keyring.verify(signature, data, signature_bytes)
    if history is None or not facts.good:
        return facts
    stamp = stamp_of(signature, signature_bytes, history)
    return replace(facts, stamp=stamp, token_required=required_token(signature, facts, history))


def verify_signed(
    keyring: Keyring,
    signature: Path,
    data: bytes,
    claim: Claim,
    authority: Authority,
    history: RegistryHistory,
    signature_bytes: bytes | None = None,
) -> SignatureVerdict:
    """Judge the detached `signature` over a statement's `data` (`signature_bytes`: as
    `signature_facts` takes them)."""
    facts = signature_facts(keyring, signature, data, signature_bytes, history)
    return judge_signature(facts, claim, authority, history)


def prefetch(
    keyring: Keyring,
    items: Iterable[tuple[Path, bytes]],
    signatures: Mapping[Path, bytes] | None = None,
) -> None:
    """Have gpg check many signatures at once (in parallel); later calls reuse the results.

    `signatures`: the bytes of signature files the caller has read already."""
    keyring.verify_many(list(items), signatures)


# Where a clone keeps what gpg said in earlier runs: its own git folder, never committed,
# beside the high-water mark (services/witness.py).
CACHE = Path("qms") / "verified-signatures.json"
# Beside it, what gpg read out of the key files' exact bytes: each file's fingerprints, and
# the keybox it built from all of them.
KEY_FILES = Path("qms") / "key-files.json"
KEYBOX = Path("qms") / "keyring.kbx"
_FINGERPRINTS = "fingerprints"
_KEYRING = "keyring"


@contextmanager
def kept_keyring(
    keys_dirs: tuple[Path, ...], keyring: Keyring | None, repo: Repository | None, use: bool
) -> Iterator[Keyring]:
    """`keyring` as it is (its owner closes it), else a new hermetic keyring of
    `keys_dirs`.

    With `use` and a repository, what an earlier run of this clone's gpg read out of the
    same key files' bytes is reused (`adapters/gpg.py` `hermetic_keyring`): the keybox it
    built from exactly these files, else each file's fingerprints; what this run found
    is kept. Both are functions of the bytes, and used only when gpg lists in the
    keyring exactly the keys they expect.
    """
    if keyring is not None or not use or repo is None:
        with hermetic_unless_given(keys_dirs, keyring) as given:
            yield given
        return
    kept = ParsedCache.load(repo.git_dir / KEY_FILES)
    known = kept.section(_FINGERPRINTS)
    with hermetic_keyring(*keys_dirs, known=known, built=_built(kept, repo)) as made:
        for digest, fingerprints in made.key_files.items():
            kept.put(_FINGERPRINTS, digest, list(fingerprints))
        if made.built is not None and made.built.keybox:
            _keep_built(kept, repo, made.built)
        kept.save()
        yield made


def _built(kept: ParsedCache, repo: Repository) -> BuiltKeyring | None:
    """The keybox an earlier run kept, if its record and bytes agree."""
    record = kept.get(_KEYRING, "last")
    try:
        data = (repo.git_dir / KEYBOX).read_bytes()
        if not isinstance(record, dict) or record.get("sha256") != digest_of(data):
            return None
        rejected = tuple(int(n) for n in record["rejected"])
        return BuiltKeyring(str(record["digest"]), str(record["gpg"]), data, rejected)
    except (OSError, KeyError, TypeError, ValueError):
        return None


def _keep_built(kept: ParsedCache, repo: Repository, built: BuiltKeyring) -> None:
    """Keep the keybox this run built, and its record; a write that fails is only a
    cache lost."""
    try:
        write_atomic(repo.git_dir / KEYBOX, built.keybox)
    except OSError:
        return
    record = {
        "digest": built.digest,
        "gpg": built.gpg_version,
        "sha256": digest_of(built.keybox),
        "rejected": list(built.rejected),
    }
    kept.put(_KEYRING, "last", record)


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
