"""YAML loaded safely that remembers where each mapping key and list item was written.

Schema errors name a path into the loaded value (``("signers", 2, "roles")``); this maps
such a path back to the place in the file, so every problem can be reported at its line.
The loading itself is `model/parsing.py`'s: bounded depth, bounded aliases, safe tags.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from qms.model.parsing import compose_yaml, construct
from qms.model.schemas import Problem, problems

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Located:
    """A loaded YAML value and the start of every key and item in it, by path."""

    value: Any
    marks: Mapping[Path, yaml.Mark] = field(default_factory=dict)

    def mark(self, path: Sequence[Any]) -> yaml.Mark | None:
        """Where `path` was written; the nearest written ancestor for one that was not.

        Keys are matched as text, so that ``1:`` and a merged ``<<`` key fall back
        to the mapping that holds them rather than to nothing.
        """
        key = normal_path(self.value, path)
        while key:
            found = self.marks.get(key)
            if found is not None:
                return found
            key = key[:-1]
        return self.marks.get(())

    def line(self, path: Sequence[Any], default: int = 1) -> int:
        """The 1-based line of `path` as YAML counts lines (see `mark`)."""
        found = self.mark(path)
        return found.line + 1 if found is not None else default


def normal_path(value: Any, path: Sequence[Any]) -> Path:
    """`path` with mapping keys as text and list indexes as numbers, as `node_marks` keys."""
    result: list[str | int] = []
    current = value
    for part in path:
        if isinstance(current, list) and isinstance(part, int):
            result.append(part)
            current = current[part] if 0 <= part < len(current) else None
        else:
            result.append(str(part))
            current = current.get(part) if isinstance(current, dict) else None
    return tuple(result)


def node_marks(root: yaml.Node) -> dict[Path, yaml.Mark]:
    """The start mark of every mapping key and sequence item under `root`, by path.

    An alias is marked where it is written and not walked into, so a "billion laughs"
    (already bounded by `compose_yaml`) costs one entry per alias, not per value.
    """
    marks: dict[Path, yaml.Mark] = {(): root.start_mark}
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Path]] = [(root, ())]
    # Depth first in document order (children pushed in reverse), so that an anchor is
    # walked where it is written, before any alias of it.
    while stack:  # iterative: the depth is bounded, but far below what recursion allows
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        children: list[tuple[yaml.Node, Path]] = []
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    # A repeated key keeps the last mark, as the loaded mapping keeps the
                    # last value.
                    child = (*path, str(key_node.value))
                    marks[child] = key_node.start_mark
                    children.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                marks[child] = item.start_mark
                children.append((item, child))
        stack.extend(reversed(children))
    return marks


def load_located(text: str) -> Located | None:
    """Safely load one YAML document with its marks; None for an empty text.

    Raises yaml.YAMLError as `model.parsing.load_yaml` does.
    """
    root = compose_yaml(text)
    if root is None:
        return None
    return Located(construct(root), node_marks(root))


@dataclass(frozen=True)
class CheckedMapping:
    """A YAML mapping read with the line of each node, and its schema's problems."""

    located: Located
    data: dict[str, Any]
    problems: list[Problem]


def load_checked(
    text: str, schema: str, fail: Callable[[int, str], None], not_a_mapping: str
) -> CheckedMapping | None:
    """`text` as a YAML mapping checked against `schema`; None, having told `fail` at which
    line, when it is not YAML or not a mapping (a data file users write: a catalogue, a
    KPI's results)."""
    try:
        located = load_located(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        fail(mark.line + 1 if mark else 1, f"not valid YAML: {getattr(exc, 'problem', exc)}")
        return None
    data = None if located is None else located.value
    found = problems(schema, data)
    if located is None or not isinstance(data, dict):
        fail(1, found[0].message if found else not_a_mapping)
        return None
    return CheckedMapping(located, data, found)
