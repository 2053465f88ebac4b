"""YAML text to plain data plus a map of where every value and key stands in the file.

PyYAML's composer keeps the position of every node; building the data from the node tree
ourselves keeps those positions, so any later error can name file, line and column. Only safe
YAML types are built (no tags that run code), and a key given twice is an error rather than a
silent overwrite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rdpipe.errors import Diagnostic
from rdpipe.load import quoting
from rdpipe.load.scalars import (
    BOOL_TAG,
    CORE_RESOLVERS,
    FLOAT_TAG,
    INT_TAG,
    MERGE_TAG,
    NULL_TAG,
    STR_TAG,
    construct,
)

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
    """Positions of values (``values``) and mapping keys (``keys``) by data path.

    ``texts`` holds the source text of every plain scalar that YAML typed as a number, a
    boolean or a null, so that where text is expected it reads as written.
    """

    values: dict[DataPath, Position] = field(default_factory=dict)
    keys: dict[DataPath, Position] = field(default_factory=dict)
    texts: dict[DataPath, str] = field(default_factory=dict)

    def tables(self) -> tuple[dict[DataPath, Any], ...]:
        """The path-keyed tables, for code that moves or merges paths."""
        return (self.values, self.keys, self.texts)

    def find(self, path: DataPath, *, key: bool = False) -> Position | None:
        """The position of ``path``, or of its nearest enclosing value that has one."""
        if key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            position = self.values.get(path[:end])
            if position is not None:
                return position
        return None


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


class _CoreLoader(yaml.SafeLoader):
    """PyYAML's safe loader resolving plain scalars by the YAML 1.2 core schema."""


_CoreLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in CORE_RESOLVERS:
    _CoreLoader.add_implicit_resolver(_tag, _pattern, list(_first))

#: Tags built by the core schema's rules; any other explicit tag goes to PyYAML's safe set.
_CORE_TAGS = frozenset({NULL_TAG, BOOL_TAG, INT_TAG, FLOAT_TAG, STR_TAG})
#: The tags of plain mappings and lists: any other on a collection (``!!set``, ``!!omap``).
_COLLECTIONS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
#: An anchor or tag written before a node's own text.
_PROPERTIES = re.compile(r"(?:[&!]\S*[ \t]+)*")


