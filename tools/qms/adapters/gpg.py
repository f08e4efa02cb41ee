"""GnuPG through python-gnupg: hermetic verification and signing with the user's key."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import gnupg

from qms.adapters.verified_cache import VerifiedCache, entry_key
from qms.errors import QmsError
from qms.model.ceremony import SigningSummary
from qms.model.signature_rules import SignatureFacts
from qms.model.timeutil import from_epoch

KEY_SUFFIX = ".asc"
# The file of a GnuPG home that holds its public keys.
KEYBOX = "pubring.kbx"


# Results of verifications in this process, by (keyring digest, digest of signature and
# data). Across runs, only a `VerifiedCache` a caller attaches keeps anything.
_VERIFIED: dict[tuple[str, str], SignatureFacts] = {}


class GpgError(QmsError):
    """gpg is missing or refused to do what was asked."""


def _gpg(home: Path | None, options: tuple[str, ...] = ()) -> gnupg.GPG:
    try:
        return gnupg.GPG(gnupghome=str(home) if home else None, options=list(options) or None)
    except (OSError, ValueError) as exc:
        raise GpgError(
            "gpg (GnuPG 2) is not installed or cannot run",
            "install it (Debian/Ubuntu: apt-get install gnupg) and try again",
        ) from exc


@dataclass(frozen=True)
class KeyInfo:
    """A public key as gpg lists it."""

    fingerprint: str
    user_ids: tuple[str, ...]
    expires: datetime | None
    # The key carries its owner's OpenPGP revocation (a revocation certificate was applied).
    revoked: bool = False


def _key_info(raw: dict[str, object]) -> KeyInfo:
    expires = str(raw.get("expires") or "")
    uids = raw.get("uids") or []
    return KeyInfo(
        fingerprint=str(raw["fingerprint"]),
        user_ids=tuple(str(u) for u in uids) if isinstance(uids, list) else (),
        expires=from_epoch(expires) if expires.isdigit() else None,
        revoked=raw.get("trust") == "r",
    )


class Keyring:
    """A throwaway GnuPG home holding only the public keys it was given.

    Verification uses nothing else: not the user's keyring, not their trust database.
    """

    def __init__(self, home: Path) -> None:
        self._gpg = _gpg(home)
        self._home = home
        self._keys: dict[str, KeyInfo] = {}
        self._states: dict[str, str] = {}
        # SHA-256 over the imported key files: names the keyring's exact contents, so a
        # verification result can be reused for exactly the same bytes and keys.
        self.digest = ""
        # Key files that held no usable public key: the caller reports them.
        self.rejected: list[Path] = []
        # Good verifications of earlier runs, when the caller attached them (kept_by).
        self.cache: VerifiedCache | None = None
        # The fingerprints gpg found in each imported key file, by the SHA-256 of its bytes.
        self.key_files: dict[str, tuple[str, ...]] = {}
        # The keybox as gpg built it from the key files, when this run imported them.
        self.built: BuiltKeyring | None = None

    @property
    def gpg_version(self) -> str:
        """The version of gpg that verifies, as it reports it."""
        return ".".join(str(part) for part in self._gpg.version or ())

    def import_key(self, armored: bytes) -> tuple[str, ...]:
        """Import public key material; return the fingerprints it held."""
        result = self._gpg.import_keys(armored)
        if not result.fingerprints:
            raise GpgError(
                "no OpenPGP public key found in the key data", "export it with gpg --export --armor"
            )
        self._keys.clear()
        return tuple(dict.fromkeys(result.fingerprints))

    def _listed(self) -> dict[str, KeyInfo]:
        """The imported keys by fingerprint, listed once per import."""
        if not self._keys:
            listing = self._gpg.list_keys()
            self._keys = {info.fingerprint: info for info in map(_key_info, listing)}
            # What gpg lists of each key (subkeys, capabilities, expiry, revocation): a
            # kept verification counts only while its key reads the same.
            self._states = {
                str(raw["fingerprint"]): hashlib.sha256(
                    json.dumps(raw, sort_keys=True, default=str).encode()
                ).hexdigest()
                for raw in listing
            }
        return self._keys

    def key_state(self, fingerprint: str) -> str:
        """A digest of everything gpg lists of a key ("" when it is not imported)."""
        self._listed()
        return self._states.get(fingerprint, "")

    def key(self, fingerprint: str) -> KeyInfo | None:
        """The listed key of a primary fingerprint, if imported."""
        return self._listed().get(fingerprint)

    def revoked(self) -> tuple[str, ...]:
        """Fingerprints of the imported keys that their owners revoked."""
        return tuple(sorted(f for f, info in self._listed().items() if info.revoked))

    def verify(
        self, signature_path: Path, data: bytes, signature: bytes | None = None
    ) -> SignatureFacts:
        """Check one detached signature over `data` (once per exact bytes and keyring);
        `signature`: the signature file's bytes, when the caller has read them."""
        key = self._memo_key(signature_path, data, signature)
        return self._verify_keyed(signature_path, data, key)

    def _verify_keyed(
        self, signature_path: Path, data: bytes, key: tuple[str, str] | None
    ) -> SignatureFacts:
        known = self._known(key)
        if known is not None:
            return known
        facts = self._verify(signature_path, data)
        if key is not None:
            _VERIFIED[key] = facts
            # Kept across runs only if the signature file still holds the bytes the key
            # names, so an entry is what gpg said of exactly those bytes.
            if self.cache is not None and self._memo_key(signature_path, data) == key:
                self.cache.put(entry_key(key[1]), facts, self.key_state)
        return facts

    def _known(self, key: tuple[str, str] | None) -> SignatureFacts | None:
        """This process's result for `key`, else the attached cache's (not copied into
        this process's: a later run without the cache must not see it)."""
        if key is None:
            return None
        if key in _VERIFIED:
            return _VERIFIED[key]
        return self.cache.get(entry_key(key[1]), self.key_state) if self.cache else None

    def verify_many(
        self,
        items: Sequence[tuple[Path, bytes]],
        signatures: Mapping[Path, bytes] | None = None,
    ) -> None:
        """Verify many signatures on every core; later `verify` calls reuse the results.

        `signatures`: the bytes of signature files the caller has read already. gpg
        verifies one detached signature per process, so the processes run side by side.
        """
        self._listed()  # list the keys once, before threads read the listing
        read = signatures or {}
        keyed = []
        for path, data in items:
            signature = read.get(path)
            if signature is None:
                try:
                    signature = path.read_bytes()
                except OSError:
                    continue  # a missing signature is named by `verify`, without gpg
            keyed.append(((path, data), self._memo_key(path, data, signature)))
        todo = [(item, key) for item, key in keyed if self._known(key) is None]
        if len(todo) < 2:
            return
        # Twice the cores: Python's side of each call overlaps another gpg's work.
        with ThreadPoolExecutor(max_workers=min(8, 2 * (os.cpu_count() or 1))) as pool:
            list(pool.map(lambda job: self._verify_keyed(job[0][0], job[0][1], job[1]), todo))

    def _memo_key(
        self, signature_path: Path, data: bytes, signature: bytes | None = None
    ) -> tuple[str, str] | None:
        if not self.digest:
            return None
        if signature is None:
            try:
                signature = signature_path.read_bytes()
            except OSError:
                return None
        digest = hashlib.sha256(hashlib.sha256(signature).digest() + data).hexdigest()
        return self.digest, digest

    def _verify(self, signature_path: Path, data: bytes) -> SignatureFacts:
        result = self._gpg.verify_data(str(signature_path), data)
        signatures = getattr(result, "sig_info", {}) or {}
        if len(signatures) > 1:
            return SignatureFacts(False, problem="the file holds more than one signature")
        # VALIDSIG (status "signature valid") means the maths holds; python-gnupg still
        # sets valid=False when the key has expired or been revoked since, which is
        # judged separately against the time of signing.
        if result.status != "signature valid" or not result.sig_timestamp:
            problem = result.status or "not an OpenPGP signature"
            if result.status == "no public key":
                problem = f"no public key for {result.key_id} in signatures/keys"
            return SignatureFacts(False, problem=problem)
        fingerprint = str(result.pubkey_fingerprint or result.fingerprint)
        info = self.key(fingerprint)
        return SignatureFacts(
            good=True,
            fingerprint=fingerprint,
            signed_at=from_epoch(result.sig_timestamp),
            key_expires=info.expires if info else None,
        )


