"""One release set built in a child process: its pages with Sphinx, then its PDFs.

A child per set bounds memory (Sphinx and WeasyPrint keep every page until they finish)
and runs in an environment fixed by construction: the release time as SOURCE_DATE_EPOCH
(the only way to reach the timestamp fontTools writes into font subsets), a fixed hash
seed and UTC. The caller's own environment is never changed. The child reports on stdout,
one JSON object a line: {"progress": [phase, done, total]}, then {"findings": [...]}.
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


def build_set(job: SetJob, progress: Progress) -> tuple[Finding, ...]:
    """Build one set in a child process; return its build findings (none when clean)."""
    environment = {
        **os.environ,
        "SOURCE_DATE_EPOCH": str(job.epoch),
        "PYTHONHASHSEED": "0",
        "TZ": "UTC",
    }
    # Our own interpreter and module, no shell.
    child = subprocess.Popen(
        [sys.executable, "-m", "qms.services.set_build"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
        text=True,
        encoding="utf-8",
    )
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    child.stdin.write(json.dumps(asdict(job)))
    child.stdin.close()
    findings: list[Finding] = []
    for line in child.stdout:
        event = json.loads(line)
        if "progress" in event:
            phase, done, total = event["progress"]
            progress(str(phase), int(done), int(total))
        elif "findings" in event:
            findings = [Finding(**f) for f in event["findings"]]
    errors = child.stderr.read()
    if child.wait() != 0:
        last = next((ln for ln in reversed(errors.splitlines()) if ln.strip()), "no message")
        raise QmsError(
            f"building set {job.release.get('set')} failed: {last}",
            "run 'qms check' and 'qms build', fix what they report, and create the release again",
        )
    return tuple(findings)


# The child's real stdout carries only the protocol; anything a library prints goes to
# stderr instead (see main).
_protocol = sys.stdout


def _emit(event: dict[str, Any]) -> None:
    _protocol.write(json.dumps(event) + "\n")
    _protocol.flush()


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
    sys.stdout = sys.stderr
    try:
        job = SetJob(**json.loads(sys.stdin.read()))
        _run(job)
    except QmsError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
