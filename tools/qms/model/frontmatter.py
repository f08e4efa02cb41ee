"""Reading and validating document front matter, with a file line for every problem."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from qms.model.document import (
    Classification,
    Document,
    DocumentType,
    Version,
)
from qms.model.findings import Finding, FindingCode
from qms.model.located import node_marks
from qms.model.parsing import compose_yaml, value_problem
from qms.model.schemas import problems, schema

# The shape of each field is qms/schemas/frontmatter.schema.json; its field lists are read
# from there, so that a field is declared once.
SCHEMA = "frontmatter"
REQUIRED_FIELDS: tuple[str, ...] = tuple(schema(SCHEMA)["required"])
ALLOWED_FIELDS: tuple[str, ...] = tuple(schema(SCHEMA)["properties"])
OPTIONAL_FIELDS = tuple(f for f in ALLOWED_FIELDS if f not in REQUIRED_FIELDS)
# Fields an author might be tempted to type but that qms derives from signatures.
DERIVED_FIELDS = ("status", "approved_by", "approved")
MAX_REVIEW_MONTHS: int = schema(SCHEMA)["properties"]["review_months"]["maximum"]
FENCE = "---"


@dataclass(frozen=True)
class FrontMatterBlock:
    """The raw front-matter text of a file and where it sits."""

    text: str
    # 1-based file line of the first YAML line (the line after the opening fence).
    first_line: int

    def line_at(self, index: int) -> int:
        """The file line of a character offset into `text`, counting "\n" only.

        YAML also breaks lines at U+2028 and U+0085; editors and MyST do not.
        """
        return self.first_line + self.text.count("\n", 0, index)


@dataclass(frozen=True)
class ParseResult:
    """A document (when its front matter is valid) and the findings on the way."""

    document: Document | None
    findings: tuple[Finding, ...]
    # Lines the front matter occupies, fences included (0 when there is none), and
    # its title as written, when readable: enough to render a heading in its place.
    block_lines: int = 0
    title: str | None = None
    # The id as written, when it is well formed, even if other fields are not.
    raw_id: str | None = None


def split_front_matter(source: str) -> FrontMatterBlock | None:
    """Return the block between the opening and closing `---`, or None if there is none.

    Raises ValueError when the block is opened but never closed.
    """
    # Split on "\n" only, as MyST and YAML count lines; a BOM is not content.
    lines = [line.rstrip("\r") for line in source.removeprefix("\ufeff").split("\n")]
    if not lines or lines[0].rstrip() != FENCE:
        return None
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip() == FENCE:
            return FrontMatterBlock("\n".join(lines[1:index]) + "\n", first_line=2)
    raise ValueError("front matter opened with '---' on line 1 is never closed")


def _allowed(values: Any) -> str:
    return ", ".join(str(v) for v in values)


def _scalar_type(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "a value"


class _Validator:
    """Collects findings for one file while checking each field."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.findings: list[Finding] = []

    def report(self, line: int, message: str, code: FindingCode = FindingCode.FRONTMATTER) -> None:
        self.findings.append(Finding(self.path, line, message, code))


def parse_document(path: str, source: str) -> ParseResult:
    """Validate the front matter of one Markdown file and build its Document."""
    check = _Validator(path)
    try:
        block = split_front_matter(source)
    except ValueError as exc:
        check.report(1, str(exc))
        return ParseResult(None, tuple(check.findings))
    if block is None:
        check.report(
            1,
            "missing front matter: a controlled document starts with a '---' block "
            f"holding {', '.join(REQUIRED_FIELDS)}",
        )
        return ParseResult(None, tuple(check.findings))

    try:
        root = compose_yaml(block.text)
    except yaml.reader.ReaderError as exc:
        line = block.line_at(exc.position)
        check.report(line, f"front matter holds a character YAML does not allow ({exc.reason})")
        return ParseResult(None, tuple(check.findings), block.text.count("\n") + 2)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = block.line_at(mark.index) if mark is not None else block.first_line
        problem = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
            problem += f" ({exc.context} on line {block.line_at(exc.context_mark.index)})"
        check.report(line, f"front matter is not valid YAML: {problem}")
        return ParseResult(None, tuple(check.findings), block.text.count("\n") + 2)

    if not isinstance(root, yaml.MappingNode):
        what = "empty" if root is None else _scalar_type(root)
        check.report(
            block.first_line,
            f"front matter must be a mapping of fields, found {what}; "
            f"required: {', '.join(REQUIRED_FIELDS)}",
        )
        return ParseResult(None, tuple(check.findings), block.text.count("\n") + 2)

    values, lines, reported = _read_fields(check, block, root)
    _check_shapes(check, block, root, values, lines, reported)
    title = values.get("title") if isinstance(values.get("title"), str) else None
    raw_id = values.get("id") if "id" in values and "id" not in reported else None
    document = None if check.findings else _build(check.path, values, lines)
    return ParseResult(
        document,
        tuple(sorted(check.findings, key=lambda f: f.sort_key)),
        block.text.count("\n") + 2,
        title,
        raw_id,
    )


