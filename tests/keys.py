"""Throwaway signers for tests: real ed25519 keys in temporary GnuPG homes."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gnupg


def short_tempdir(prefix: str) -> Path:
    """A private temporary folder with a short path (gpg-agent sockets need one)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o700)
    return path


@dataclass(frozen=True)
class Person:
    """A signer with a secret key in their own GnuPG home."""

    name: str
    email: str
    home: Path
    fingerprint: str
    public_key: Path

    def gpg(self, *options: str) -> gnupg.GPG:
        return gnupg.GPG(gnupghome=str(self.home), options=list(options) or None)


def make_person(
    name: str,
    folder: Path,
    *,
    passphrase: str | None = None,
    options: tuple[str, ...] = (),
    expire: str = "0",
) -> Person:
    """Generate an ed25519 signing key for `name` in a new GnuPG home."""
    home = short_tempdir("qt-")
    if passphrase is not None:
        # No caching: the key stays locked once generated, as on a fresh login.
        (home / "gpg-agent.conf").write_text("default-cache-ttl 0\nmax-cache-ttl 0\n")
    gpg = gnupg.GPG(gnupghome=str(home), options=list(options) or None)
    email = name.lower().replace(" ", ".").replace("'", "") + "@corvane.example"
    spec = gpg.gen_key_input(
        key_type="EDDSA",
        key_curve="ed25519",
        key_usage="sign",
        name_real=name,
        name_email=email,
        expire_date=expire,
        no_protection=passphrase is None,
        passphrase=passphrase,
    )
    key = gpg.gen_key(spec)
    assert key.fingerprint, key.stderr
    public = folder / f"{email}.asc"
    public.write_text(gpg.export_keys(key.fingerprint, armor=True), encoding="ascii")
    return Person(name, email, home, str(key.fingerprint), public)


def remove_home(person: Person) -> None:
    shutil.rmtree(person.home, ignore_errors=True)
