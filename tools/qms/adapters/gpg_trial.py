"""A trial of gpg for the IQ: a throwaway ed25519 key signs and verifies in a scratch home."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gnupg

_DATA = b"qms-handbook installation qualification\n"


@dataclass(frozen=True)
class GpgTrial:
    """What gpg did: its version (None when it cannot run), and the first step that failed."""

    version: str | None
    failed_step: str | None  # None when key creation, signing and both verifications worked


def try_gpg() -> GpgTrial:
    """Create an ed25519 key, sign, verify, and see an altered text refused.

    All in a temporary GnuPG home, never the user's; it is removed afterwards (the agent
    gpg started for it ends when its socket is gone).
    """
    home = Path(tempfile.mkdtemp(prefix="qms-iq-"))
    try:
        try:
            gpg = gnupg.GPG(gnupghome=str(home))
        except (OSError, ValueError):
            return GpgTrial(None, "gpg (GnuPG 2) is not installed or cannot run")
        version = ".".join(str(part) for part in gpg.version or ())
        return GpgTrial(version or None, _sign_and_verify(gpg, home))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _sign_and_verify(gpg: gnupg.GPG, home: Path) -> str | None:
    spec = gpg.gen_key_input(
        key_type="EDDSA",
        key_curve="ed25519",
        key_usage="sign",
        name_real="qms IQ trial",
        name_email="iq-trial@qms.invalid",
        expire_date="1d",
        no_protection=True,
    )
    key = gpg.gen_key(spec)
    if not key.fingerprint:
        return "gpg could not create an ed25519 key"
    signed = gpg.sign(_DATA, keyid=key.fingerprint, detach=True, binary=False)
    if not signed.data:
        return "gpg could not sign with the trial key"
    signature = home / "trial.asc"
    signature.write_bytes(bytes(signed.data))
    good = gpg.verify_data(str(signature), _DATA)
    if not (good.valid and good.fingerprint == key.fingerprint):
        return "gpg did not verify a good signature of the trial key"
    if gpg.verify_data(str(signature), _DATA + b"altered").valid:
        return "gpg accepted the trial signature on altered text"
    return None
