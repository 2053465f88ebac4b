"""Secrets out of text: the one function every message passes through before it is shown or kept.

The journal, the manifest, the console and the crash log all call :func:`redact`, so a secret
that slips into an exception message (h11 quotes a refused header value whole, a server may echo
a key back) never reaches a screen or a file. It removes, in this order:

- every secret the process was told about with :func:`remember_secret` (the API key, as read),
  also in the escaped spellings a ``repr()`` or JSON gives it;
- the value after ``Bearer``, and of an ``Authorization`` header, however it was quoted;
- anything shaped like an ``sk-`` key.

It sits below every layer (like :mod:`rdpipe.errors`), so the client and the state can use it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable

KEY_MARK = "[API key]"
_SHORTEST_SECRET = 6  # shorter values would blank out ordinary words
_KEY_SHAPE = re.compile(r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_\-]{4,}")
# "Bearer <key>" as h11 quotes it (b'Bearer sk-…\nX'); case-sensitive, as rdpipe sends it, so
# prose ("a bearer of news") stays. And any "Authorization: <value>" header line.
_CREDENTIAL = re.compile(r"\b(Bearer)(\s+)(?!\[)([^\s'\"]{6,})")
_HEADER = re.compile(r"(?i)\b(authorization)([\"']?\s*[:=]\s*[\"']?)(?!\[)([^\"'\r\n,}]+)")

_lock = threading.Lock()
_remembered: set[str] = set()


def remember_secret(value: str) -> None:
    """Make :func:`redact` remove ``value`` (and its escaped spellings) from now on."""
    forms = _spellings(value)
    with _lock:
        _remembered.update(forms)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without any remembered secret, ``secrets``, credential or ``sk-`` shaped key."""
    with _lock:
        known = set(_remembered)
    for value in secrets:
        known.update(_spellings(value))
    for form in sorted(known, key=len, reverse=True):  # longest first: a form may hold another
        text = text.replace(form, KEY_MARK)
    for pattern in (_HEADER, _CREDENTIAL):
        text = pattern.sub(lambda found: f"{found[1]}{found[2]}[redacted]", text)
    return _KEY_SHAPE.sub("sk-[redacted]", text)


def redact_optional(text: str | None) -> str | None:
    """:func:`redact` for a message that may be absent."""
    return None if text is None else redact(text)


def _spellings(value: str) -> set[str]:
    """``value`` as written, as ``repr()`` of its text or bytes shows it, and as JSON escapes it."""
    value = value.strip()
    if len(value) < _SHORTEST_SECRET:
        return set()
    forms = {
        value,
        value.encode("unicode_escape").decode("ascii"),
        str(value.encode("utf-8", "surrogateescape"))[2:-1],
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }
    return {form for form in forms if len(form) >= _SHORTEST_SECRET}
