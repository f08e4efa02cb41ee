"""Reading and validating document front matter, with a file line for every problem."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from qms.model.document import (
    MAX_ID_LENGTH,
    Classification,
    Document,
    DocumentType,
    Version,
)
from qms.model.findings import Finding, FindingCode
from qms.model.parsing import compose_yaml, value_problem
from qms.model.vocabulary import ID_PATTERN

REQUIRED_FIELDS = ("id", "title", "type", "version", "owner", "classification", "review_months")
OPTIONAL_FIELDS = ("effective", "change_reason", "tags")
ALLOWED_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
# Fields an author might be tempted to type but that qms derives from signatures.
DERIVED_FIELDS = ("status", "approved_by", "approved")
MAX_REVIEW_MONTHS = 60
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

    def text(self, key: str, value: Any, line: int) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.report(line, f"front matter field '{key}' must be non-empty text")
            return None
        return value.strip()

    def choice(self, key: str, value: Any, line: int, allowed: list[str]) -> str | None:
        if not isinstance(value, str) or value not in allowed:
            self.report(
                line,
                f"front matter field '{key}' has {value!r}; allowed: {_allowed(allowed)}",
            )
            return None
        return value


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

    block_lines = block.text.count("\n") + 2
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    scalars: dict[str, str] = {}
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
        if isinstance(value_node, yaml.ScalarNode):
            scalars[key] = str(value_node.value)
        try:
            values[key] = loader.construct_object(value_node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            check.report(line, f"front matter field '{key}' cannot be read: {exc.problem}")
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # A value YAML resolves to a type it then cannot build, such as the
            # timestamp 2026-13-01 or an explicit !!bool tag on "maybe".
            hint = "; write a real date" if value_node.tag.endswith(":timestamp") else ""
            check.report(
                line, f"front matter field '{key}' cannot be read: {value_problem(exc)}{hint}"
            )
    loader.dispose()

    end_line = block.first_line + block.text.count("\n")
    for key in REQUIRED_FIELDS:
        if key not in lines:
            check.report(end_line, f"front matter is missing required field '{key}'")

    document = _build(check, values, lines, scalars)
    title = values.get("title") if isinstance(values.get("title"), str) else None
    raw_id = values.get("id")
    if not _well_formed_id(raw_id):
        raw_id = None
    return ParseResult(
        document,
        tuple(sorted(check.findings, key=lambda f: f.sort_key)),
        block_lines,
        title,
        raw_id,
    )


def _well_formed_id(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_ID_LENGTH and bool(ID_PATTERN.match(value))


def _build(
    check: _Validator, values: dict[str, Any], lines: dict[str, int], scalars: dict[str, str]
) -> Document | None:
    def line(key: str) -> int:
        return lines.get(key, 1)

    doc_id = values.get("id")
    if isinstance(doc_id, str) and len(doc_id) > MAX_ID_LENGTH:
        check.report(
            line("id"),
            f"front matter field 'id' is {len(doc_id)} characters long; an id has at most "
            f"{MAX_ID_LENGTH}, like POL-ACC-001",
        )
        doc_id = None
    elif "id" in values and not _well_formed_id(doc_id):
        check.report(
            line("id"),
            f"front matter field 'id' has {doc_id!r}; an id is upper-case letters and "
            "digits in dash-separated parts, like POL-ACC-001",
        )
        doc_id = None

    title = check.text("title", values["title"], line("title")) if "title" in values else None
    owner = check.text("owner", values["owner"], line("owner")) if "owner" in values else None

    doc_type = None
    if "type" in values:
        doc_type = check.choice("type", values["type"], line("type"), list(DocumentType))
    classification = None
    if "classification" in values:
        classification = check.choice(
            "classification",
            values["classification"],
            line("classification"),
            list(Classification),
        )

    version = None
    if "version" in values:
        raw = values["version"]
        if isinstance(raw, float | int) and not isinstance(raw, bool):
            check.report(
                line("version"),
                f"front matter field 'version' must be quoted text like "
                f'"{scalars.get("version", raw)}"; '
                "YAML reads an unquoted number, which loses trailing zeros",
            )
        else:
            try:
                version = Version.parse(raw) if isinstance(raw, str) else None
            except ValueError:
                version = None
            if version is None:
                check.report(
                    line("version"),
                    f"front matter field 'version' has {raw!r}; "
                    'allowed: MAJOR.MINOR as quoted text, like "1.0"',
                )

    review = values.get("review_months")
    review_months = None
    if "review_months" in values:
        if (
            isinstance(review, bool)
            or not isinstance(review, int)
            or not (1 <= review <= MAX_REVIEW_MONTHS)
        ):
            check.report(
                line("review_months"),
                f"front matter field 'review_months' has {review!r}; "
                f"allowed: a whole number of months from 1 to {MAX_REVIEW_MONTHS}",
            )
        else:
            review_months = review

    effective = _effective(check, values, line("effective"))
    reason = values.get("change_reason", "")
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        check.report(line("change_reason"), "front matter field 'change_reason' must be text")
        reason = ""
    tags = _tags(check, values, line("tags"))

    if (
        check.findings
        or doc_id is None
        or title is None
        or owner is None
        or doc_type is None
        or classification is None
        or version is None
        or review_months is None
    ):
        return None
    return Document(
        id=doc_id,
        title=title,
        type=DocumentType(doc_type),
        version=version,
        owner=owner,
        classification=Classification(classification),
        review_months=review_months,
        path=check.path,
        effective=effective,
        change_reason=reason.strip(),
        tags=tags,
        lines=tuple(sorted(lines.items(), key=lambda item: item[1])),
    )


def _effective(check: _Validator, values: dict[str, Any], line: int) -> date | None:
    if "effective" not in values or values["effective"] is None:
        return None
    raw = values["effective"]
    if isinstance(raw, date) and not hasattr(raw, "hour"):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    check.report(
        line, f"front matter field 'effective' has {raw!r}; allowed: a date like 2026-01-15"
    )
    return None


def _tags(check: _Validator, values: dict[str, Any], line: int) -> tuple[str, ...]:
    raw = values.get("tags")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, str) and t.strip() for t in raw):
        check.report(line, "front matter field 'tags' must be a list of words, like [gxp, it]")
        return ()
    return tuple(t.strip() for t in raw)
