"""Entry point of `qms`: one `main(argv)` that returns an exit code."""

from __future__ import annotations

import argparse
import difflib
import gc
import os
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from qms import __version__
from qms.cli import (
    approve,
    authoring,
    build,
    capa,
    change,
    check,
    diff,
    exports,
    history,
    hook,
    impact,  # change impact (issue 17)
    metrics,  # monitoring and measurement (issue 16)
    release,
    retire,  # retirement (issue 17)
    risk,
    signers,
    status,
    timestamp,  # trusted time (issue 18)
    training,
    validate,  # validation kit (issue 19)
    verify,
)
from qms.cli.context import Context
from qms.errors import QmsError, QmsWarning

EXIT_USAGE = 2


# argparse's message for a value outside `choices` (commands, --meaning, --type, ...).
_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<value>[^']*)' \(choose from (?P<choices>.*)\)$")


def did_you_mean(message: str) -> str:
    """An invalid-choice message with the closest choice suggested in place of the list."""
    match = _INVALID_CHOICE.search(message)
    if match is None:
        return message
    listed = match.group("choices")
    choices = re.findall(r"'([^']*)'", listed) or [c.strip() for c in listed.split(",")]
    close = difflib.get_close_matches(match.group("value"), choices, n=1, cutoff=0.6)
    if not close:
        return message
    value = match.group("value")
    return f"{message[: match.start()]}invalid choice: '{value}'; did you mean '{close[0]}'?"


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line, with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = did_you_mean(message)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with one subcommand per module."""
    parser = _Parser(
        prog="qms",
        description=(
            "Keep an information-security handbook under document control in git. "
            "Documents are Markdown files with front matter under docs/; their status "
            "is derived from verified signatures."
        ),
        epilog=(
            "Exit codes: 0 all good; 1 findings or a failed verification, one per line "
            "as path:line: message; 2 usage or environment error. "
            "Run 'qms COMMAND --help' for the details of a command."
        ),
    )
    parser.add_argument("--version", action="version", version=f"qms {__version__}")
    parser.add_argument(
        "--root", type=Path, help="the handbook repository (default: found from the cwd)"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for module in (
        check,
        build,
        status,
        authoring,
        diff,
        history,
        signers,
        approve,
        retire,
        verify,
        exports,
        release,
        training,
        # Risk acceptance (issue 15)
        risk,
        capa,
        change,  # change control (issue 15)
        metrics,  # monitoring and measurement (issue 16)
        impact,  # change impact (issue 17)
        validate,  # validation kit (issue 19)
        timestamp,  # trusted time (issue 18)
        hook,
    ):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `qms` with `argv` and return the exit code; never raises for user errors."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    ctx = Context(root=args.root, cwd=Path.cwd())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", QmsWarning)
            warnings.showwarning = _show_warning
            code: int = handler(args, ctx)
    except QmsError as exc:
        sys.stderr.write(f"qms: error: {exc}\n")
        sys.stderr.writelines(f"  {line}\n" for line in exc.details)
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("qms: interrupted\n")
        return 130
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            # The reader (e.g. `head`) went away: stop quietly, as Unix tools do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0
        sys.stderr.write(
            f"qms: error: {exc.strerror or exc}: {exc.filename or ''}; check the "
            "path and its permissions\n"
        )
        return EXIT_USAGE
    return code


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A service's QmsWarning as one line; any other warning as Python shows it."""
    if issubclass(category, QmsWarning):
        sys.stderr.write(f"qms: warning: {message}\n")
        return
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def run() -> None:
    """Console-script entry point."""
    code = main()
    # The process ends here: spare the interpreter's final sweep over everything the
    # command left behind (a build's environment is hundreds of thousands of objects).
    gc.freeze()
    sys.exit(code)
