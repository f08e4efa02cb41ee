"""The JSON Schemas of the handbook's files, each compiled once, and their errors in words.

Each shape lives in `qms/schemas/<name>.schema.json` (draft 2020-12). A subschema says
what to tell the author when it fails with an ``x-message`` annotation: one text, or a
table keyword -> text (``"*"`` for the others), and for the configuration an ``x-hint``
(what to do) beside it. A text may name:

- ``{value}``: the value at fault (for ``propertyNames``, the key), ``{value!r}`` quoted;
- ``{key}``: the last part of its path (for ``required``, the missing name), ``{path[0]}``
  and so on for the others, ``{field}``: the last part that names a field (not an index);
- ``{parent[id]}``: a field of the mapping that holds the value (None if there is none);
- ``{allowed}``: an ``enum``'s values; ``{length}``: how long the value is;
- ``{names}``: the keys an ``additionalProperties: false`` refuses.

Checks that a schema cannot say (one field against another, version order, dates in the
past) stay in code beside the schema's callers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

# A message quotes a value; a value an attacker wrote is cut to a readable length.
_MAX_QUOTED = 200


def _is_integer(_checker: Any, instance: Any) -> bool:
    # JSON Schema counts 12.0 as an integer and Python counts True as 1; neither is a
    # whole number an author meant.
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_date(instance: Any) -> bool:
    """A calendar date: YAML's own (not a timestamp) or ISO text, as `date.fromisoformat`."""
    if isinstance(instance, datetime):
        return False
    if isinstance(instance, date):
        return True
    if isinstance(instance, str):
        try:
            date.fromisoformat(instance)
        except ValueError:
            return False
        return True
    return False


_FORMATS = FormatChecker(formats=())
_FORMATS.checks("date")(_is_date)

# jsonschema's stubs leave extend() untyped; what it returns is a draft 2020-12 Validator.
_QmsValidator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


@dataclass(frozen=True)
class Problem:
    """One way a value breaks its schema: where (a path into the value), and what to say."""

    path: tuple[str | int, ...]
    keyword: str
    message: str
    hint: str = ""


