"""``rdpipe.toml``: the small settings file that names a team's shared clip store.

Only one table is known, ``[remote]``, with ``url`` (a string) and ``claim_timeout``: seconds a
claim lives without a heartbeat, a finite number from 5 s to 24 h. Runs beat each third of it,
and a crashed run's claim holds its shot (teammates' runs wait for it) until it runs out: below
5 s a beat would be due before a slow store has answered the last, and the machines' clocks
would have to agree closer than they commonly do; beyond a day (or ``inf``, ``nan``, ``1e308``,
which TOML accepts) a crash would stop a team's runs for longer than anyone waits.

Anything else is an error that names the file, the line and the setting, so a typo (``uri =``)
never silently leaves a team without its store. The URL is checked by
:func:`rdpipe.remote.urls.normalize_url`, which is handed the line found here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import RemoteConfigInvalid

if TYPE_CHECKING:
    import tomllib

CONFIG_FILE_NAME = "rdpipe.toml"
DEFAULT_CLAIM_TIMEOUT = 600.0  # seconds
CLAIM_TIMEOUT_RANGE = (5.0, 86_400.0)  # seconds: the bounds of claim_timeout (module docstring)
_KEYS = ("url", "claim_timeout")
_EXAMPLE = '[remote]\nurl = "s3://bucket/prefix"\nclaim_timeout = 600'
_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


@dataclass(frozen=True)
class ConfigFile:
    """What an ``rdpipe.toml`` sets: the store URL as written (``None``: not set) and its line
    (1-based, 0 when not found), and the claim timeout in seconds."""

    url: str | None
    url_line: int
    claim_timeout: float


def read_config_file(path: Path) -> ConfigFile:
    """Read and check ``path``; raises :class:`RemoteConfigInvalid` (exit code 2) naming the
    file, line and setting for unreadable text, bad TOML, an unknown setting or a wrong type."""
    text = _read_text(path)
    try:
        import tomllib  # here: most runs find no rdpipe.toml

        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(path, error) from error
    for key in document:
        if key != "remote":
            raise _unknown(path, text, key, None, "rdpipe.toml holds only a [remote] table:")
    table = document.get("remote", {})
    if not isinstance(table, dict):
        problem = f"must be a table, not {_type_name(table)}"
        raise RemoteConfigInvalid(str(path), _line_of(text, "remote"), "remote", problem, _EXAMPLE)
    for key in table:
        if key not in _KEYS:
            raise _unknown(path, text, key, "remote", "[remote] takes url and claim_timeout:")
    url = table.get("url")
    if url is not None and not isinstance(url, str):
        problem = f"must be a string, not {_type_name(url)}"
        hint = 'Quote the URL: url = "s3://bucket/prefix"'
        raise RemoteConfigInvalid(str(path), _field_line(text, "url"), "remote.url", problem, hint)
    timeout = _claim_timeout(path, text, table.get("claim_timeout", DEFAULT_CLAIM_TIMEOUT))
    return ConfigFile(url, _field_line(text, "url") if url is not None else 0, timeout)


def _claim_timeout(path: Path, text: str, value: object) -> float:
    """``value`` as seconds, if a number within :data:`CLAIM_TIMEOUT_RANGE` (bounds included;
    ``nan`` is within nothing)."""
    low, high = CLAIM_TIMEOUT_RANGE
    if isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high:
        return float(value)
    problem = f"must be a number of seconds from {low:.0f} to {high:.0f} (24 hours), not "
    problem += _show(value)
    hint = "For example: claim_timeout = 600 (ten minutes without a heartbeat)."
    line = _field_line(text, "claim_timeout")
    raise RemoteConfigInvalid(str(path), line, "remote.claim_timeout", problem, hint)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        problem = "is not UTF-8 text"
        raise RemoteConfigInvalid(str(path), 0, "", problem, "Save it as UTF-8.") from error
    except OSError as error:
        problem = f"cannot be read ({error.strerror or error})"
        hint = "Check the file's permissions, or remove it."
        raise RemoteConfigInvalid(str(path), 0, "", problem, hint) from error


def _syntax_error(path: Path, error: tomllib.TOMLDecodeError) -> RemoteConfigInvalid:
    message = str(error)
    position = _POSITION.search(message)
    line = int(position.group(1)) if position else 0
    problem = _POSITION.sub("", message)
    if position:
        problem += f" (column {position.group(2)})"
    hint = f"Fix the TOML syntax; the file should look like:\n{_EXAMPLE}"
    return RemoteConfigInvalid(str(path), line, "", f"not valid TOML: {problem}", hint)


def _unknown(path: Path, text: str, key: str, table: str | None, known: str) -> RemoteConfigInvalid:
    field = f"{table}.{key}" if table else key
    line = _field_line(text, key) if table else _line_of(text, key)
    import difflib

    close = difflib.get_close_matches(key, _KEYS if table else ("remote",), n=1)
    guess = f"Did you mean '{close[0]}'? " if close else ""
    return RemoteConfigInvalid(
        str(path), line, field, "unknown setting", f"{guess}{known}\n{_EXAMPLE}"
    )


def _field_line(text: str, key: str) -> int:
    """The line setting ``key`` of ``[remote]``: inside the table, dotted, or inline."""
    lines = text.splitlines()
    in_remote = False
    for number, line in enumerate(lines, start=1):
        header = re.match(r"\s*\[\s*([^\]]*?)\s*\]", line)
        if header:
            in_remote = header.group(1) == "remote"
        elif (in_remote and re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line)) or re.match(
            rf"\s*remote\s*\.\s*{re.escape(key)}\s*=", line
        ):
            return number
    return _line_of(text, "remote")


def _line_of(text: str, key: str) -> int:
    """The first line where top-level ``key`` is set or opened as a table (0: not found)."""
    pattern = re.compile(rf"\s*(\[\[?\s*)?[\"']?{re.escape(key)}[\"']?\s*[=.\]]")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return 0


def _type_name(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    from datetime import date, datetime, time

    names |= {list: "an array", dict: "a table", datetime: "a date-time"}
    names |= {date: "a date", time: "a time"}
    return names.get(type(value), type(value).__name__)


def _show(value: object) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return _type_name(value)
