"""Loading the requirement catalogues of a handbook from its data folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qms.adapters.files import read_text
from qms.model.catalogue import Catalogue, parse_catalogue
from qms.model.findings import Finding, FindingCode

CATALOGUE_FOLDER = "_catalogues"


@dataclass(frozen=True)
class Catalogues:
    """Every catalogue found, and the problems reading them."""

    catalogues: tuple[Catalogue, ...]
    findings: tuple[Finding, ...]

    def get(self, key: str) -> Catalogue | None:
        """The catalogue with `key`, if any."""
        return next((c for c in self.catalogues if c.key == key), None)


def load_catalogues(folder: Path, shown_from: Path) -> Catalogues:
    """Read every `*.yaml` in `folder`; paths in findings are relative to `shown_from`."""
    catalogues: list[Catalogue] = []
    findings: list[Finding] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        shown = (
            path.relative_to(shown_from).as_posix()
            if path.is_relative_to(shown_from)
            else str(path)
        )
        catalogue, problems = parse_catalogue(shown, path.stem, read_text(path))
        findings.extend(problems)
        if catalogue is not None:
            catalogues.append(catalogue)
    seen: dict[str, str] = {}
    for catalogue in catalogues:
        for requirement in catalogue.requirements:
            where = f"{catalogue.path}:{requirement.line}"
            first = seen.setdefault(requirement.id, where)
            if first != where:
                findings.append(
                    Finding(
                        catalogue.path,
                        requirement.line,
                        f"requirement id {requirement.id} is already defined at {first}",
                        FindingCode.CATALOGUE,
                    )
                )
    return Catalogues(tuple(catalogues), tuple(findings))
