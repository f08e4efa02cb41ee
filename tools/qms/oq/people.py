"""Throwaway signers for the OQ: ed25519 keys in temporary GnuPG homes, made on a clock set back."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from qms.adapters.gpg import UserKeys

# Keys and registrations date from a day ago, so that back-dated signatures can be tried.
T0 = (datetime.now(tz=UTC) - timedelta(days=1)).replace(microsecond=0)


def short_tempdir(prefix: str) -> Path:
    """A private temporary folder with a short path (gpg-agent sockets need one)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o700)
    return path


def faked(moment: datetime) -> str:
    """gpg's option that sets its clock to `moment`."""
    return "--faked-system-time=" + moment.strftime("%Y%m%dT%H%M%S") + "!"


@dataclass(frozen=True)
class Person:
    """A signer with a secret key in their own GnuPG home."""

    name: str
    email: str
    home: Path
    fingerprint: str
    public_key: Path

    def keys(self, at: datetime | None = None) -> UserKeys:
        """This person's keyring, signing now or with gpg's clock set to `at`."""
        return UserKeys(self.home, (faked(at),) if at is not None else ())

    def signing(self) -> tuple[str, ...]:
        """The qms options that sign with this key, without asking."""
        return ("--key", self.fingerprint, "--gnupghome", str(self.home), "--yes")


def make_person(
    name: str, folder: Path, home: Path | None = None, passphrase: str | None = None
) -> Person:
    """An ed25519 signing key for `name`, made at T0 (in `home`, else in a new GnuPG home),
    protected by `passphrase` if one is given."""
    import gnupg

    home = home or short_tempdir("oq-")
    gpg = gnupg.GPG(gnupghome=str(home), options=[faked(T0)])
    email = name.lower().replace(" ", ".") + "@corvane.example"
    spec = gpg.gen_key_input(
        key_type="EDDSA",
        key_curve="ed25519",
        key_usage="sign",
        name_real=name,
        name_email=email,
        expire_date="0",
        no_protection=passphrase is None,
        passphrase=passphrase,
    )
    key = gpg.gen_key(spec)
    assert key.fingerprint, key.stderr
    public = folder / f"{key.fingerprint}.asc"
    public.write_text(gpg.export_keys(key.fingerprint, armor=True), encoding="ascii")
    return Person(name, email, home, str(key.fingerprint), public)


@dataclass(frozen=True)
class Team:
    """Everyone the OQ signs with."""

    admin: Person  # registry administrator and trust root
    author: Person
    reviewer: Person
    approver: Person  # qa and author
    approver_again: Person  # the approver's second key, registered as reviewer
    outsider: Person  # a key in no registry
    operator: Person  # staff: acknowledges training with a key the roster lists
    hr: Person

    def homes(self) -> list[Path]:
        return [person.home for person in vars(self).values()]


def make_team(folder: Path) -> Team:
    """Every person of the Team with a fresh key."""
    approver = make_person("Sarah ONeill", folder)
    return Team(
        admin=make_person("Dana Admin", folder),
        author=make_person("Lena Vogt", folder),
        reviewer=make_person("Marco Bianchi", folder),
        approver=approver,
        approver_again=make_person("Sarah ONeill", folder, home=approver.home),
        outsider=make_person("Olaf Outsider", folder),
        operator=make_person("Ana Petrova", folder),
        hr=make_person("Hanna Berg", folder),
    )


def unlock(person: Person, passphrase: str) -> None:
    """Give gpg-agent the passphrase once, as a signer unlocking their key at a terminal."""
    import gnupg

    unlocked = gnupg.GPG(gnupghome=str(person.home)).sign(
        b"unlock", keyid=person.fingerprint, passphrase=passphrase, detach=True
    )
    assert unlocked.status == "signature created", unlocked.stderr


def remove_homes(team: Team) -> None:
    for home in set(team.homes()):
        shutil.rmtree(home, ignore_errors=True)
