"""``--set name=value``: variables given on the command line, read as the file reads a scalar."""

from __future__ import annotations

from typing import Any

from rdpipe.errors import UsageError
from rdpipe.load.scalars import read_plain


def parse_set_options(options: list[str]) -> dict[str, Any]:
    """Parse ``--set key=value`` options; a value reads as a plain YAML scalar, as written.

    ``--set code=0755`` renders as ``0755`` and ``--set night=false`` is false in a template
    test, exactly as the same value written under ``vars:`` (see :mod:`rdpipe.load.scalars`).
    """
    result: dict[str, Any] = {}
    for option in options:
        name, sep, raw = option.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UsageError(
                f"--set {option!r} is not of the form name=value",
                hint="For example: --set keeper='an old sailor'",
            )
        result[name] = read_plain(raw)
    return result
