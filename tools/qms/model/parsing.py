"""Bounded parsing of YAML, JSON and TOML from files a user or an attacker may have written.

Every YAML, JSON and TOML input goes through here, so that nesting too deep for Python's
recursion limit (each of these parsers recurses once per level), or a value the parser
cannot build, is an error with a line and never a traceback.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any, cast

import yaml

# Far deeper than any handbook file needs, far shallower than the recursion limit: the
# pure-Python composer and constructor use a few frames per level.
MAX_DEPTH = 64
# Aliases let a few lines stand for billions of values, which any walk of the data,
# str() included, then expands; no handbook file comes near this many.
MAX_VALUES = 100_000
# libyaml's parser when PyYAML was built with it: the same safe YAML, several times faster.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Every YAML collection opens with one of these characters ("-" a block list, "?" or ":"
# a mapping key), so a text with fewer of them cannot nest deeper than MAX_DEPTH.
_OPENERS = "[{-?:"
# TOML's four kinds of string, then comments: what is left holds only real brackets.
_TOML_STRING_OR_COMMENT = re.compile(
    r'"""(?:[^\\]|\\.)*?"""|\'\'\'.*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*',
    re.DOTALL,
)
_BRACKET = re.compile(r"[\[\]{}]")
# The characters a JSON depth scan looks at; an escape and the character it escapes are one.
_JSON_TOKEN = re.compile(r'\\.|["\[\]{}]', re.DOTALL)


class NestingError(yaml.MarkedYAMLError):
    """YAML nested deeper than MAX_DEPTH; a YAMLError, so callers report it as one."""


class ValueBuildError(yaml.MarkedYAMLError):
    """A value the safe constructor resolves but cannot build (a 5,000-digit number)."""


class ExpansionError(yaml.MarkedYAMLError):
    """Aliases that expand to more than MAX_VALUES values (a "billion laughs")."""


class SurrogateError(yaml.MarkedYAMLError):
    """A "\\ud800" escape: a lone surrogate, which no file, page or terminal can hold."""


# Double-quoted YAML escapes of a UTF-16 surrogate (\uD800 to \uDFFF, or \U0000D800...).
_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F][0-9a-fA-F]{2}")


def _check_surrogates(root: yaml.Node) -> None:
    stack, seen, found = [root], set(), []
    while stack:  # iterative, and each node once: an alias may point back at its parent
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode) and any(
            "\ud800" <= c <= "\udfff" for c in str(node.value)
        ):
            found.append(node)
        stack.extend(_children(node))
    if found:
        first = min(found, key=lambda n: n.start_mark.index)
        raise SurrogateError(
            problem="a \\u escape of a lone surrogate (D800 to DFFF) is not a character; "
            "write the character itself",
            problem_mark=first.start_mark,
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def _check_expansion(root: yaml.Node) -> None:
    """Count the values the tree stands for once its aliases are expanded."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()  # collections whose children are still being counted
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # post-order without recursion; shared nodes are counted once each
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if not children_done:
            if id(node) in open_:
                raise ExpansionError(
                    problem="an alias refers to the collection that holds it",
                    problem_mark=node.start_mark,
                )
            open_.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))
            continue
        open_.discard(id(node))
        size = 1 + sum(sizes[id(child)] for child in _children(node))
        if size > MAX_VALUES:
            raise ExpansionError(
                problem=f"aliases expand to more than {MAX_VALUES:,} values",
                problem_mark=node.start_mark,
            )
        sizes[id(node)] = size