def _import_each(
    keyring: Keyring, files: Sequence[tuple[Path, bytes]]
) -> dict[str, tuple[str, ...]]:
    """Import each key file alone, in order; the fingerprints gpg found in each file's
    bytes (by their SHA-256), the files with none rejected."""
    found = {}
    for path, data in files:
        try:
            found[hashlib.sha256(data).hexdigest()] = keyring.import_key(data)
        except GpgError:
            keyring.rejected.append(path)
    return found


def _import_known(
    keyring: Keyring, files: Sequence[tuple[Path, bytes]], known: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]] | None:
    """Import the key files in order: each run of files whose bytes `known` lists (the
    fingerprints gpg found in them, by their SHA-256) in one gpg call, any other alone.
    None when gpg did not read, in order, exactly the keys `known` expects: the caller
    starts afresh.

    gpg reads the keys of one input in order, as it reads one input after another, so the
    keyring is the one `_import_each` makes. An entry can change only which files are
    imported together, never which keys the keyring holds.
    """
    found: dict[str, tuple[str, ...]] = {}
    run: list[bytes] = []
    expected: list[str] = []
    agreed = True

    def flush() -> None:
        nonlocal agreed
        if run:
            result = keyring._gpg.import_keys(b"\n".join(run))
            keyring._keys.clear()
            read = list(dict.fromkeys(result.fingerprints or ()))
            agreed = agreed and read == list(dict.fromkeys(expected))
            run.clear()
            expected.clear()

    for path, data in files:
        digest = hashlib.sha256(data).hexdigest()
        value = known.get(digest)
        listed = isinstance(value, list | tuple) and all(isinstance(f, str) for f in value)
        fingerprints = tuple(value) if listed and value else ()
        if fingerprints:
            run.append(data)
            expected.extend(fingerprints)
            found[digest] = fingerprints
            continue
        flush()
        found.update(_import_each(keyring, [(path, data)]))
    flush()
    return found if agreed else None


