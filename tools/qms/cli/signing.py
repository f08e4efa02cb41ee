"""Options shared by the commands that sign: which key, in which GnuPG home."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from qms.adapters.gpg import UserKeys
from qms.errors import QmsError
from qms.model.signers import normalise_fingerprint
from qms.model.timeutil import parse_utc


def add_signing_options(parser: argparse.ArgumentParser, key_help: str) -> None:
    """--key and --gnupghome."""
    parser.add_argument("--key", metavar="FINGERPRINT", help=key_help)
    parser.add_argument(
        "--gnupghome",
        type=Path,
        metavar="DIR",
        help="GnuPG home holding your secret key (default: gpg's own, e.g. ~/.gnupg)",
    )


def user_keys(args: argparse.Namespace) -> UserKeys:
    """The signer's keyring as the options name it."""
    return UserKeys(args.gnupghome)


def fingerprint_arg(text: str, what: str) -> str:
    """A fingerprint from the command line, or a usage error naming `what`."""
    try:
        return normalise_fingerprint(text)
    except ValueError as exc:
        raise QmsError(f"{what}: {exc}", "give the full 40-digit fingerprint (gpg -K)") from exc


def time_arg(text: str, what: str) -> datetime:
    """A UTC time from the command line, or a usage error naming `what`."""
    try:
        return parse_utc(text)
    except ValueError as exc:
        raise QmsError(f"{what}: {exc}", "write it like 2026-01-15T09:30:00Z") from exc
