"""Plain YAML scalars read by the YAML 1.2 core schema, keeping the text the user wrote.

PyYAML resolves plain scalars by YAML 1.1, which reads ``16:9`` as the integer 969, ``12:30``
as 750, ``no`` as false and ``0755`` as octal 493: a prompt built from them says something
the user never wrote. The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution)
makes only ``null``/``~``, ``true``/``false``, decimal, ``0o`` and ``0x`` integers and
decimal floats non-text; everything else is text.

Even a 1.2 number loses its spelling (``0755`` is 755, ``1.50`` is 1.5), so variables keep
it: :func:`written_value` wraps a typed scalar in a type that still behaves as a number, a
boolean or a null in a template (``{% if night %}``, ``{{ n + 1 }}``) but renders as the
text written (``{{ code }}`` is ``0755``).
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeVar

NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"

#: The core schema's implicit resolution: (tag, pattern, possible first characters; ""
#: stands for the empty value, which is null).
CORE_RESOLVERS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    (NULL_TAG, re.compile(r"^(?:~|null|Null|NULL|)$"), ("~", "n", "N", "")),
    (BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), tuple("tTfF")),
    (INT_TAG, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), tuple("-+0123456789")),
    (
        FLOAT_TAG,
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        tuple("-+0123456789."),
    ),
    (MERGE_TAG, re.compile(r"^<<$"), ("<",)),
)
_PATTERNS = {tag: pattern for tag, pattern, _ in CORE_RESOLVERS}
#: Words YAML 1.1 read as booleans; YAML 1.2, and so rdpipe, reads them as text.
YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})


def resolve_tag(text: str) -> str:
    """The core-schema tag of a plain scalar ``text``: null, bool, int, float or str."""
    for tag, pattern, _ in CORE_RESOLVERS:
        if tag != MERGE_TAG and pattern.match(text):
            return tag
    return STR_TAG


def construct(tag: str, text: str) -> Any:
    """The Python value of a scalar of a core-schema ``tag`` (``0755`` is 755, ``0o17`` is 15).

    Raises ``ValueError`` when ``text`` is not of that tag (``!!int abc``, ``!!bool yes``).
    """
    pattern = _PATTERNS.get(tag)
    if pattern is not None and not pattern.match(text):
        raise ValueError(f"{text!r} is not a {tag}")
    if tag == NULL_TAG:
        return None
    if tag == BOOL_TAG:
        return text.lower() == "true"
    if tag == INT_TAG:
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)
    if tag == FLOAT_TAG:
        lowered = text.lower()
        if lowered.endswith(".nan"):
            return math.nan
        if lowered.endswith(".inf"):
            return -math.inf if lowered.startswith("-") else math.inf
        return float(text)
    return text


class _Written:
    """Renders as the text written; subclasses are numbers, so arithmetic and tests work."""

    written: str

    def __str__(self) -> str:
        return self.written

    def __repr__(self) -> str:
        return self.written


class WrittenInt(_Written, int):
    """An integer that renders as it was written (``0755``, ``+5``, ``0x1F``)."""

    def __new__(cls, value: int, written: str) -> WrittenInt:
        return _keep(int.__new__(cls, value), written)


class WrittenFloat(_Written, float):
    """A float that renders as it was written (``1.50``, ``1e3``, ``.5``)."""

    def __new__(cls, value: float, written: str) -> WrittenFloat:
        return _keep(float.__new__(cls, value), written)


class WrittenBool(_Written, int):
    """A boolean (``bool`` cannot be subclassed) that renders as written: ``true``, ``FALSE``."""

    def __new__(cls, value: bool, written: str) -> WrittenBool:
        return _keep(int.__new__(cls, int(value)), written)


_W = TypeVar("_W", bound=_Written)


def _keep(instance: _W, written: str) -> _W:
    instance.written = written
    return instance


class WrittenNull(str):
    """A null (``~``, ``null``, nothing) that is false in a test and renders as written."""

    def __bool__(self) -> bool:
        return False


def written_value(value: Any, written: str) -> Any:
    """Wrap a typed scalar so that it renders as ``written``; text stays as it is."""
    if value is None:
        return WrittenNull(written)
    if isinstance(value, bool):
        return WrittenBool(value, written)
    if isinstance(value, int):
        return WrittenInt(value, written)
    if isinstance(value, float):
        return WrittenFloat(value, written)
    return value


def read_plain(text: str) -> Any:
    """A value typed on the command line (``--set code=0755``), read as a plain scalar would be."""
    return written_value(construct(resolve_tag(text), text), text)