@dataclass(frozen=True)
class BuiltKeyring:
    """The keybox gpg built from key files (`Keyring.digest` names them, names and bytes),
    and which of them, by position, it rejected."""

    digest: str
    gpg_version: str
    keybox: bytes
    rejected: tuple[int, ...]


@contextmanager
def hermetic_keyring(
    *keys_dirs: Path,
    known: Mapping[str, Sequence[str]] | None = None,
    built: BuiltKeyring | None = None,
) -> Iterator[Keyring]:
    """A keyring built only from the `*.asc` files of `keys_dirs`, removed afterwards.

    What earlier runs found, pure functions of the key files' bytes, saves importing
    them (gpg takes milliseconds a key, 1,000 staff keys included): `built`, the keybox
    made from exactly these files, is used as it is; else `known`, the fingerprints gpg
    found in each file's bytes (by SHA-256), lets files be imported together. Either is
    used only when gpg lists exactly the keys it expects. `Keyring.key_files` and
    `Keyring.built` are what this run found, for the caller to keep.
    """
    files = []
    digest = hashlib.sha256()
    for folder in keys_dirs:
        for path in sorted(folder.glob(f"*{KEY_SUFFIX}")) if folder.is_dir() else []:
            data = path.read_bytes()
            name = f"{folder.parent.name}/{folder.name}/{path.name}".encode()
            digest.update(name + b"\0" + data + b"\0")
            files.append((path, data))
    homes: list[Path] = []
    try:
        keyring = _empty_keyring(homes)
        keyring.digest = digest.hexdigest()
        if built is not None and _reuse(keyring, built, files, known or {}):
            yield keyring
            return
        keyring = _empty_keyring(homes) if built is not None else keyring
        found = _import_known(keyring, files, known) if known else None
        if found is None:
            if known:
                # gpg read the bytes otherwise than before: nothing of that keyring counts.
                keyring = _empty_keyring(homes)
            found = _import_each(keyring, files)
        keyring.key_files = found
        keyring.digest = digest.hexdigest()
        rejected = set(keyring.rejected)
        keyring.built = BuiltKeyring(
            keyring.digest,
            keyring.gpg_version,
            (keyring._home / KEYBOX).read_bytes() if (keyring._home / KEYBOX).is_file() else b"",
            tuple(n for n, (path, _) in enumerate(files) if path in rejected),
        )
        yield keyring
    finally:
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)


def _reuse(
    keyring: Keyring,
    built: BuiltKeyring,
    files: Sequence[tuple[Path, bytes]],
    known: Mapping[str, Sequence[str]],
) -> bool:
    """Put `built`'s keybox in `keyring` if it was made from exactly `files` by this gpg,
    and gpg lists in it exactly the keys `known` says the files hold."""
    if built.digest != keyring.digest or built.gpg_version != keyring.gpg_version:
        return False
    if not built.keybox or any(not 0 <= n < len(files) for n in built.rejected):
        return False
    rejected = {files[n][0] for n in built.rejected}
    expected: dict[str, tuple[str, ...]] = {}
    for path, data in files:
        file_digest = hashlib.sha256(data).hexdigest()
        value = known.get(file_digest)
        if path in rejected:
            continue
        if not isinstance(value, list | tuple) or not value:
            return False
        expected[file_digest] = tuple(str(f) for f in value)
    (keyring._home / KEYBOX).write_bytes(built.keybox)
    keyring._keys.clear()
    if set(keyring._listed()) != {f for found in expected.values() for f in found}:
        return False
    keyring.key_files = expected
    keyring.rejected = [files[n][0] for n in sorted(set(built.rejected))]
    return True


def _empty_keyring(homes: list[Path]) -> Keyring:
    """A keyring in a new GnuPG home, added to `homes` for removal."""
    # Short path: gpg-agent's socket path must stay under the Unix limit.
    home = Path(tempfile.mkdtemp(prefix="qms-gpg-"))
    homes.append(home)
    home.chmod(0o700)
    return Keyring(home)


