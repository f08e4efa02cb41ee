"""Running Sphinx in-process over the handbook and collecting its warnings as findings."""

from __future__ import annotations

import contextlib
import gc
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.findings import Finding

# Sphinx writes "<path>:<line>: WARNING: <message> [<type>.<subtype>]"; path and line
# are optional. Sphinx may colour the text even for a stream that is not a terminal.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_WARNING = re.compile(
    r"^(?:(?P<path>.+?):(?:(?P<line>\d+):)? )?(?:WARNING|ERROR|CRITICAL): (?P<message>.*?)"
    r"(?: \[(?P<code>[\w.-]+)\])?$"
)


@dataclass(frozen=True)
class SphinxRun:
    """The outcome of one Sphinx build."""

    outdir: Path
    findings: tuple[Finding, ...]
    failed: bool


def parse_warnings(text: str, root: Path) -> list[Finding]:
    """Turn Sphinx's warning stream into findings with repository-relative paths."""
    findings: list[Finding] = []
    for raw in _ANSI.sub("", text).splitlines():
        match = _WARNING.match(raw.strip())
        if match is None:
            continue  # continuation lines of a multi-line message
        path = match.group("path") or "(handbook)"
        with contextlib.suppress(ValueError):
            path = Path(path).resolve().relative_to(root.resolve()).as_posix()
        line = int(match.group("line")) if match.group("line") else None
        code = match.group("code") or "sphinx"
        findings.append(Finding(path, line, match.group("message"), code))
    return findings


@contextlib.contextmanager
def _start_without_collector() -> Iterator[None]:
    """Pause the cycle collector while Sphinx starts, then exempt what it loaded.

    Starting an incremental build unpickles the saved environment: hundreds of thousands
    of objects that live until the build ends. Left on, the collector rescans that growing
    heap again and again (over a third of a one-page rebuild's time). Frozen, they are
    skipped by every later collection; they are handed back to the collector afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def run_sphinx(
    config: QmsConfig,
    builder: str,
    outdir: Path,
    *,
    fresh: bool,
    progress: TextIO | None,
    jobs: int = 1,
    overrides: dict[str, Any] | None = None,
    doctrees: Path | None = None,
) -> SphinxRun:
    """Build the handbook with `builder` into `outdir`; warnings become findings."""
    # Imported here so that commands which never build start quickly.
    from sphinx.application import Sphinx
    from sphinx.errors import SphinxError
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    if not config.docs_path.is_dir():
        raise QmsError(
            f"no documents folder at {config.docs_path}",
            "create it or set docs_dir in [tool.qms]",
        )
    warnings = io.StringIO()
    doctrees = doctrees or outdir.parent / f".doctrees-{outdir.name}"
    failed = False
    try:
        with patch_docutils(config.root), docutils_namespace():
            with _start_without_collector():
                app = Sphinx(
                    srcdir=config.docs_path,
                    confdir=config.root,
                    outdir=outdir,
                    doctreedir=doctrees,
                    buildername=builder,
                    confoverrides=overrides or {},
                    status=progress,
                    warning=warnings,
                    freshenv=fresh,
                    parallel=jobs,
                )
            app.build()
            failed = app.statuscode != 0
    except UnicodeDecodeError as exc:
        raise QmsError(
            f"a source file is not UTF-8 text ({exc.reason})",
            "run 'qms check --quick' to find it, and save it as UTF-8",
        ) from exc
    except SphinxError as exc:
        raise QmsError(f"the build stopped: {exc}", "fix the configuration and run again") from exc
    finally:
        gc.unfreeze()
    findings = parse_warnings(warnings.getvalue(), config.root)
    return SphinxRun(outdir, tuple(findings), failed or bool(findings))
