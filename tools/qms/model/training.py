"""Training: who must read what, by when, and whether verified completions cover it; pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from qms.model.document import Classification, Document, Version


@dataclass(frozen=True)
class Requirement:
    """Roles that must read the documents it selects.

    A document is selected by id, or else by type and tags: every type when `types` is
    empty, and any one of `tags` when tags are given ("every SOP tagged gxp").
    """

    roles: tuple[str, ...]
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    # Days to complete, when this requirement is stricter than the policy's: 0 is "trained
    # by the effective date", as GMP asks of the operators of a revised batch procedure.
    due_days: int | None = None

    def selects(self, document: Document) -> bool:
        """Whether `document` falls under this requirement."""
        if document.id in self.ids:
            return True
        if self.ids and not (self.types or self.tags):
            return False
        if self.types and str(document.type) not in self.types:
            return False
        return not self.tags or any(tag in document.tags for tag in self.tags)

    def as_dict(self) -> dict[str, Any]:
        """The requirement as the signing policy approves it."""
        requirement: dict[str, Any] = {
            "roles": list(self.roles),
            "ids": list(self.ids),
            "types": list(self.types),
            "tags": list(self.tags),
        }
        # Only when set, so that a policy approved before the field existed stays approved.
        if self.due_days is not None:
            requirement["due_days"] = self.due_days
        return requirement


@dataclass(frozen=True)
class TrainingPolicy:
    """The controlled training configuration: part of the signing policy, so only a
    registry administrator's signature makes a change to it count."""

    requirements: tuple[Requirement, ...] = ()
    # Days to complete training after a version takes effect, or after joining a role.
    due_days: int = 30
    # A minor version resets training only when this is set; a major one always does.
    retrain_on_minor: bool = False
    # Effectiveness gates: (document type, share of affected people trained before a
    # version counts as in force), e.g. ("procedure", 0.9).
    gates: tuple[tuple[str, float], ...] = ()

    def gate_for(self, document: Document) -> float:
        """The share a version of `document` needs trained to be in force (0: no gate)."""
        return dict(self.gates).get(str(document.type), 0.0)

    def days_for(self, document: Document, roles: Iterable[str]) -> int:
        """Days a person holding `roles` has for `document`: the strictest requirement."""
        held = set(roles)
        days = [
            r.due_days
            for r in self.requirements
            if r.due_days is not None and held & set(r.roles) and r.selects(document)
        ]
        return min(days, default=self.due_days)

    def roles_for(self, document: Document) -> tuple[str, ...]:
        """The roles that must read `document`, sorted."""
        return tuple(
            sorted({role for r in self.requirements if r.selects(document) for role in r.roles})
        )

    def as_dict(self) -> dict[str, Any]:
        """The policy as the signing policy approves it."""
        policy: dict[str, Any] = {
            "requirements": [r.as_dict() for r in self.requirements],
            "due_days": self.due_days,
            "retrain_on_minor": self.retrain_on_minor,
        }
        # Only when set, so that a policy approved before gates existed stays approved.
        if self.gates:
            policy["gates"] = dict(self.gates)
        return policy


@dataclass(frozen=True)
class RoleSpell:
    """One role a person held, from a date and until one (None: still holds it)."""

    role: str
    start: date
    end: date | None = None

    def held_on(self, day: date) -> bool:
        """Whether the role was held on `day` (the end date is the last day held)."""
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Person:
    """A roster entry: only what training needs (employee number, name, roles, keys)."""

    employee: str
    name: str
    spells: tuple[RoleSpell, ...]
    # Fingerprints of the keys the person acknowledges with: the roster, approved by HR,
    # is what binds them to the person (model/signature_rules.py ListedKey).
    keys: tuple[str, ...] = ()

    def roles_on(self, day: date) -> tuple[str, ...]:
        """The roles held on `day`, sorted."""
        return tuple(sorted({s.role for s in self.spells if s.held_on(day)}))

    def joined(self, roles: Iterable[str], day: date) -> date | None:
        """When the person took up, without a break to `day`, the first of `roles` held."""
        wanted = set(roles)
        starts = [s.start for s in self.spells if s.role in wanted and s.held_on(day)]
        return min(starts) if starts else None


class TrainingState(StrEnum):
    """Where one person stands on one document."""

    DONE = "done"
    DUE = "due"
    OVERDUE = "overdue"
    NOT_REQUIRED = "not required"


@dataclass(frozen=True)
class Completion:
    """One verified record that a person was trained on a document version's content."""

    employee: str
    document_id: str
    version: Version
    content_sha256: str
    completed_on: date
    # How the record was made: self (acknowledged in person), session, import.
    method: str
    # The statement file it comes from, handbook-relative.
    source: str
    # Who signed the record, with which key, when; and what it says it was (a session's
    # title, an import's source system).
    signed_by: str = ""
    signed_at: datetime | None = None
    context: str = ""


