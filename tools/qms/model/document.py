"""Controlled documents: their metadata as read from front matter."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

# Ids name folders and files (signatures/approvals/<ID>/, the lower-case source name),
# so they stay far inside any file system's 255-byte name limit.
MAX_ID_LENGTH = 40
VERSION_PATTERN = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


class DocumentType(StrEnum):
    """The kinds of controlled document the handbook holds."""

    POLICY = "policy"
    PROCEDURE = "procedure"
    STANDARD = "standard"
    WORK_INSTRUCTION = "work-instruction"
    FORM = "form"
    PLAN = "plan"
    REGISTER = "register"
    RECORD = "record"
    VALIDATION = "validation"

    @property
    def plural(self) -> str:
        """The heading used for a group of documents of this type."""
        return _PLURALS[self]

    @property
    def folder(self) -> str:
        """The folder under docs/ where documents of this type live."""
        return _FOLDERS[self]


_PLURALS = {
    DocumentType.POLICY: "Policies",
    DocumentType.PROCEDURE: "Procedures",
    DocumentType.STANDARD: "Standards",
    DocumentType.WORK_INSTRUCTION: "Work instructions",
    DocumentType.FORM: "Forms and templates",
    DocumentType.PLAN: "Plans",
    DocumentType.REGISTER: "Registers",
    DocumentType.RECORD: "Records",
    DocumentType.VALIDATION: "Validation",
}

_FOLDERS = {
    DocumentType.POLICY: "policies",
    DocumentType.PROCEDURE: "procedures",
    DocumentType.STANDARD: "standards",
    DocumentType.WORK_INSTRUCTION: "work-instructions",
    DocumentType.FORM: "forms",
    DocumentType.PLAN: "plans",
    DocumentType.REGISTER: "registers",
    DocumentType.RECORD: "records",
    DocumentType.VALIDATION: "validation",
}


class Classification(StrEnum):
    """Information classification, lowest to highest."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"


@dataclass(frozen=True, order=True)
class Version:
    """A MAJOR.MINOR document version."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse "2.0"; raise ValueError for anything else."""
        match = VERSION_PATTERN.match(text)
        if match is None:
            raise ValueError(f"not a MAJOR.MINOR version: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class Document:
    """The validated front matter of one controlled document."""

    id: str
    title: str
    type: DocumentType
    version: Version
    owner: str
    classification: Classification
    review_months: int
    path: str
    effective: date | None = None
    change_reason: str = ""
    tags: tuple[str, ...] = ()
    # The registry roles owning the risks a risk treatment plan treats (ISO/IEC 27001
    # 6.1.3 e): with an approval rule's `risk_owners`, each must approve it.
    risk_owners: tuple[str, ...] = ()
    # (key, 1-based line) of each front-matter field, so later checks can point at it.
    lines: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    def line_of(self, key: str) -> int:
        """The file line holding `key`, or the opening `---` line when absent."""
        return next((line for name, line in self.lines if name == key), 1)


def register_key(document: Document) -> tuple[int, str]:
    """Register order: by type (policies first, as DocumentType lists them), then id."""
    return list(DocumentType).index(document.type), document.id
