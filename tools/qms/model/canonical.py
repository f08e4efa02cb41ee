"""Reading a signed statement back: JSON of one schema, accepted only in its canonical bytes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from qms.model.line_endings import ONLY_LINE_ENDINGS, to_lf
from qms.model.parsing import load_json
from qms.model.schemas import problems


class StatementError(ValueError):
    """A statement file that is not a well-formed, canonical signed statement."""


def canonical_json(data: dict[str, Any]) -> bytes:
    """The one byte form of a statement: sorted keys, no spaces, UTF-8, a final newline."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text + "\n").encode("utf-8")


class Canonical(Protocol):
    """A statement that knows its one byte form."""

    def to_bytes(self) -> bytes:
        """Canonical bytes."""
        ...


T = TypeVar("T", bound=Canonical)


def parse_canonical(
    data: bytes,
    schema: str | tuple[str, ...],
    kind: str,
    build: Callable[[dict[str, Any]], T],
    shape: str,
) -> T:
    """Parse `data` as a `schema` statement (or one of several versions) with `build`;
    refuse any other byte form.

    `shape` names its JSON Schema (qms/schemas/<shape>.schema.json): the first problem it
    finds is the error; `build` then only converts values a schema cannot (dates, times).

    Only canonical bytes are accepted, so that one statement has one form; a copy that
    git converted to CRLF is refused too, but named for what it is.
    """
    try:
        raw = load_json(data)
    except ValueError as exc:
        raise StatementError(f"not a JSON {kind}: {exc}") from exc
    schemas = (schema,) if isinstance(schema, str) else schema
    if not isinstance(raw, dict) or raw.get("schema") not in schemas:
        raise StatementError(f"not a {schemas[0]} {kind}")
    found = problems(shape, raw)
    if found:
        raise StatementError(found[0].message)
    try:
        statement = build(raw)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise StatementError(f"malformed {kind}: {exc}") from exc
    if statement.to_bytes() != data:
        if to_lf(data) == statement.to_bytes():
            raise StatementError(f"the {kind} {ONLY_LINE_ENDINGS}")
        raise StatementError(f"{kind} is not in canonical form")
    return statement


def worded(data: dict[str, Any], wording: str) -> dict[str, Any]:
    """`data` with the words of the meaning the signer confirmed (model/ceremony.py), when
    there are any: a statement made before wording was recorded keeps its bytes."""
    return {**data, "wording": wording} if wording else data