@dataclass(frozen=True)
class InForce:
    """A document's version in force and what each earlier approved version signed.

    `approved` maps every approved version to the content digest its approvals bound,
    so a completion counts only for content that was actually approved. `effective`
    holds the effective date of each version when known.
    """

    document: Document
    approved: Mapping[Version, str]
    effective: Mapping[Version, date]


@dataclass(frozen=True)
class Assignment:
    """One person x one required document, with its state."""

    employee: str
    document_id: str
    version: Version
    state: TrainingState
    due: date | None
    # The completion that covers it, when done.
    completion: Completion | None = None


def counting_versions(
    target: Version, approved: Iterable[Version], policy: TrainingPolicy
) -> set[Version]:
    """The approved versions whose training still counts for `target`.

    A new major version always resets training; a minor one only with retrain_on_minor.
    """
    if policy.retrain_on_minor:
        return {target}
    return {v for v in approved if v.major == target.major and v.minor <= target.minor} | {target}


def training_start(target: Version, item: InForce, policy: TrainingPolicy) -> date | None:
    """The day the training obligation for `target` began: the effective date of the
    version that last reset training (the first of this major, or `target` itself)."""
    resets = counting_versions(target, item.approved, policy)
    dates = [item.effective[v] for v in resets if v in item.effective]
    return min(dates) if dates else item.document.effective


def assign(
    person: Person,
    item: InForce,
    policy: TrainingPolicy,
    completions: Sequence[Completion],
    on: date,
) -> Assignment:
    """Where `person` stands on the document of `item` on day `on`."""
    document = item.document
    # Training is on the latest approved version; a document never approved asks none.
    approved = [v for v in item.approved if v <= document.version]
    target = max(approved) if approved else document.version
    required = set(policy.roles_for(document)) & set(person.roles_on(on)) if approved else set()
    counting = counting_versions(target, item.approved, policy)
    covered = [
        c
        for c in completions
        if c.employee == person.employee
        and c.document_id == document.id
        and c.version in counting
        and item.approved.get(c.version, "") == c.content_sha256
    ]
    done = max(covered, key=lambda c: (c.completed_on, c.source)) if covered else None
    if not required:
        return Assignment(person.employee, document.id, target, TrainingState.NOT_REQUIRED, None)
    if done is not None:
        return Assignment(person.employee, document.id, target, TrainingState.DONE, None, done)
    starts = [d for d in (training_start(target, item, policy), person.joined(required, on)) if d]
    days = policy.days_for(document, required)
    due = max(starts) + timedelta(days=days) if starts else None
    state = TrainingState.OVERDUE if due is not None and on > due else TrainingState.DUE
    return Assignment(person.employee, document.id, target, state, due)


def share_trained(assignments: Iterable[Assignment]) -> tuple[int, int]:
    """(done, required) over assignments that are required."""
    required = [a for a in assignments if a.state is not TrainingState.NOT_REQUIRED]
    return sum(a.state is TrainingState.DONE for a in required), len(required)


@dataclass(frozen=True)
class RoleCompletion:
    """How many of the people holding a role that must read a document have been trained."""

    role: str
    done: int
    affected: int


@dataclass(frozen=True)
class PersonState:
    """One affected person's state on a document: personal data, shown only in sets whose
    classification admits it (PERSONAL_DATA)."""

    employee: str
    name: str
    state: TrainingState
    due: date | None
    completed_on: date | None
    method: str


# The classification personal data (the roster, who was trained when) carries: a document
# set shows per-person training only if it admits documents of this classification.
PERSONAL_DATA = Classification.CONFIDENTIAL


@dataclass(frozen=True)
class DocumentTraining:
    """A document's training picture: per role, over everyone affected, and per person."""

    roles: tuple[RoleCompletion, ...]
    done: int
    affected: int
    people: tuple[PersonState, ...] = ()


def document_training(
    document: Document,
    assignments: Iterable[Assignment],
    people: Mapping[str, Person],
    policy: TrainingPolicy,
    on: date,
) -> DocumentTraining:
    """Completion of `document` per role that must read it, from its assignments on `on`.

    A person holding two such roles counts once in the total and once in each role.
    """
    mine = [
        a
        for a in assignments
        if a.document_id == document.id and a.state is not TrainingState.NOT_REQUIRED
    ]
    roles = []
    for role in policy.roles_for(document):
        holders = [a for a in mine if (p := people.get(a.employee)) and role in p.roles_on(on)]
        done = sum(a.state is TrainingState.DONE for a in holders)
        roles.append(RoleCompletion(role, done, len(holders)))
    done = sum(a.state is TrainingState.DONE for a in mine)
    states = tuple(
        PersonState(
            a.employee,
            people[a.employee].name if a.employee in people else "",
            a.state,
            a.due,
            a.completion.completed_on if a.completion else None,
            a.completion.method if a.completion else "",
        )
        for a in sorted(mine, key=lambda a: a.employee)
    )
    return DocumentTraining(tuple(roles), done, len(mine), states)
