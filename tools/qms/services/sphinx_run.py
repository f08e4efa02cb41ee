"""Running Sphinx in-process over the handbook and collecting its warnings as findings."""

from __future__ import annotations

import contextlib
import gc
import io
import os
import re
from collections.abc import Callable, Iterator, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.findings import Finding, FindingCode

# Sphinx writes "<path>:<line>: WARNING: <message> [<type>.<subtype>]"; path and line
# are optional. Sphinx may colour the text even for a stream that is not a terminal.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_WARNING = re.compile(
    r"^(?:(?P<path>.+?):(?:(?P<line>\d+):)? )?(?:WARNING|ERROR|CRITICAL): (?P<message>.*?)"
    r"(?: \[(?P<code>[\w.-]+)\])?$"
)


# How far a build is: (phase, done, total), total 0 when not known. The phases, in order:
# starting, reading, verifying, preparing, writing, finishing. Front ends render it.
Progress = Callable[[str, int, int], None]
# The Sphinx event qms_sphinx emits as (phase, done, total) for work of its own (verifying).
PROGRESS_EVENT = "qms-progress"


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
        code = match.group("code") or FindingCode.SPHINX
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


def _report_phases(app: Any, report: Progress) -> None:
    """Call `report` as the build moves through its phases, from Sphinx's own events.

    Counts come from the main process only: in a parallel build the workers are forked
    and run the same listeners, which must not draw. Sphinx announces how many pages it
    reads but not how many it writes; `write_documents`, the builder's documented
    override point, receives them.
    """
    from sphinx.errors import ExtensionError

    main = os.getpid()
    counts = {"read": 0, "to_read": 0, "written": 0, "to_write": 0}

    def before_read(_app: Any, _env: Any, docnames: list[str]) -> None:
        counts["to_read"] = len(docnames)
        report("reading", 0, len(docnames))

    def read(done: int) -> None:
        counts["read"] += done
        report("reading", counts["read"], counts["to_read"])

    def doctree_read(_app: Any, _doctree: Any) -> None:
        if os.getpid() == main:
            read(1)

    def merged(_app: Any, _env: Any, docnames: Set[str], _other: Any) -> None:
        read(len(docnames))  # a parallel worker's chunk, merged in the main process

    def verifying(_app: Any, phase: str, done: int, total: int) -> None:
        report(phase, done, total)

    def updated(_app: Any, _env: Any) -> None:
        report("preparing", 0, 0)  # saving the environment, checking consistency

    def resolved(_app: Any, _doctree: Any, _docname: str) -> None:
        if os.getpid() == main and counts["to_write"]:
            counts["written"] = min(counts["written"] + 1, counts["to_write"])
            report("writing", counts["written"], counts["to_write"])

    builder = app.builder
    write_documents = builder.write_documents

    def counted(docnames: Set[str]) -> None:
        counts["to_write"] = len(docnames)
        report("writing", 0, len(docnames))
        write_documents(docnames)
        counts["to_write"] = 0
        report("finishing", 0, 0)  # static files, search index, inventory

    setattr(builder, "write_documents", counted)  # noqa: B010 (an instance override)
    app.connect("env-before-read-docs", before_read)
    app.connect("doctree-read", doctree_read)
    app.connect("env-merge-info", merged)
    app.connect("env-updated", updated, priority=900)  # after the approvals are verified
    app.connect("doctree-resolved", resolved)
    with contextlib.suppress(ExtensionError):  # the event exists only with qms_sphinx loaded
        app.connect(PROGRESS_EVENT, verifying)


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
    phases: Progress | None = None,
) -> SphinxRun:
    """Build the handbook with `builder` into `outdir`; warnings become findings.

    `progress` receives Sphinx's own log (the full text, for --verbose); `phases` is
    told the phase and counts as the build goes (see `Progress`).
    """
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
    if phases is not None:
        phases("starting", 0, 0)
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
            if phases is not None:
                _report_phases(app, phases)
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