def hermetic_unless_given(
    keys_dirs: tuple[Path, ...],
    keyring: Keyring | None,
    known: Mapping[str, Sequence[str]] | None = None,
) -> AbstractContextManager[Keyring]:
    """`keyring` as it is, left to its owner to close; else a new `hermetic_keyring`
    (`known`: as there)."""
    if keyring is not None:
        return nullcontext(keyring)
    return hermetic_keyring(*keys_dirs, known=known)


def keys_in(armored: bytes) -> tuple[KeyInfo, ...]:
    """The primary keys in armored key data, as read in a throwaway keyring."""
    with tempfile.TemporaryDirectory(prefix="qms-gpg-") as scratch:
        keyring = Keyring(Path(scratch))
        keyring.import_key(armored)
        return tuple(map(_key_info, keyring._gpg.list_keys()))


def fingerprints_in(armored: bytes) -> tuple[str, ...]:
    """The primary-key fingerprints in armored key data."""
    return tuple(info.fingerprint for info in keys_in(armored))


class UserKeys:
    """The signer's own GnuPG home (their --gnupghome, or gpg's default)."""

    def __init__(
        self,
        home: Path | None = None,
        options: tuple[str, ...] = (),
        confirm: Callable[[SigningSummary], None] | None = None,
    ) -> None:
        """`confirm` is shown each summary before gpg is asked to sign, and raises to decline."""
        if home is not None and not home.is_dir():
            raise GpgError(
                f"GnuPG home {home} does not exist", "pass the folder that holds your keys"
            )
        self._gpg = _gpg(home, options)
        self._confirm = confirm

    def protection(self, fingerprint: str) -> str:
        """How the secret key of `fingerprint` is protected: smartcard, passphrase or none."""
        found = [k for k in self._gpg.list_keys(secret=True) if k["fingerprint"] == fingerprint]
        if not found:
            raise GpgError(
                f"no secret key for {fingerprint} in this GnuPG home",
                "pass --key with one of your own keys, or --gnupghome where it lives",
            )
        [key] = found
        # Field 15 of a secret key listing: "+" secret here, "#" stub only, otherwise the
        # serial number of the card that holds it. Only the parts that can sign matter.
        parts = [key, *key.get("subkey_info", {}).values()]
        tokens = [str(p.get("token", "")) for p in parts if "s" in str(p.get("cap", ""))]
        held = [t for t in tokens if t != "#"]
        if held and all(t not in ("", "+") for t in held):
            return "smartcard"
        # gpg-agent exports a secret key only once it is unlocked, and for an export it
        # ignores its passphrase cache: with an empty passphrase in loopback mode the
        # export fails exactly when the key has one. The exported bytes are dropped.
        exported = self._gpg.export_keys(fingerprint, secret=True, passphrase="", armor=True)
        return "none" if exported else "passphrase"

    def secret_fingerprints(self) -> tuple[str, ...]:
        """Fingerprints of the primary keys with a secret part here."""
        return tuple(str(k["fingerprint"]) for k in self._gpg.list_keys(secret=True))

    def export_public(self, fingerprint: str) -> bytes:
        """The armored public key of `fingerprint`."""
        data = self._gpg.export_keys(fingerprint, armor=True)
        if not data:
            raise GpgError(
                f"no public key {fingerprint} in your keyring", "check --key and --gnupghome"
            )
        return str(data).encode("ascii")

    def sign_detached(
        self, data: bytes, fingerprint: str, summary: SigningSummary | None = None
    ) -> tuple[bytes, datetime]:
        """An armored detached signature over `data` and the time gpg put in it.

        With a `confirm` hook, the signer first sees `summary` and may decline.
        """
        if fingerprint not in self.secret_fingerprints():
            raise GpgError(
                f"no secret key for {fingerprint} in this GnuPG home",
                "pass --key with one of your own keys, or --gnupghome where it lives",
            )
        if self._confirm is not None:
            if summary is None:
                raise GpgError(
                    "this command has no summary to show before signing", "report it as a bug"
                )
            # Before gpg runs: it is gpg that asks for the passphrase or the card's PIN.
            self._confirm(summary)
        result = self._gpg.sign(data, keyid=fingerprint, detach=True, binary=False)
        if not result.data or result.status != "signature created" or not result.timestamp:
            detail = (result.status or "").strip() or _last_line(result.stderr)
            raise GpgError(
                f"gpg could not sign with {fingerprint} ({detail})",
                "if the key is locked, unlock it in gpg-agent or run from a terminal with "
                "pinentry; a smartcard must be inserted",
            )
        return bytes(result.data), from_epoch(result.timestamp)


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no reason given"
