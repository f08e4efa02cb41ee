"""The error base class: every user-facing failure says what to do next."""

from __future__ import annotations

from collections.abc import Sequence


class QmsError(Exception):
    """A problem the user can act on; the CLI prints it as one line and exits 2.

    `details` are lines that may follow that line, such as the choices the hint asks
    the user to pick from.
    """

    exit_code = 2

    def __init__(self, message: str, hint: str = "", details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = tuple(details)

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class NotAHandbookError(QmsError):
    """The working directory is not inside a handbook repository."""


class ConfigError(QmsError):
    """`[tool.qms]` is missing or malformed."""


class RefusedError(QmsError):
    """The rules forbid what was asked (a finding, not a usage error): exit 1."""

    exit_code = 1


class QmsWarning(UserWarning):
    """Something the user should know that does not stop the command (the CLI prints one
    line): a service raises it with warnings.warn."""
