"""The training view: approvals verified, then the roster, records and matrix on a day."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from qms.config import QmsConfig
from qms.errors import QmsError
from qms.model.document import Document
from qms.model.findings import Finding
from qms.model.training import Assignment, InForce, Person, TrainingPolicy
from qms.services.handbook import Handbook, load_handbook
from qms.services.training import (
    ApprovedRoster,
    TrainingFacts,
    approved_contents,
    in_force_items,
    matrix,
    training_events,
)
from qms.services.verify import verify_handbook


@dataclass(frozen=True)
class TrainingView:
    """The training matrix on a day, with everything it was derived from."""

    policy: TrainingPolicy
    items: Mapping[str, InForce]
    facts: TrainingFacts
    assignments: tuple[Assignment, ...]
    # Findings of the signer registry: with any, no training record counts.
    registry_findings: tuple[Finding, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every reason a record or the roster does not count."""
        return self.registry_findings + self.facts.all_findings


def training_view(config: QmsConfig, on: date, now: datetime, cache: bool = False) -> TrainingView:
    """Verify approvals, the roster and training records, and derive the matrix on `on`.

    `cache`: reuse what gpg said of signatures in this clone's earlier runs
    (`services/signatures.py` `kept_verifications`)."""
    policy = config.training or TrainingPolicy()
    handbook = load_handbook(config)
    verification = verify_handbook(config, handbook, now=now, cache=cache)
    items = in_force_items(handbook.documents, approved_contents(verification.verdicts))
    registry = verification.registry
    # Verify judged every record once, against every document: the same facts serve here.
    facts = verification.training_facts or TrainingFacts(ApprovedRoster(None, None, ()), (), ())
    # Verify derived the matrix for its own day already; another day needs its own.
    same_day = facts is verification.training_facts and on == now.date()
    assignments = verification.training_matrix if same_day else matrix(facts, items, policy, on)
    return TrainingView(policy, items, facts, assignments, registry.findings)


def matrix_rows(
    view: TrainingView,
    person: str = "",
    role: str = "",
    document: str = "",
    on: date | None = None,
) -> list[dict[str, str]]:
    """The matrix as rows for exports and JSON, filtered by person, role or document."""
    roster = view.facts.roster.roster
    people = roster.index if roster else {}
    rows = []
    for a in view.assignments:
        who = people.get(a.employee)
        if person and a.employee != person:
            continue
        if role and (who is None or on is None or role not in who.roles_on(on)):
            continue
        if document and a.document_id != document.upper():
            continue
        done = a.completion
        rows.append(
            {
                "employee": a.employee,
                "name": who.name if who else "",
                "document": a.document_id,
                "version": str(a.version),
                "state": str(a.state),
                "due": a.due.isoformat() if a.due else "",
                "completed_on": done.completed_on.isoformat() if done else "",
                "method": done.method if done else "",
            }
        )
    return rows


def person_history(view: TrainingView, employee: str) -> list[dict[str, str]]:
    """Every verified completion of one person, oldest first: their competence evidence."""
    titles = {d: item.document.title for d, item in view.items.items()}
    return [
        {
            "completed_on": c.completed_on.isoformat(),
            "document": c.document_id,
            "title": titles.get(c.document_id, ""),
            "version": str(c.version),
            "content_sha256": c.content_sha256,
            "method": c.method,
            "record": c.source,
        }
        for c in sorted(
            (c for c in view.facts.completions if c.employee == employee),
            key=lambda c: (c.completed_on, c.document_id, str(c.version)),
        )
    ]


@dataclass(frozen=True)
class PersonRecord:
    """One person's training record: the competence evidence of ISO 27001 7.2."""

    person: Person
    completions: list[dict[str, str]]
    required: list[dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        """The record as `qms training record --json` gives it."""
        return {
            "employee": self.person.employee,
            "name": self.person.name,
            "roles": [
                {
                    "role": s.role,
                    "from": s.start.isoformat(),
                    "until": s.end.isoformat() if s.end else None,
                }
                for s in self.person.spells
            ],
            "completions": self.completions,
            "required": self.required,
        }


def person_record(view: TrainingView, employee: str, on: date) -> PersonRecord:
    """The complete record of the person with this employee number, or a refusal."""
    roster = view.facts.roster.roster
    person = roster.get(employee) if roster else None
    if person is None:
        raise QmsError(
            f"employee {employee} is not on the approved roster",
            "give the employee number as the roster lists it",
        )
    return PersonRecord(
        person,
        person_history(view, person.employee),
        matrix_rows(view, person=person.employee, on=on),
    )


def training_trail(
    config: QmsConfig, handbook: Handbook, document: Document, now: datetime
) -> list[dict[str, str]]:
    """The audit-trail events of `document`'s verified training records (none without
    training configured, or with an untrusted registry): verify judges them already."""
    facts = verify_handbook(config, handbook, [document], now=now).training_facts
    return training_events(facts, document.id) if facts is not None else []
