"""The staff roster: people, their roles with dates, in one canonical YAML form; pure.

It is personal data (GDPR, HIPAA), so it holds only what training needs: employee
number, name, roles with the dates they were held, and the fingerprints of keys a person
acknowledges with. A CSV export of an HR system converts to it, row by row, with every
bad row named.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

import yaml

from qms.model.approval import canonical_json, text_field
from qms.model.canonical import parse_canonical, worded
from qms.model.csvcells import read_rows
from qms.model.located import Located, load_located
from qms.model.parsing import value_problem
from qms.model.schemas import problems
from qms.model.signers import normalise_fingerprint
from qms.model.timeutil import format_utc, parse_utc
from qms.model.training import Person, RoleSpell

# The shape of a roster file is qms/schemas/roster.schema.json.
SCHEMA = "roster"
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
        return self.index.get(employee)

    @cached_property
    def index(self) -> dict[str, Person]:
        """Employee number -> person: built once, as every completion is looked up."""
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
        """Parse a roster file; `where` names it in errors, `where:LINE: problem`.

        Its shape is qms/schemas/roster.schema.json; dates, their order, fingerprints and
        duplicate employee numbers are checked here.
        """
        try:
            located = load_located(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, yaml.YAMLError) as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or getattr(exc, "reason", None)
            problem = (str(problem or value_problem(exc)).splitlines() or ["unreadable"])[0]
            raise RosterError(f"{where}{at}: not a YAML roster: {problem}") from exc
        if located is None:
            raise RosterError(f"{where}:1: a roster is a mapping with a list 'people'")
        found = problems(SCHEMA, located.value)
        if found:
            raise RosterError(f"{where}:{located.line(found[0].path)}: {found[0].message}")
        people = []
        for n, item in enumerate(located.value["people"]):
            here = f"{where}:{located.line(('people', n))}"
            people.append(_person(item, here, located, n))
        return _checked(people, where)


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
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


def _spell(item: Mapping[str, Any], where: str) -> RoleSpell:
    start = _date(item.get("from"), f"{where}: from")
    end = _date(item["until"], f"{where}: until") if item.get("until") else None
    if end is not None and end < start:
        raise RosterError(f"{where}: until {end} lies before from {start}")
    role = str(item.get("role") or "").strip()
    if not role:
        raise RosterError(f"{where}: 'role' must be non-empty text")
    return RoleSpell(role, start, end)


def _person(item: Mapping[str, Any], where: str, located: Located, n: int) -> Person:
    try:
        keys = tuple(normalise_fingerprint(str(k)) for k in item.get("keys") or [])
    except ValueError as exc:
        raise RosterError(f"{where}: keys: {exc}") from exc
    spells = tuple(
        _spell(spell, f"{located_where(where, located, ('people', n, 'roles', k))}")
        for k, spell in enumerate(item["roles"])
    )
    return Person(str(item["employee"]).strip(), str(item["name"]).strip(), spells, keys)


def located_where(where: str, located: Located, path: tuple[str | int, ...]) -> str:
    """`where` with the line of `path` in place of the person's line."""
    return f"{where.rsplit(':', 1)[0]}:{located.line(path)}"


def _checked(people: Iterable[Person], where: str) -> Roster:
    seen: set[str] = set()
    holders: dict[str, str] = {}
    for person in people:
        if person.employee in seen:
            raise RosterError(f"{where}: employee {person.employee} is listed twice")
        seen.add(person.employee)
        for key in person.keys:
            # One key is one person's: listed for two, it would sign for either.
            if holders.setdefault(key, person.employee) != person.employee:
                raise RosterError(
                    f"{where}: key {key} is listed for both {holders[key]} and "
                    f"{person.employee}; a key belongs to one person"
                )
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
    key_holders: dict[str, str] = {}
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
            keys = {normalise_fingerprint(k) for k in item.get("keys", "").split()}
        except ValueError as exc:
            problems.append(f"{where}:{line}: keys: {exc}")
            continue
        entry["keys"].update(keys)
        for key in sorted(keys):
            holder = key_holders.setdefault(key, item["employee"])
            if holder != item["employee"]:
                problems.append(
                    f"{where}:{line}: key {key} is listed for {holder} above; a key belongs "
                    "to one person"
                )
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

    # The words of the meaning the signer confirmed (model/ceremony.py); "" in a statement
    # made before they were recorded (issue 18), whose bytes stay as they were.
    wording: str = ""

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
        return canonical_json(worded(self.as_dict(), self.wording))

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
            wording=raw.get("wording", ""),
        )
