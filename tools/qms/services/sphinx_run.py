"""Running Sphinx in-process over the handbook and collecting its warnings as findings."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import re
from collections.abc import Callable, Iterator, Set
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.findings import NOTICE_CODES, Finding, FindingCode

if TYPE_CHECKING:
    from sphinx.application import Sphinx

# A message may carry terminal colours of its own; findings are plain text.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


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
    # Located notices (model/findings.py NOTICE_CODES): printed and counted, never a failure.
    notices: tuple[Finding, ...] = ()


def _place(location: object, root: Path) -> tuple[str, int | None]:
    """Path (relative to `root` when inside it) and line of a warning Sphinx has placed.

    By the time a warning is written, Sphinx has turned its location (a docname and line,
    or a node) into "path:line", "path:" or "path", or left none.
    """
    if not location:
        return "(handbook)", None
    text = str(location)
    path, colon, tail = text.rpartition(":")
    line = int(tail) if colon and tail.isdigit() else None
    if not colon or (tail and line is None):
        path = text  # no line: the colon, if any, belongs to the path
    with contextlib.suppress(ValueError):
        path = Path(path).resolve().relative_to(root.resolve()).as_posix()
    return path, line


def finding_of(record: logging.LogRecord, root: Path, prefix: str = "") -> Finding:
    """The finding of one warning record as Sphinx writes it: located, with its type as code.

    The message is its first line, as `path:line: message` shows it, after `prefix`;
    Sphinx appends "[type.subtype]" to it (show_warning_types), which the code holds.
    """
    kind, subtype = getattr(record, "type", None), getattr(record, "subtype", None)
    code = f"{kind}.{subtype}" if kind and subtype else str(kind or FindingCode.SPHINX)
    # The base class's message: Sphinx's own record class puts the location before it.
    message = prefix + logging.LogRecord.getMessage(record).removesuffix(f" [{code}]")
    first = _ANSI.sub("", message).strip().split("\n", 1)[0].rstrip()
    path, line = _place(getattr(record, "location", None), root)
    return Finding(path, line, first, code)


class WarningRecords(logging.Filter):
    """Every warning a Sphinx build writes, as findings, in the order written.

    It joins the filters of Sphinx's warning handler, so it sees what that handler
    writes: after suppress_warnings, "once" and the placing of locations. The warnings
    of parallel workers reach it when the main process writes them.
    """

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.findings: list[Finding] = []
        self.notices = NoticeRecords(root)
        self._handler: logging.Handler | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        self.findings.append(finding_of(record, self.root, self._prefix_to_come()))
        return True

    def _prefix_to_come(self) -> str:
        """What Sphinx still puts before the message, after this filter has seen it.

        Around each extension's setup Sphinx adds (and then removes) a filter that puts
        "while setting up extension X:" before every warning.
        """
        from sphinx.util.logging import MessagePrefixFilter

        filters = self._handler.filters if self._handler is not None else []
        later = filters[filters.index(self) + 1 :] if self in filters else []
        return "".join(
            f"{f.prefix} " for f in later if isinstance(f, MessagePrefixFilter) and f.prefix
        )

    def attach(self) -> None:
        """Join the warning handler of the Sphinx application being set up (once), and
        the notices its info handler."""
        from sphinx.util.logging import NAMESPACE, NewLineStreamHandler, WarningStreamHandler

        for handler in logging.getLogger(NAMESPACE).handlers:
            if isinstance(handler, WarningStreamHandler) and self._handler is not handler:
                handler.addFilter(self)
                self._handler = handler
            elif isinstance(handler, NewLineStreamHandler) and self.notices not in handler.filters:
                handler.addFilter(self.notices)


class NoticeRecords(logging.Filter):
    """The notices a build logs: info records of type qms with a notice code, as findings.

    It joins Sphinx's info handler after the filter that places locations; -W never
    sees them, since they are not warnings.
    """

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.findings: list[Finding] = []

    def filter(self, record: logging.LogRecord) -> bool:
        subtype = getattr(record, "subtype", None)
        if getattr(record, "type", None) == "qms" and subtype in NOTICE_CODES:
            self.findings.append(finding_of(record, self.root))
        return True


def _application(records: WarningRecords, **options: Any) -> Sphinx:
    """A Sphinx application whose warnings `records` sees, from the first extension on.

    Sphinx sets its logging up afresh inside its constructor and only then loads the
    extensions, whose setup and config-inited handlers may warn; so the records join
    when the first extension is set up.
    """
    from sphinx.application import Sphinx

    class Recorded(Sphinx):
        def setup_extension(self, extname: str) -> None:
            records.attach()
            super().setup_extension(extname)

    return Recorded(**options)


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
    from sphinx.errors import SphinxError
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    if not config.docs_path.is_dir():
        raise QmsError(
            f"no documents folder at {config.docs_path}",
            "create it or set docs_dir in [tool.qms]",
        )
    records = WarningRecords(config.root)
    doctrees = doctrees or outdir.parent / f".doctrees-{outdir.name}"
    failed = False
    if phases is not None:
        phases("starting", 0, 0)
    try:
        with patch_docutils(config.root), docutils_namespace():
            with _start_without_collector():
                app = _application(
                    records,
                    srcdir=config.docs_path,
                    confdir=config.root,
                    outdir=outdir,
                    doctreedir=doctrees,
                    buildername=builder,
                    confoverrides=overrides or {},
                    status=progress,
                    # Not stderr (the default): the records make the findings, printed once.
                    warning=None,
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
    findings = tuple(records.findings)
    notices = tuple(dict.fromkeys(records.notices.findings))
    return SphinxRun(outdir, findings, failed or bool(findings), notices)
