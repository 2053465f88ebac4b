"""Advice for a value YAML misreads because it starts with a brace: quote it, and how.

``prompt: {{ look }} at dawn`` is a YAML flow mapping followed by stray text, and
``prompt: {{ opening }}`` a mapping holding a mapping; the user meant a template. The advice
names the line and prints it corrected, so fixing it is a copy and paste.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: Jinja's openers and their closers: a value may hold them in any order.
_JINJA = {"{{": "}}", "{%": "%}", "{#": "#}"}
#: Keys whose values are text, where even a single leading brace means text (``{SIGN} at dawn``).
TEXT_KEYS = frozenset({"prompt", "caption", "text"})
#: ``key: `` or ``- `` before a value, at the start of a line or inside a flow collection.
_VALUE_START = re.compile(r"(?:^|(?<=[\s{\[,]))(?:(?P<key>[A-Za-z_][\w-]*):[ \t]+|- +)")


def quote(value: str) -> str:
    """``value`` as a YAML quoted scalar: double quotes, or single where it holds ``"``."""
    if '"' in value and "'" not in value:
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def advice(line: str, start: int) -> str:
    """The message for the value misread at column ``start`` of ``line``, with the line fixed."""
    fixed = corrected_line(line, start).strip()
    if line[start : start + 2] in _JINJA:
        return (
            "a value that starts with '{{', '{%' or '{#' must be quoted, or YAML reads it as a "
            f"mapping; write:  {fixed}"
        )
    return (
        f"text that starts with {line[start]!r} must be quoted, or YAML reads it as a "
        f"{'list' if line[start] == '[' else 'mapping'}; write:  {fixed}"
    )


def corrected_line(line: str, start: int) -> str:
    """``line`` with the value that begins at column ``start`` (0-based) quoted."""
    end = value_end(line, start)
    return line[:start] + quote(line[start:end]) + line[end:]


def value_end(line: str, start: int) -> int:
    """Where a plain value starting at ``start`` ends: before a comment or the closing brace
    of a flow collection around it (then before a comma too); Jinja tags are skipped whole."""
    end, closed = _scan(line, start, commas=False)
    if closed:
        end, _ = _scan(line, start, commas=True)
    return len(line[:end].rstrip())


def _scan(line: str, start: int, *, commas: bool) -> tuple[int, bool]:
    depth, index = 0, start
    while index < len(line):
        opener = line[index : index + 2]
        if opener in _JINJA:
            close = line.find(_JINJA[opener], index + 2)
            index = len(line) if close < 0 else close + 2
            continue
        char = line[index]
        if char in "{[":
            depth += 1
        elif char in "}]":
            if depth == 0:
                return index, True
            depth -= 1
        elif (char == "#" and line[index - 1] in " \t") or (char == "," and commas and depth == 0):
            return index, False
        index += 1
    return len(line), False


def misread_values(line: str) -> Iterator[int]:
    """Columns (0-based) of values on ``line`` that YAML misreads because of a leading brace."""
    for match in _VALUE_START.finditer(line):
        start = match.end()
        rest = line[start:]
        if rest[:2] in _JINJA or (match.group("key") in TEXT_KEYS and rest[:1] in ("{", "[")):
            yield start


def first_misread(lines: list[str], numbers: range) -> tuple[int, int, str] | None:
    """The first misread value on the given lines: (1-based line, 1-based column, advice)."""
    for number in numbers:
        if 0 <= number < len(lines):
            for start in misread_values(lines[number]):
                return number + 1, start + 1, advice(lines[number], start)
    return None
