"""The Jinja environment prompts render in: sandboxed, strict, bounded, and typed as written.

Jinja's immutable sandbox keeps a pipeline file from someone else away from files, the
environment and code. It does not bound memory: ``{{ 'x' * 10**12 }}`` would try to build a
terabyte. :class:`PromptSandbox` refuses repetitions and powers whose result would exceed
:data:`MAX_RENDERED`, and widths of that size in the filters that pad.

Variables keep the spelling of YAML scalars (:mod:`rdpipe.load.scalars`); the tests and
``tojson`` here treat those wrappers as the numbers, booleans and nulls they stand for.
"""

from __future__ import annotations

import json
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from rdpipe.load.scalars import WrittenBool, WrittenFloat, WrittenInt, WrittenNull
from rdpipe.templates.source import MAX_RENDERED

#: Bits a power may produce (a number of ~3,000 digits).
_MAX_POWER_BITS = 10_000


class PromptSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with ``*`` and ``**`` bounded so a template cannot exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        count, item = (right, left) if isinstance(right, int) else (left, right)
        if (
            operator == "*"
            and isinstance(count, int)
            and isinstance(item, str | list | tuple)
            and count * len(item) > MAX_RENDERED
        ):
            raise SecurityError(
                f"a repetition of {count:,} times is over the limit of {MAX_RENDERED:,} characters"
            )
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and right * abs(left).bit_length() > _MAX_POWER_BITS
        ):
            raise SecurityError("a power that large is over the limit")
        return super().call_binop(context, operator, left, right)


def make_environment() -> PromptSandbox:
    """The environment every template renders in: sandboxed, strict, no autoescape.

    Text outside tags is kept as written, trailing newline included, so a prompt ends the
    same way with or without templates.
    """
    environment = PromptSandbox(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    environment.policies["json.dumps_function"] = _dumps
    for name in ("center", "indent"):
        environment.filters[name] = _bounded(environment.filters[name])
    environment.tests.update(
        none=lambda value: value is None or isinstance(value, WrittenNull),
        boolean=lambda value: isinstance(value, bool | WrittenBool),
        true=lambda value: value is True or (isinstance(value, WrittenBool) and bool(value)),
        false=lambda value: value is False or (isinstance(value, WrittenBool) and not value),
        string=lambda value: isinstance(value, str) and not isinstance(value, WrittenNull),
    )
    return environment


def natural(value: Any) -> Any:
    """A variable's value with the as-written wrappers replaced by plain Python values."""
    if isinstance(value, WrittenNull):
        return None
    if isinstance(value, WrittenBool):
        return bool(value)
    if isinstance(value, WrittenInt):
        return int(value)
    if isinstance(value, WrittenFloat):
        return float(value)
    if isinstance(value, dict):
        return {key: natural(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [natural(item) for item in value]
    return value


def _dumps(value: Any, **options: Any) -> str:
    return json.dumps(natural(value), **options)


def _bounded(function: Any) -> Any:
    """A padding filter that refuses a width over :data:`MAX_RENDERED`."""

    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        width = args[0] if args else kwargs.get("width")
        if isinstance(width, int) and width > MAX_RENDERED:
            raise SecurityError(f"a width of {width:,} is over the limit of {MAX_RENDERED:,}")
        return function(value, *args, **kwargs)

    return bounded
