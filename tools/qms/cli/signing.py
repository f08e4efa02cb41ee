"""Options shared by the commands that sign: which key, in which GnuPG home, confirmed how."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from qms.adapters.gpg import UserKeys
from qms.errors import QmsError, RefusedError
from qms.model.ceremony import SigningSummary, accepts
from qms.model.signers import normalise_fingerprint
from qms.model.timeutil import parse_utc


def add_signing_options(parser: argparse.ArgumentParser, key_help: str) -> None:
    """--key, --gnupghome and --yes."""
    parser.add_argument("--key", metavar="FINGERPRINT", help=key_help)
    parser.add_argument(
        "--gnupghome",
        type=Path,
        metavar="DIR",
        help="GnuPG home holding your secret key (default: gpg's own, e.g. ~/.gnupg)",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="sign without showing the summary and asking first (for scripts; on a terminal "
        "the summary of what you sign is shown and you confirm it)",
    )


def user_keys(args: argparse.Namespace) -> UserKeys:
    """The signer's keyring as the options name it, asking before each signature."""
    return UserKeys(args.gnupghome, confirm=None if args.yes else ask)


def ask(summary: SigningSummary) -> None:
    """Show the summary on the terminal and ask; refuse unless the signer says yes."""
    if not sys.stdin.isatty():
        raise QmsError(
            "not signed: there is no terminal to confirm the summary on",
            "pass --yes to sign from a script",
        )
    sys.stderr.write("\n".join(summary.lines()) + "\nSign? [y/N] ")
    sys.stderr.flush()
    if not accepts(sys.stdin.readline()):
        raise RefusedError("not signed: you did not confirm; nothing was written")


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