@cache
def schema(name: str) -> Mapping[str, Any]:
    """The schema `qms/schemas/<name>.schema.json`, read from the package once."""
    text = files("qms").joinpath("schemas", f"{name}.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def validator(name: str) -> Validator:
    """The compiled validator of schema `name` (checked against draft 2020-12 once)."""
    found = schema(name)
    _QmsValidator.check_schema(dict(found))
    compiled: Validator = _QmsValidator(dict(found), format_checker=_FORMATS)
    return compiled


@cache
def _fast_check(name: str) -> Callable[[Any], bool] | None:
    """jsonschema-rs's verdict on schema `name`, where it can only agree with ours.

    Only for schemas without integers (Python counts True as 1, JSON Schema 12.0 as an
    integer: ours refuses both), formats (ours are our own) and patterns (Python's regular
    expressions are not Rust's). It is asked only whether a value is valid; every problem
    is found and worded by the validator above. A verify reads one statement per signature,
    and this is 3 µs against 200.
    """
    text = json.dumps(schema(name))
    if any(word in text for word in ('"integer"', '"format"', '"pattern"')):
        return None
    try:
        import jsonschema_rs
    except ImportError:
        return None
    check: Callable[[Any], bool] = jsonschema_rs.validator_for(dict(schema(name))).is_valid
    return check


def _fast_valid(name: str, instance: Any) -> bool:
    check = _fast_check(name)
    if check is None:
        return False
    try:
        return check(instance)
    except (ValueError, TypeError):  # a value JSON cannot hold: the full check words it
        return False


def problems(name: str, instance: Any) -> list[Problem]:
    """Every problem of `instance` against schema `name`, the first one per path only."""
    if _fast_valid(name, instance) or _known_valid(name, instance):
        return []
    found: list[Problem] = []
    seen: set[tuple[str | int, ...]] = set()
    for error in validator(name).iter_errors(instance):
        for problem in _problems(schema(name), instance, error):
            if problem.path not in seen:
                seen.add(problem.path)
                found.append(problem)
    return found


# The root keywords under which an object is valid exactly when its shell (the root with
# every field allowed) is valid and each field is valid on its own.
_SPLITTABLE = frozenset(
    {"$schema", "$id", "title", "description", "type", "required", "properties"}
    | {"additionalProperties", "x-message", "x-hint"}
)
# Field values already judged, by schema, field and value; cleared when full.
_JUDGED: dict[tuple[str, str, Any], bool] = {}
_MAX_JUDGED = 10_000
# Longer texts (ids, titles) are judged each time rather than remembered.
_MAX_REMEMBERED_TEXT = 200


@cache
def _field_validators(name: str) -> tuple[Validator, Mapping[str, Validator]] | None:
    """The shell of schema `name` and one validator per field, when its root allows it."""
    root = schema(name)
    if not set(root) <= _SPLITTABLE or not isinstance(root.get("properties"), dict):
        return None
    fields: dict[str, Any] = root["properties"]
    shell = {**root, "properties": dict.fromkeys(fields, True)}
    return (
        _QmsValidator(shell, format_checker=_FORMATS),
        {key: _QmsValidator(sub, format_checker=_FORMATS) for key, sub in fields.items()},
    )


def _known_valid(name: str, instance: Any) -> bool:
    """True when `instance` is valid, judging each field value once per process.

    Front matter is checked for every document of every build, and most of its values
    ("policy", "internal", 12, "1.0") repeat from one document to the next: judged
    once, each costs a lookup. False means "not known valid": the full check decides.
    """
    split = _field_validators(name)
    if split is None or not isinstance(instance, dict):
        return False
    shell, fields = split
    if not shell.is_valid(instance):
        return False
    for key, value in instance.items():
        check = fields.get(key)
        if check is None:
            continue  # an undeclared key, which the shell judged
        frozen = _frozen(value)
        verdict = _JUDGED.get((name, key, frozen)) if frozen is not None else None
        if verdict is None:
            verdict = check.is_valid(value)
            if frozen is not None:
                if len(_JUDGED) >= _MAX_JUDGED:
                    _JUDGED.clear()
                _JUDGED[(name, key, frozen)] = verdict
        if not verdict:
            return False
    return True


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a scalar or a list of scalars (None for anything else).

    The type is part of it: 1, 1.0 and True are equal in Python but not in a schema.
    """
    if isinstance(value, str) and len(value) > _MAX_REMEMBERED_TEXT:
        return None
    if value is None or isinstance(value, str | int | float | date):
        return (type(value), value)
    if isinstance(value, list) and len(value) <= 20:
        items = tuple(_frozen(item) for item in value)
        return None if None in items else (list, items)
    return None


def _problems(root: Mapping[str, Any], instance: Any, error: ValidationError) -> Iterator[Problem]:
    path = tuple(error.absolute_path)
    keyword = str(error.validator)
    if keyword == "required" and isinstance(error.instance, dict):
        # One error per missing name, none of which says the name: name them all here.
        names: list[str] = list(error.validator_value)  # type: ignore[arg-type]
        for missing in names:
            if missing not in error.instance:
                yield _problem(
                    root, instance, error, (*path, missing), keyword, key=missing, value=None
                )
        return
    yield _problem(root, instance, error, path, keyword)


def _problem(
    root: Mapping[str, Any],
    instance: Any,
    error: ValidationError,
    path: tuple[str | int, ...],
    keyword: str,
    **extra: Any,
) -> Problem:
    missing = extra.get("key") if keyword == "required" else None
    template, hint = _annotations(root, error, keyword, missing)
    fields = _fields(error, path, _Entry(_at(instance, path[:-1])), **extra)
    if template is None:
        # Every schema names its messages; this is a net, not a message for authors.
        where = ".".join(str(p) for p in path) or "the file"
        template = f"{where}: {_cut(error.message)}"
        return Problem(path, keyword, template.replace("\n", " "))
    try:
        return Problem(path, keyword, template.format_map(fields), (hint or "").format_map(fields))
    except (KeyError, IndexError, AttributeError, TypeError, ValueError) as exc:
        # A message naming a field this error does not have is a schema bug: say both.
        where = ".".join(str(p) for p in path) or "the file"
        return Problem(path, keyword, f"{where}: {_cut(error.message)} ({exc!r} in x-message)")


def _annotations(
    root: Mapping[str, Any], error: ValidationError, keyword: str, missing: str | None
) -> tuple[str | None, str | None]:
    """The ``x-message`` and ``x-hint`` for `error`: the nearest on the way from the root.

    So a field's message also covers its items. A missing field is described by its
    own subschema, unless the table that requires it has a message for ``required``.
    """
    chain = _schema_chain(root, error.absolute_schema_path)
    if chain[-1] is not error.schema:
        chain.append(error.schema)  # the schema a "$ref" leads to
    own = error.schema if isinstance(error.schema, Mapping) else {}
    if missing is not None and _nearest([own], "x-message", keyword) is None:
        chain.append(own.get("properties", {}).get(missing))
    return _nearest(chain, "x-message", keyword), _nearest(chain, "x-hint", keyword)


def _nearest(chain: Sequence[Any], annotation: str, keyword: str) -> str | None:
    for subschema in reversed(chain):
        found = subschema.get(annotation) if isinstance(subschema, Mapping) else None
        if isinstance(found, Mapping):
            found = found.get(keyword, found.get("*"))
        if isinstance(found, str):
            return found
    return None


def _schema_chain(root: Mapping[str, Any], schema_path: Sequence[Any]) -> list[Any]:
    """The subschemas from `root` down to the one holding the failing keyword.

    A local "$ref" (``#/$defs/...``) is followed, as the validator followed it: its
    path leaves the reference out.
    """
    chain: list[Any] = [root]
    node: Any = root
    for part in list(schema_path)[:-1]:
        while isinstance(node, Mapping) and part not in node and "$ref" in node:
            node = _local(root, node["$ref"])
            chain.append(node)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        chain.append(node)
    return chain


def _local(root: Mapping[str, Any], ref: Any) -> Any:
    node: Any = root
    for part in str(ref).removeprefix("#/").split("/"):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _fields(
    error: ValidationError, path: Sequence[str | int], parent: _Entry, **extra: Any
) -> dict[str, Any]:
    value = error.instance
    fields: dict[str, Any] = {
        "value": _Quoted(value),
        "parent": parent,
        "key": _Quoted(path[-1] if path else ""),
        "field": _Quoted(next((p for p in reversed(path) if isinstance(p, str)), "")),
        "path": [_Quoted(p) for p in path],
        "allowed": "",
        "length": len(value) if isinstance(value, str | list | dict) else 0,
        "names": "",
    }
    if error.validator == "enum":
        allowed: list[Any] = list(error.validator_value)  # type: ignore[arg-type]
        fields["allowed"] = ", ".join(str(v) for v in allowed)
    if error.validator == "additionalProperties" and isinstance(value, dict):
        declared = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        fields["names"] = ", ".join(sorted(_plain(k) for k in value if k not in declared))
    fields.update({k: _Quoted(v) if k in ("value", "key") else v for k, v in extra.items()})
    return fields


def _at(instance: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        try:
            instance = instance[part]
        except (KeyError, IndexError, TypeError):
            return None
    return instance


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_QUOTED else text[: _MAX_QUOTED - 3] + "..."


class _Quoted:
    """A value as a message shows it: ``{value}`` as text, ``{value!r}`` as Python writes it.

    Both are what the hand-written messages showed, so that a message built from the
    schema reads as it always did; ``{value}`` is quoted only where it would break a line.
    """

    def __init__(self, value: Any) -> None:
        self.value = value

    def __str__(self) -> str:
        return _plain(self.value)

    def __repr__(self) -> str:
        return repr(self.value)

    def __format__(self, spec: str) -> str:
        return format(_plain(self.value), spec)


def _plain(value: Any) -> str:
    """`value` as text, quoted when it holds a line break or another unprintable character.

    So that every message stays one line.
    """
    text = str(value)
    return text if text.isprintable() else repr(value)


class _Entry:
    """The mapping that holds the value at fault: ``{parent[id]}`` names its entry."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __getitem__(self, key: str) -> _Quoted:
        return _Quoted(self.value.get(key) if isinstance(self.value, dict) else None)
