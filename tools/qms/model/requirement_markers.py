"""Requirement markers on tests, read from a test module's source without running it."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from enum import StrEnum


class Check(StrEnum):
    """Whether a test shows a requirement met (positive) or a violation refused (negative)."""

    POSITIVE = "positive"
    NEGATIVE = "negative"


MARKER = "requirement"


@dataclass(frozen=True)
class Marker:
    """One `@pytest.mark.requirement(ID, ..., check=...)` on one test function."""

    requirements: tuple[str, ...]
    check: Check
    # pytest's node id relative to the module: "test_x" or "TestClass::test_x".
    test: str
    path: str
    line: int


@dataclass(frozen=True)
class MarkerProblem:
    """A requirement marker that cannot be read: not literal strings, or an unknown check."""

    path: str
    line: int
    message: str


@dataclass(frozen=True)
class ModuleMarkers:
    """What one test module marks, and what in its markers could not be read."""

    markers: tuple[Marker, ...]
    problems: tuple[MarkerProblem, ...]


def _is_requirement_mark(node: ast.expr) -> bool:
    # pytest.mark.requirement(...) or mark.requirement(...), called.
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr == MARKER):
        return False
    owner = func.value
    return (isinstance(owner, ast.Attribute) and owner.attr == "mark") or (
        isinstance(owner, ast.Name) and owner.id == "mark"
    )


def _read(call: ast.Call, test: str, path: str) -> Marker | MarkerProblem:
    line = call.lineno
    ids: list[str] = []
    for arg in call.args:
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            return MarkerProblem(
                path, line, "a requirement marker names its ids as literal strings"
            )
        ids.append(arg.value)
    if not ids:
        return MarkerProblem(path, line, "a requirement marker names at least one requirement id")
    check = Check.POSITIVE
    for keyword in call.keywords:
        value = keyword.value
        if keyword.arg != "check" or not (
            isinstance(value, ast.Constant) and value.value in tuple(Check)
        ):
            return MarkerProblem(
                path, line, "a requirement marker takes only check='positive' or check='negative'"
            )
        check = Check(str(value.value))
    return Marker(tuple(ids), check, test, path, line)


def _module_marks(tree: ast.Module) -> list[ast.Call]:
    # pytestmark = pytest.mark.requirement(...) or a list/tuple of marks.
    marks: list[ast.Call] = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in statement.targets
        ):
            value = statement.value
            items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
            marks.extend(item for item in items if isinstance(item, ast.Call))
    return [mark for mark in marks if _is_requirement_mark(mark)]


def _marks_of(decorators: list[ast.expr]) -> list[ast.Call]:
    return [d for d in decorators if isinstance(d, ast.Call) and _is_requirement_mark(d)]


def _tests(body: list[ast.stmt], prefix: str) -> list[tuple[str, list[ast.Call]]]:
    found: list[tuple[str, list[ast.Call]]] = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
            "test"
        ):
            found.append((prefix + node.name, _marks_of(node.decorator_list)))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            class_marks = _marks_of(node.decorator_list)
            for name, marks in _tests(node.body, f"{prefix}{node.name}::"):
                found.append((name, [*class_marks, *marks]))
    return found


def markers_in(source: str, path: str) -> ModuleMarkers:
    """Every requirement marker on the tests of one module, with its line.

    A module-level `pytestmark` applies to each test of the module; a class decorator to
    each of its tests. The module is parsed, never imported: reading the trace runs no code.
    """
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        return ModuleMarkers((), (MarkerProblem(path, exc.lineno or 1, f"not Python: {exc.msg}"),))
    module_marks = _module_marks(tree)
    markers: list[Marker] = []
    problems: list[MarkerProblem] = []
    for test, marks in _tests(tree.body, ""):
        for mark in [*module_marks, *marks]:
            read = _read(mark, test, path)
            if isinstance(read, MarkerProblem):
                if read not in problems:
                    problems.append(read)
            else:
                markers.append(read)
    return ModuleMarkers(tuple(markers), tuple(problems))
