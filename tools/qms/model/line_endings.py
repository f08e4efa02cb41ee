"""Line endings: files that differ from their signed bytes only by CRLF, named as such."""

from __future__ import annotations

from collections.abc import Sequence

from qms.model.findings import Finding, FindingCode

# Every per-file problem ends with this, so that reports can tell them apart.
ONLY_LINE_ENDINGS = "differs from what was signed only in line endings (CRLF)"
# Git for Windows checks text files out with CRLF (core.autocrlf=true); checking them out
# again with the setting off gives back the committed, signed LF bytes.
FIX = (
    "run 'git config core.autocrlf false' and check the files out again "
    "('git rm --cached -r . && git reset --hard')"
)


def has_crlf(data: bytes) -> bool:
    """Whether `data` holds a CRLF line ending."""
    return b"\r\n" in data


def to_lf(data: bytes) -> bytes:
    """`data` with every CRLF line ending turned into LF."""
    return data.replace(b"\r\n", b"\n")


def crlf_finding(path: str, data: bytes) -> Finding | None:
    """A finding at the first CRLF line of a document, for `qms check` and the build.

    A signature binds the exact bytes, so a document saved with CRLF is not the document
    git holds (with the handbook's .gitattributes) or that others sign.
    """
    at = data.find(b"\r\n")
    if at < 0:
        return None
    return Finding(
        path,
        data.count(b"\n", 0, at) + 1,
        "CRLF line endings (the first on this line): signatures bind the file's exact "
        f"bytes, so save it with LF line endings; if git wrote them on checkout, {FIX}",
        FindingCode.LINE_ENDINGS,
    )


def is_line_ending_problem(problem: str) -> bool:
    """Whether a verification problem is a CRLF-only difference."""
    return problem.endswith(ONLY_LINE_ENDINGS)


def line_ending_summary(findings: Sequence[Finding]) -> str:
    """One line saying how many failures are line endings only, and the fix ("" if none)."""
    count = sum(f.code == FindingCode.LINE_ENDINGS for f in findings)
    if not count:
        return ""
    failures = "1 failure is" if count == 1 else f"{count} failures are"
    return (
        f"{failures} only line endings: files with CRLF where LF was signed, which count as "
        "signed only once restored; if git wrote them on checkout (core.autocrlf=true), "
        f"{FIX}; otherwise save them with LF line endings"
    )