def _read_fields(
    check: _Validator, block: FrontMatterBlock, root: yaml.MappingNode
) -> tuple[dict[str, Any], dict[str, int], set[str]]:
    """Each known field's value and line, and the fields already reported.

    What a schema cannot see is checked here: field names that are not text, a field
    given twice, fields derived from signatures, values YAML cannot build, and a version
    written as a number (whose digits as written the message quotes).
    """
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    reported: set[str] = set()
    # One safe loader builds every value, so that types are YAML's own (dates,
    # ints) and nothing executable can be constructed.
    loader = yaml.SafeLoader("")
    for key_node, value_node in root.value:
        line = block.line_at(key_node.start_mark.index)
        if not isinstance(key_node, yaml.ScalarNode):
            check.report(line, "a front matter field name must be plain text, like 'owner'")
            continue
        key = str(key_node.value)
        if key in lines:
            check.report(
                line,
                f"front matter field '{key}' is given twice (first on line {lines[key]}); keep one",
            )
            continue
        if key in DERIVED_FIELDS:
            check.report(
                line,
                f"front matter field '{key}' is not allowed: it is derived from verified "
                "signatures, never typed; remove the line",
            )
            continue
        if key not in ALLOWED_FIELDS:
            check.report(
                line, f"unknown front matter field '{key}'; allowed: {_allowed(ALLOWED_FIELDS)}"
            )
            continue
        lines[key] = line
        values[key] = _UNREADABLE
        try:
            values[key] = loader.construct_object(value_node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            check.report(line, f"front matter field '{key}' cannot be read: {exc.problem}")
            reported.add(key)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # A value YAML resolves to a type it then cannot build, such as the
            # timestamp 2026-13-01 or an explicit !!bool tag on "maybe".
            hint = "; write a real date" if value_node.tag.endswith(":timestamp") else ""
            check.report(
                line, f"front matter field '{key}' cannot be read: {value_problem(exc)}{hint}"
            )
            reported.add(key)
        else:
            if key == "version" and _is_number(values[key]):
                check.report(
                    line,
                    "front matter field 'version' must be quoted text like "
                    f'"{value_node.value}"; '
                    "YAML reads an unquoted number, which loses trailing zeros",
                )
                reported.add(key)
    loader.dispose()
    return values, lines, reported


def _check_shapes(
    check: _Validator,
    block: FrontMatterBlock,
    root: yaml.MappingNode,
    values: dict[str, Any],
    lines: dict[str, int],
    reported: set[str],
) -> None:
    """Report what the schema finds, once per field and at the line of the fault."""
    end_line = block.first_line + block.text.count("\n")
    marks: dict[tuple[str | int, ...], yaml.Mark] | None = None  # only when needed
    for found in problems(SCHEMA, values):
        field = str(found.path[0]) if found.path else ""
        if field in reported:
            continue
        reported.add(field)
        if found.keyword == "required":
            line = end_line
        elif len(found.path) > 1 and found.path in (marks := marks or node_marks(root)):
            line = block.line_at(marks[found.path].index)
        else:
            line = lines.get(field, block.first_line)
        check.report(line, found.message)


# Stands in for a value that could not be read (already reported), so that the schema
# sees its field as present.
_UNREADABLE = object()


def _is_number(value: Any) -> bool:
    return isinstance(value, float | int) and not isinstance(value, bool)


def _build(path: str, values: dict[str, Any], lines: dict[str, int]) -> Document:
    """The Document of front matter that met its schema (`values` holds valid fields)."""
    effective = values.get("effective")
    if isinstance(effective, str):
        effective = date.fromisoformat(effective)
    return Document(
        id=values["id"],
        title=values["title"].strip(),
        type=DocumentType(values["type"]),
        version=Version.parse(values["version"]),
        owner=values["owner"].strip(),
        classification=Classification(values["classification"]),
        review_months=values["review_months"],
        path=path,
        effective=effective,
        change_reason=(values.get("change_reason") or "").strip(),
        tags=tuple(t.strip() for t in values.get("tags") or ()),
        risk_owners=tuple(values.get("risk_owners") or ()),
        lines=tuple(sorted(lines.items(), key=lambda item: item[1])),
    )