class _Builder:
    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
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
        if isinstance(node, yaml.MappingNode) and node.flow_style and self._misread(node, path):
            return {}
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _COLLECTIONS:
            self._problem(node, path, f"the tag {node.tag!r} is not supported here")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, path)

    def _scalar(self, node: yaml.ScalarNode, path: DataPath) -> Any:
        self.sources.texts.pop(path, None)
        text = str(node.value)
        if node.tag not in _CORE_TAGS:
            self._problem(
                node,
                path,
                f"the tag {node.tag!r} is not supported; write the value as text, a number, "
                "true/false or null",
            )
            return text
        try:
            value = construct(node.tag, text)
        except ValueError:
            kind = node.tag.rsplit(":", 1)[-1]
            self._problem(node, path, f"{text!r} is not a valid !!{kind}")
            return text
        if node.style is None and node.tag != STR_TAG:
            self.sources.texts[path] = text
        return value

    def _problem(
        self, node: yaml.Node, path: DataPath, message: str, *, column: int | None = None
    ) -> None:
        """Record a problem once, however many aliases lead to its node."""
        where = _position(self.file, node)
        column = where.column if column is None else column
        problem = Diagnostic(self.file, where.line, column, display_path(path), message)
        seen = {(p.line, p.column, p.message) for p in self.problems}
        if (problem.line, problem.column, problem.message) not in seen:
            self.problems.append(problem)

    def _mapping(self, node: yaml.MappingNode, path: DataPath) -> dict[str, Any]:
        result = self._merged(node, path)
        self.sources.values[path] = _position(self.file, node)
        written: set[str] = set()
        merges = 0
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges += 1
                if merges > 1:
                    self._problem(
                        key_node,
                        path,
                        "'<<' is given twice; merge several anchors with one list: <<: [*a, *b]",
                    )
                continue
            key = self._key(key_node, path)
            if key is None:
                continue
            if key in written:
                self._problem(
                    key_node,
                    (*path, key),
                    f"key {key!r} is given twice; the second would silently win",
                )
                continue
            written.add(key)
            self.sources.keys[(*path, key)] = _position(self.file, key_node)
            result[key] = self.build(value_node, (*path, key))
        return result

    def _misread(self, node: yaml.Node, path: DataPath) -> bool:
        """A flow collection that was meant as text (``prompt: {{ x }}``): advise quoting."""
        start = _flow_start(self.text, node)
        opener = self.text[start : start + 2]
        text_key = bool(path) and path[-1] in quoting.TEXT_KEYS
        if opener not in ("{{", "{%", "{#") and not text_key:
            return False
        line = self.text.splitlines()[node.start_mark.line]
        column = start - (node.start_mark.index - node.start_mark.column)
        self._problem(node, path, quoting.advice(line, column), column=column + 1)
        return True

    def _merged(self, node: yaml.MappingNode, path: DataPath) -> dict[str, Any]:
        """The keys ``<<: *anchor`` merges in; the first mapping named wins (YAML merge spec)."""
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag != MERGE_TAG:
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else []
            sources = sources or [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise yaml.MarkedYAMLError(
                        problem="'<<' merges mappings only (an &anchor of keys, or a list of them)",
                        problem_mark=key_node.start_mark,
                    )
                for key, value in self._mapping(source, path).items():
                    merged.setdefault(key, value)
        return merged

    def _key(self, node: yaml.Node, path: DataPath) -> str | None:
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
        if not (isinstance(node, yaml.MappingNode) and self._misread(node, path)):
            self._problem(node, path, "a key must be plain text")
        return None


def _flow_start(text: str, node: yaml.Node) -> int:
    """Where a flow collection's own text starts, past an ``&anchor`` or ``!tag`` before it."""
    match = _PROPERTIES.match(text, node.start_mark.index)
    return match.end() if match else node.start_mark.index


def _syntax_advice(text: str, error: yaml.MarkedYAMLError) -> tuple[int, int, str] | None:
    """For a syntax error caused by an unquoted brace, the line, column and advice."""
    problem = error.problem_mark
    if problem is None:
        return None
    context = error.context_mark.line if error.context_mark else problem.line
    first = max(min(problem.line, context) - 1, 0)
    return quoting.first_misread(text.splitlines(), range(problem.line, first - 1, -1))


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data and its source map.

    Plain scalars follow the YAML 1.2 core schema (see :mod:`rdpipe.load.scalars`); the text of
    each non-text one is kept in ``SourceMap.texts``. Merge keys (``<<: *anchor``) follow the
    spec: keys written beside them win. An empty document after a trailing ``---`` is ignored.
    Raises :class:`YamlError` for syntax errors, unsafe tags, duplicate keys, unquoted
    templates, a second document and nesting too deep to parse.
    """
    try:
        nodes = [
            node
            for node in yaml.compose_all(text, Loader=_CoreLoader)
            if node is not None and not _is_empty(node)
        ]
        if not nodes:
            return None, SourceMap()
        if len(nodes) > 1:
            second = nodes[1].start_mark.line + 1
            raise YamlError(
                [
                    Diagnostic(
                        file,
                        second,
                        1,
                        "",
                        f"the file holds {len(nodes)} YAML documents (a second one starts at "
                        f"line {second}, after a '---'); a pipeline is one document: remove the "
                        "'---' or move what follows it into a file of its own",
                    )
                ]
            )
        builder = _Builder(file, text)
        data = builder.build(nodes[0], ())
    except yaml.MarkedYAMLError as error:
        advice = _syntax_advice(text, error)
        if advice is not None:
            raise YamlError([Diagnostic(file, advice[0], advice[1], "", advice[2])]) from None
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        column = mark.column + 1 if mark else 0
        reason = error.problem or str(error)
        if error.context:
            reason = f"{reason} ({error.context})"
        if "undefined alias" in reason:
            reason += "; anchors are local to one file: an included file cannot use another's"
        raise YamlError([Diagnostic(file, line, column, "", f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as error:
        raise YamlError([Diagnostic(file, 0, 0, "", f"invalid YAML: {error}")]) from None
    except RecursionError:  # PyYAML composes and rdpipe builds nested nodes recursively
        raise YamlError(
            [Diagnostic(file, 0, 0, "", "invalid YAML: lists or mappings nested too deeply")]
        ) from None
    if builder.problems:
        raise YamlError(builder.problems)
    return data, builder.sources


def _is_empty(node: yaml.Node) -> bool:
    """A document with no content: what a trailing ``---`` leaves."""
    return isinstance(node, yaml.ScalarNode) and node.style is None and node.value == ""


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
