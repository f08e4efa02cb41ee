"""The staff roster: people, their roles with dates, in one canonical YAML form; pure.

It is personal data (GDPR, HIPAA), so it holds only what training needs: employee
number, name, roles with the dates they were held, and the fingerprints of keys a person
acknowledges with. A CSV export of an HR system converts to it, row by row, with every
bad row named.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml

from qms.model.approval import canonical_json, text_field
from qms.model.canonical import parse_canonical
from qms.model.csvcells import read_rows
from qms.model.parsing import load_yaml, value_problem
from qms.model.signers import normalise_fingerprint
from qms.model.timeutil import format_utc, parse_utc
from qms.model.training import Person, RoleSpell

# The columns of an HR export, in the order they are written; `until` and `keys` may be empty.
CSV_COLUMNS = ("employee", "name", "role", "from", "until", "keys")
HEADER = (
    "# The staff roster: personal data (GDPR). Kept to what training needs; changed only\n"
    "# with 'qms training roster import', which HR signs.\n"
)


class RosterError(ValueError):
    """A roster or HR export that cannot be read; the message names the place."""


@dataclass(frozen=True)
class Roster:
    """Everyone on the roster, by employee number."""

    people: tuple[Person, ...]

    def get(self, employee: str) -> Person | None:
        """The person with this employee number, if on the roster."""
        return next((p for p in self.people if p.employee == employee), None)

    def index(self) -> dict[str, Person]:
        """Employee number -> person, for many lookups."""
        return {p.employee: p for p in self.people}

    def to_bytes(self) -> bytes:
        """The one canonical YAML form: sorted by employee number, fixed key order."""
        lines = [HEADER, "people:\n"]
        for person in sorted(self.people, key=lambda p: p.employee):
            lines.append(f"  - employee: {_quote(person.employee)}\n")
            lines.append(f"    name: {_quote(person.name)}\n")
            if person.keys:
                lines.append(f"    keys: [{', '.join(_quote(k) for k in person.keys)}]\n")
            lines.append("    roles:\n")
            for spell in sorted(person.spells, key=lambda s: (s.start, s.role)):
                until = f", until: {spell.end.isoformat()}" if spell.end else ""
                lines.append(
                    f"      - {{role: {spell.role}, from: {spell.start.isoformat()}{until}}}\n"
                )
        return "".join(lines).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Roster:
        """Parse a roster file; `where` names it in errors."""
        try:
            raw = load_yaml(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise RosterError(f"{where}: not a YAML roster: {value_problem(exc)}") from exc
        if not isinstance(raw, dict) or not isinstance(raw.get("people"), list):
            raise RosterError(f"{where}: a roster is a mapping with a list 'people'")
        people = [_person(item, f"{where}: people[{n}]") for n, item in enumerate(raw["people"])]
        return _checked(people, where)


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _text(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str | int) or not str(value).strip():
        raise RosterError(f"{where}: '{key}' must be non-empty text")
    return str(value).strip()


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise RosterError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from exc


def _spell(item: Any, where: str) -> RoleSpell:
    if not isinstance(item, dict):
        raise RosterError(f"{where}: a role is a mapping with role, from and optional until")
    start = _date(item.get("from"), f"{where}: from")
    end = _date(item["until"], f"{where}: until") if item.get("until") else None
    if end is not None and end < start:
        raise RosterError(f"{where}: until {end} lies before from {start}")
    return RoleSpell(_text(item, "role", where), start, end)


def _person(item: Any, where: str) -> Person:
    if not isinstance(item, dict):
        raise RosterError(f"{where}: a person is a mapping with employee, name and roles")
    unknown = sorted(set(item) - {"employee", "name", "roles", "keys"})
    if unknown:
        raise RosterError(
            f"{where}: field '{unknown[0]}' is not kept; the roster holds only employee, "
            "name, roles and keys (personal data is kept to what training needs)"
        )
    roles = item.get("roles")
    if not isinstance(roles, list) or not roles:
        raise RosterError(f"{where}: 'roles' must list at least one role")
    keys = item.get("keys") or []
    if not isinstance(keys, list):
        raise RosterError(f"{where}: 'keys' must be a list of fingerprints")
    try:
        fingerprints = tuple(normalise_fingerprint(str(k)) for k in keys)
    except ValueError as exc:
        raise RosterError(f"{where}: keys: {exc}") from exc
    return Person(
        _text(item, "employee", where),
        _text(item, "name", where),
        tuple(_spell(s, f"{where}: roles[{n}]") for n, s in enumerate(roles)),
        fingerprints,
    )


def _checked(people: Iterable[Person], where: str) -> Roster:
    seen: set[str] = set()
    for person in people:
        if person.employee in seen:
            raise RosterError(f"{where}: employee {person.employee} is listed twice")
        seen.add(person.employee)
    return Roster(tuple(people))


def from_csv(text: str, where: str) -> tuple[Roster | None, tuple[str, ...]]:
    """A roster from an HR export with the columns CSV_COLUMNS (one row per role held).

    Returns the roster, or None and every bad row named (`where:LINE: problem`), so that
    an import is all or nothing.
    """
    lines, unreadable = read_rows(text, CSV_COLUMNS, where, optional=CSV_COLUMNS[4:])
    if unreadable:
        return None, (f"{unreadable[0]}; the export needs {', '.join(CSV_COLUMNS)}",)
    rows: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for line, item in lines:
        try:
            spell = _spell(
                {"role": item.get("role"), "from": item.get("from"), "until": item.get("until")},
                f"{where}:{line}",
            )
            entry = rows.setdefault(
                _text(item, "employee", f"{where}:{line}"),
                {"name": _text(item, "name", f"{where}:{line}"), "spells": [], "keys": set()},
            )
        except RosterError as exc:
            problems.append(str(exc))
            continue
        if entry["name"] != item["name"]:
            problems.append(
                f"{where}:{line}: employee {item['employee']} is named {item['name']!r} "
                f"here and {entry['name']!r} above"
            )
            continue
        entry["spells"].append(spell)
        try:
            entry["keys"].update(normalise_fingerprint(k) for k in item.get("keys", "").split())
        except ValueError as exc:
            problems.append(f"{where}:{line}: keys: {exc}")
    if problems:
        return None, tuple(problems)
    people = tuple(
        Person(employee, e["name"], tuple(e["spells"]), tuple(sorted(e["keys"])))
        for employee, e in sorted(rows.items())
    )
    return Roster(people), ()


ROSTER_APPROVAL = "qms-roster/1"
# The registry role that signs the roster in force.
ROSTER_ROLE = "hr"


@dataclass(frozen=True)
class RosterApproval:
    """HR's signed word that a roster, by its SHA-256, is the staff list from a moment on."""

    roster_sha256: str
    people: int
    signer_name: str
    signer_fingerprint: str
    signed_at: datetime
    # Where the roster came from: "csv import of FILE (sha256 ...)" or "edited".
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (the canonical field set)."""
        return {
            "schema": ROSTER_APPROVAL,
            "roster_sha256": self.roster_sha256,
            "people": self.people,
            "signer_name": self.signer_name,
            "signer_fingerprint": self.signer_fingerprint,
            "role": ROSTER_ROLE,
            "signed_at": format_utc(self.signed_at),
            "source": self.source,
        }

    def to_bytes(self) -> bytes:
        """Canonical bytes, as every signed statement."""
        return canonical_json(self.as_dict())

    @classmethod
    def from_bytes(cls, data: bytes) -> RosterApproval:
        """Parse an approval; refuse anything that is not exactly canonical."""
        return parse_canonical(
            data, ROSTER_APPROVAL, "roster approval", cls._build, "roster-approval"
        )

    @classmethod
    def _build(cls, raw: dict[str, Any]) -> RosterApproval:
        return cls(
            roster_sha256=text_field(raw, "roster_sha256"),
            people=raw["people"],
            signer_name=text_field(raw, "signer_name"),
            signer_fingerprint=text_field(raw, "signer_fingerprint"),
            signed_at=parse_utc(text_field(raw, "signed_at")),
            source=raw["source"],
        )