def _check_depth(text: str, loader: type[yaml.SafeLoader]) -> None:
    if sum(text.count(c) for c in _OPENERS) <= MAX_DEPTH:
        return  # too few openers to nest that deep: skip the event scan
    depth = 0
    # The parser is a state machine, not recursive: it reads any depth safely.
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise NestingError(
                    problem=f"nested deeper than {MAX_DEPTH} levels",
                    # libyaml's marks carry the same line and index as PyYAML's.
                    problem_mark=cast(yaml.Mark, event.start_mark),
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def compose_yaml(text: str) -> yaml.Node | None:
    """The YAML node tree of `text`, with safe tags only and bounded depth.

    Errors are raised by the pure-Python parser, whose messages and marks the findings
    quote, so the fast parser never changes what a user is told.
    """
    try:
        _check_depth(text, _FAST_LOADER)
        node: yaml.Node | None = yaml.compose(text, Loader=_FAST_LOADER)
    except (yaml.YAMLError, UnicodeEncodeError):
        # libyaml refuses lone surrogates by failing to encode them, and stops at its
        # own flow limit (1,000). The Python reader names the characters YAML does not
        # allow, and the depth check stops its composer long before its recursion does.
        _check_depth(text, yaml.SafeLoader)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is not None and _SURROGATE_ESCAPE.search(text):
        _check_surrogates(node)
    if node is not None and "*" in text:  # no alias, no expansion
        _check_expansion(node)
    return node


def value_problem(exc: Exception) -> str:
    """What is wrong with a value a parser could not build, in the author's terms."""
    text = str(exc)
    if "integer string conversion" in text:
        # Python's own message advises a call to sys.set_int_max_str_digits.
        return "a number of more than 4,300 digits"
    return text


def construct(node: yaml.Node) -> Any:
    """Build the Python value of a composed node with the safe constructor.

    Raises a YAMLError at the node's line when YAML resolves a type it then cannot
    build, such as the timestamp 2026-13-01 or a number too long to convert.
    """
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueBuildError(problem=value_problem(exc), problem_mark=node.start_mark) from exc
    finally:
        loader.dispose()


def load_yaml(text: str) -> Any:
    """Safely load one YAML document with bounded depth; None for an empty text."""
    node = compose_yaml(text)
    return None if node is None else construct(node)


def bracket_depth(text: str, strings: re.Pattern[str] | None = None) -> int:
    """How deep the arrays and objects of a JSON (or TOML) text nest, strings ignored.

    JSON is scanned in one pass over its quotes, brackets and escapes: a regular expression
    for its strings backtracks quadratically on an unterminated string of escapes (a hang an
    attacker could commit). TOML gives its string-and-comment pattern, which is bounded
    by lines.
    """
    if strings is not None:
        text = strings.sub("", text)
        depth = deepest = 0
        for bracket in _BRACKET.findall(text):
            depth += 1 if bracket in "[{" else -1
            deepest = max(deepest, depth)
        return deepest
    depth = deepest = 0
    inside = False
    # Only the characters that matter, in one linear pass: a backslash outside a string
    # is invalid JSON, so the parser stops there whatever follows it.
    for char in _JSON_TOKEN.findall(text):
        if char == '"':
            inside = not inside
        elif inside:
            continue
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def load_json(data: bytes) -> Any:
    """Parse UTF-8 JSON bytes with bounded depth; raise ValueError for anything else.

    Text holding a lone surrogate (from a "\\ud800" escape) is refused too: it could
    never be written back as UTF-8.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    # Too few brackets to nest that deep (a signed statement has a handful): skip the scan,
    # most of the time of reading one of the tens of thousands of training records.
    few = text.count("[") + text.count("{") <= MAX_DEPTH
    if not few and bracket_depth(text) > MAX_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text)
    except ValueError as exc:  # JSONDecodeError, and numbers too long to convert
        raise ValueError(f"not valid JSON: {value_problem(exc)}") from exc
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError("JSON holds a lone surrogate escape, which is not text") from exc
    return value


def load_toml(text: str) -> dict[str, Any]:
    """Parse TOML with bounded depth; raise ValueError (TOMLDecodeError is one) if not."""
    # A table header such as [tool.qms] counts one level: it opens and closes on its line.
    if bracket_depth(text, _TOML_STRING_OR_COMMENT) > MAX_DEPTH:
        raise ValueError(f"arrays or inline tables nested deeper than {MAX_DEPTH} levels")
    return tomllib.loads(text)
