"""Reading the external documents register (docs/_external/) and hashing its local copies."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from qms.adapters.files import read_text
from qms.model.external import COPIES, ExternalDocument, external_findings, parse_external
from qms.model.findings import Finding
from qms.services.content import sha256_of


@dataclass(frozen=True)
class ExternalRegister:
    """Every readable registration, sorted by id, and every finding about the register."""

    documents: tuple[ExternalDocument, ...]
    findings: tuple[Finding, ...]
    # Every file the register was read from (registrations and copies), for rebuilds.
    files: tuple[Path, ...] = ()


def load_external(
    folder: Path, shown_from: Path, on: date, document_ids: Iterable[str] = ()
) -> ExternalRegister:
    """Read every `*.yaml` in `folder` and hash every copy in its `copies/`; paths in
    findings are relative to `shown_from`, reviews judged on `on`."""
    documents: list[ExternalDocument] = []
    findings: list[Finding] = []
    paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    for path in paths:
        shown = (
            path.relative_to(shown_from).as_posix()
            if path.is_relative_to(shown_from)
            else str(path)
        )
        found, problems = parse_external(shown, read_text(path))
        findings.extend(problems)
        if found is not None:
            documents.append(found)
    copies_folder = folder / COPIES
    # A link is no controlled copy: only regular files are hashed, never what one points to.
    copies = (
        sorted(p for p in copies_folder.iterdir() if p.is_file() and not p.is_symlink())
        if copies_folder.is_dir()
        else []
    )
    hashes = {f"{COPIES}/{p.name}": sha256_of(p.read_bytes()) for p in copies}
    findings += external_findings(documents, hashes, on, document_ids)
    return ExternalRegister(
        tuple(sorted(documents, key=lambda d: d.id)), tuple(findings), (*paths, *copies)
    )
