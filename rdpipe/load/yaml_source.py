"""YAML text to plain data plus a map of where every value and key stands in the file.

PyYAML's composer keeps the position of every node; building the data from the node tree
ourselves keeps those positions, so any later error can name file, line and column. Only safe
YAML types are built (no tags that run code), and a key given twice is an error rather than a
silent overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rdpipe.errors import Diagnostic

#: A location inside the data: mapping keys and list indices, as pydantic's ``loc``.
DataPath = tuple[str | int, ...]

#: Values one file may hold, so that YAML aliases cannot expand exponentially.
MAX_NODES = 200_000


@dataclass(frozen=True)
class Position:
    """Where a node starts: file as shown to the user, 1-based line and column."""

    file: str
    line: int
    column: int


@dataclass
class SourceMap:
    """Positions of values (``values``) and of mapping keys (``keys``) by data path."""

    values: dict[DataPath, Position] = field(default_factory=dict)
    keys: dict[DataPath, Position] = field(default_factory=dict)

    def find(self, path: DataPath, *, key: bool = False) -> Position | None:
        """The position of ``path``, or of its nearest enclosing value that has one."""
        if key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            position = self.values.get(path[:end])
            if position is not None:
                return position
        return None

    def update(self, other: SourceMap, *, prefix: DataPath = ()) -> None:
        for path, position in other.values.items():
            self.values[prefix + path] = position
        for path, position in other.keys.items():
            self.keys[prefix + path] = position


class YamlError(Exception):
    """The text is not valid YAML (or uses a feature rdpipe refuses); carries diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("; ".join(d.format() for d in diagnostics))


def display_path(path: DataPath) -> str:
    """``('shots', 2, 'seconds')`` -> ``shots[2].seconds``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _position(file: str, node: yaml.Node) -> Position:
    return Position(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.sources = SourceMap()
        self.problems: list[Diagnostic] = []
        self._constructor = yaml.SafeLoader("")
        self._count = 0

    def build(self, node: yaml.Node, path: DataPath) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            raise yaml.MarkedYAMLError(
                problem=f"more than {MAX_NODES} values (aliases expanding without end?)",
                problem_mark=node.start_mark,
            )
        self.sources.values[path] = _position(self.file, node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._constructor.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: DataPath) -> dict[str, Any]:
        self._constructor.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._constructor.construct_object(key_node, deep=True)
            where = _position(self.file, key_node)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                self.problems.append(
                    Diagnostic(
                        self.file,
                        where.line,
                        where.column,
                        display_path((*path, key)),
                        f"key {key!r} is given twice; the second would silently win",
                    )
                )
                continue
            self.sources.keys[(*path, key)] = where
            result[key] = self.build(value_node, (*path, key))
        return result


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data and its source map.

    Raises :class:`YamlError` for syntax errors, unsafe tags and duplicate keys.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return None, SourceMap()
        builder = _Builder(file)
        data = builder.build(node, ())
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        column = mark.column + 1 if mark else 0
        reason = error.problem or str(error)
        if error.context:
            reason = f"{reason} ({error.context})"
        raise YamlError([Diagnostic(file, line, column, "", f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as error:
        raise YamlError([Diagnostic(file, 0, 0, "", f"invalid YAML: {error}")]) from None
    if builder.problems:
        raise YamlError(builder.problems)
    return data, builder.sources


def read_yaml(path: Path, shown_as: str) -> tuple[Any, SourceMap]:
    """Read and parse a YAML file; ``shown_as`` is the name used in messages."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlError([Diagnostic(shown_as, 0, 0, "", "file not found")]) from None
    except UnicodeDecodeError as error:
        raise YamlError(
            [Diagnostic(shown_as, 0, 0, "", f"not UTF-8 text (byte {error.start})")]
        ) from None
    except OSError as error:
        raise YamlError(
            [Diagnostic(shown_as, 0, 0, "", f"cannot read: {error.strerror}")]
        ) from None
    return parse_yaml(text, shown_as)
