"""A one-line progress bar for long commands: drawn on a terminal, silent anywhere else.

Usage, with any service that reports `(phase, done, total)`::

    with progress_bar() as bar:           # draws on stderr, only if it is a terminal
        run_sphinx(..., phases=bar)       # calls bar("reading", 12, 50), ...
    sys.stderr.write("qms build: ...\\n")  # the bar's line is erased before this

`total` 0 means "not known": the phase is shown with a running count, or alone.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from qms.services.sphinx_run import Progress

__all__ = ["Progress", "ProgressBar", "counter", "interactive", "progress_bar"]

# Environment variables that CI services set; progress is never drawn under them.
_CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "JENKINS_URL", "TF_BUILD")
_LABEL_WIDTH = 10
_BAR_WIDTH = 30


def interactive(stream: TextIO) -> bool:
    """True when `stream` is a terminal a person watches: a tty, and not a CI job."""
    if any(
        os.environ.get(name, "").strip().lower() not in ("", "0", "false") for name in _CI_VARIABLES
    ):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class ProgressBar:
    """Draws `phase  [#####-----]  done/total` on one line of `stream`, redrawn in place.

    Call it as a `Progress` callback. `close()` (or the end of a `with` block) erases the
    line, so that whatever the command prints next starts at the left margin. A disabled
    bar accepts every call and draws nothing.
    """

    def __init__(self, stream: TextIO, *, enabled: bool = True, columns: int | None = None) -> None:
        self.stream = stream
        self.enabled = enabled
        self._columns = columns
        self._shown = ""
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        self._fill, self._empty = ("█", "░") if encoding == "utf8" else ("#", "-")

    def __call__(self, phase: str, done: int, total: int) -> None:
        """Show that `done` of `total` steps of `phase` are finished."""
        if not self.enabled:
            return
        line = self.render(phase, done, total)
        if line != self._shown:
            self.stream.write(f"\r{line}\x1b[K")
            self.stream.flush()
            self._shown = line

    def render(self, phase: str, done: int, total: int) -> str:
        """The bar's text for one state, no wider than the terminal (so it never wraps)."""
        columns = self._columns or shutil.get_terminal_size().columns
        label = phase.ljust(_LABEL_WIDTH)
        if total <= 0:
            text = f"{label} {done}" if done else f"{phase}..."
        else:
            done = min(max(done, 0), total)
            count = f"{done}/{total}"
            width = max(0, min(_BAR_WIDTH, columns - len(label) - len(count) - 6))
            filled = width * done // total
            bar = self._fill * filled + self._empty * (width - filled)
            text = f"{label} {bar}  {count}" if width >= 5 else f"{label} {count}"
        return text[: max(columns - 1, 1)]

    def close(self) -> None:
        """Erase the bar's line, if one was drawn."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = ""

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def progress_bar(stream: TextIO | None = None, *, enabled: bool = True) -> ProgressBar:
    """A bar on `stream` (default: stderr) that draws only on an interactive terminal.

    Pass `enabled=False` when something else uses the terminal (e.g. `--verbose` logs).
    """
    out = stream or sys.stderr
    return ProgressBar(out, enabled=enabled and interactive(out))


def counter(bar: Progress, phase: str) -> Callable[[int, int], None]:
    """Adapt a `(done, total)` callback of a service to `bar` under `phase`."""

    def step(done: int, total: int) -> None:
        bar(phase, done, total)

    return step
