"""One release set built in a child process: its pages with Sphinx, then its PDFs.

A child per set bounds memory (Sphinx and WeasyPrint keep every page until they finish)
and runs in an environment fixed by construction: the release time as SOURCE_DATE_EPOCH
(the only way to reach the timestamp fontTools writes into font subsets), a fixed hash
seed, UTC and a fixed locale. The caller's own environment is never changed. The child
reports on a pipe of its own, one JSON object a line: {"progress": [phase, done, total]},
then {"findings": [...]} when it finished.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qms.errors import QmsError
from qms.model.findings import Finding
from qms.model.timeutil import from_epoch

# (phase, done, total): Sphinx's phases (reading, verifying, writing...), then "pdf".
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SetJob:
    """Everything the child needs, as plain data."""

    root: str
    outdir: str
    release: dict[str, Any]
    info: dict[str, Any]
    entries: list[dict[str, Any]]
    epoch: int


PROTOCOL_FD = "QMS_PROTOCOL_FD"


def build_set(job: SetJob, progress: Progress) -> tuple[Finding, ...]:
    """Build one set in a child process; return its build findings (none when clean).

    The child reports on a pipe of its own (stdout and stderr are only logs, kept in a
    file so that a chatty library can never block it), runs isolated from the current
    folder (-P) and in a fixed locale, time zone and hash seed.
    """
    read_end, write_end = os.pipe()
    environment = {
        **os.environ,
        "SOURCE_DATE_EPOCH": str(job.epoch),
        "PYTHONHASHSEED": "0",
        "TZ": "UTC",
        "LC_ALL": "C.UTF-8",
        PROTOCOL_FD: str(write_end),
    }
    findings: tuple[Finding, ...] | None = None
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
        try:
            # Our own interpreter and module, no shell.
            child = subprocess.Popen(
                [sys.executable, "-P", "-m", "qms.services.set_build"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                env=environment,
                pass_fds=(write_end,),
                text=True,
                encoding="utf-8",
            )
        finally:
            os.close(write_end)
        assert child.stdin is not None
        child.stdin.write(json.dumps(asdict(job)))
        child.stdin.close()
        with os.fdopen(read_end, encoding="utf-8") as reports:
            for line in reports:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue  # not a report: the protocol pipe carries nothing else
                if "progress" in event:
                    phase, done, total = event["progress"]
                    progress(str(phase), int(done), int(total))
                elif "findings" in event:
                    findings = tuple(Finding(**f) for f in event["findings"])
        code = child.wait()
        log.seek(0)
        lines = [ln.strip() for ln in log.read().splitlines() if ln.strip()]
    if code != 0 or findings is None:
        last = "; ".join(lines[-2:]) or f"exit code {code}"
        raise QmsError(
            f"building set {job.release.get('set')} failed: {last}",
            "run 'qms check' and 'qms build', fix what they report, and create the release again",
        )
    return findings


_reports: list[Any] = []  # in the child: the protocol pipe, opened by main


def _emit(event: dict[str, Any]) -> None:
    _reports[0].write(json.dumps(event) + "\n")
    _reports[0].flush()


def _run(job: SetJob) -> None:
    """In the child: Sphinx, then the PDFs, one at a time."""
    from qms.adapters.pdf import write_pdfs
    from qms.config import load_config
    from qms.services.pdf_pages import PdfEntry, SetInfo, book_pdf, document_pdfs
    from qms.services.sphinx_run import run_sphinx

    config = load_config(Path(job.root))
    outdir = Path(job.outdir)
    with tempfile.TemporaryDirectory(prefix="qms-release-") as scratch:
        run = run_sphinx(
            config,
            "html",
            outdir,
            fresh=True,
            progress=None,
            overrides={"qms_release": job.release},
            doctrees=Path(scratch) / "doctrees",
            phases=lambda phase, done, total: _emit({"progress": [phase, done, total]}),
        )
    if run.findings:
        _emit({"findings": [asdict(f) for f in run.findings]})
        return
    for leftover in (".buildinfo", "schema_violations.json"):
        (outdir / leftover).unlink(missing_ok=True)
    info = SetInfo(**{**job.info, "signer_roles": tuple(job.info["signer_roles"])})
    entries = [PdfEntry(**e) for e in job.entries]
    pdfs = [*document_pdfs(outdir, info, entries), book_pdf(outdir, info, entries)]
    css = (outdir / "_static" / "qms.css").read_text(encoding="utf-8")
    written = 0

    def done(_: object) -> None:
        nonlocal written
        written += 1
        _emit({"progress": ["pdf", written, len(pdfs)]})

    _emit({"progress": ["pdf", 0, len(pdfs)]})
    write_pdfs(pdfs, css, from_epoch(job.epoch), outdir, done)
    _emit({"findings": []})


def main() -> int:
    """Child entry point: read the job from stdin; errors go to stderr, exit 1."""
    _reports.append(os.fdopen(int(os.environ[PROTOCOL_FD]), "w", encoding="utf-8"))
    try:
        job = SetJob(**json.loads(sys.stdin.read()))
        _run(job)
    except QmsError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
