"""Releases: document sets, and the manifest approvers sign for a published set."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from qms.model.document import Document
from qms.model.parsing import load_json
from qms.model.schemas import problems

# The shape of a manifest is qms/schemas/manifest.schema.json.
MANIFEST_SCHEMA = "qms-release/1"
# Written into each set's _static/ at publication: fills the banner with the signers.
SIGNERS_SCRIPT_NAME = "qms-release-signers.js"


@dataclass(frozen=True)
class DocumentSet:
    """A named selection of documents (by type, tag and classification) and site pages."""

    name: str
    title: str
    types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    classifications: tuple[str, ...] = ()
    # Site pages beyond the home page, the register and the type index pages.
    pages: tuple[str, ...] = ()

    def selects(self, document: Document) -> bool:
        """Whether `document` belongs to the set (an empty criterion admits everything)."""
        return (
            (not self.types or str(document.type) in self.types)
            and (not self.classifications or str(document.classification) in self.classifications)
            and (not self.tags or bool(set(self.tags) & set(document.tags)))
        )

    def admits(self, classification: str) -> bool:
        """Whether the set may hold documents (or data) of `classification`."""
        return not self.classifications or classification in self.classifications

    def shows_page(self, docname: str) -> bool:
        """Whether a site page (other than home, register and type indexes) is in the set."""
        return any(fnmatchcase(docname, pattern) for pattern in self.pages)


@dataclass(frozen=True)
class Manifest:
    """What a release is: its commit, the documents of each set, every output file's hash."""

    name: str
    commit: str
    created: str
    sets: dict[str, list[dict[str, Any]]]
    files: dict[str, str]
    tools: dict[str, str]
    trust_roots: tuple[str, ...]
    signer_roles: tuple[str, ...]
    # The signature files (registry revisions, approval records, other releases) the
    # release relied on, path -> SHA-256: what it witnesses (see qms.model.witness).
    witness: tuple[tuple[str, str], ...] = ()
    # The words every release signer confirms (model/ceremony.py "release"); "" in a
    # manifest made before they were recorded (issue 18).
    wording: str = ""

    def to_bytes(self) -> bytes:
        """Canonical JSON: what the release signatures cover."""
        data = {
            "schema": MANIFEST_SCHEMA,
            "name": self.name,
            "commit": self.commit,
            "created": self.created,
            "sets": self.sets,
            "files": self.files,
            "tools": self.tools,
            "trust_roots": list(self.trust_roots),
            "signer_roles": list(self.signer_roles),
        }
        if self.witness:
            data["witness"] = dict(self.witness)
        if self.wording:
            data["wording"] = self.wording
        text = json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False)
        return (text + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Parse a manifest; raise ValueError for anything else."""
        try:
            raw = load_json(data)
        except ValueError as exc:
            raise ValueError(f"not JSON: {exc}") from exc
        found = problems("manifest", raw)
        if found:
            raise ValueError(found[0].message)
        witness = raw.get("witness", {})
        return cls(
            name=str(raw["name"]),
            commit=str(raw["commit"]),
            created=str(raw["created"]),
            sets=dict(raw["sets"]),
            files={str(k): str(v) for k, v in raw["files"].items()},
            tools={str(k): str(v) for k, v in raw["tools"].items()},
            trust_roots=tuple(raw["trust_roots"]),
            signer_roles=tuple(raw["signer_roles"]),
            witness=tuple(sorted(witness.items())),
            wording=str(raw.get("wording", "")),
        )
