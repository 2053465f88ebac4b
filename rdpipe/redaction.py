"""Secrets out of text, before it is shown or kept.

Two levels, and no memory between calls:

- :func:`redact` removes what looks like a credential wherever it stands: the value after
  ``Bearer``, of an ``Authorization`` header, and anything shaped like an ``sk-`` key. Every
  :class:`rdpipe.errors.RdpipeError` applies it to its message as it is made.
- :class:`Redactor` also removes the secrets of one command: the API key as its environment
  holds it (:meth:`Redactor.from_environ`), also in the escaped spellings a ``repr()`` or JSON
  gives it, since h11 quotes a refused header value whole and a server may echo a key back.
  The CLI builds one per command and hands it to every place where text leaves the process:
  the console and its reporters, the journal, the manifest and the crash log. The client builds
  its own from the key it holds.

It sits below every layer (like :mod:`rdpipe.errors`), so the client and the state can use it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

#: The environment variable that holds the API key (read here and by :mod:`rdpipe.client`).
KEY_VARIABLE = "RELAYDANCE_API_KEY"
KEY_MARK = "[API key]"
_SHORTEST_SECRET = 6  # shorter values would blank out ordinary words
_KEY_SHAPE = re.compile(r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_\-]{4,}")
# "Bearer <key>" as h11 quotes it (b'Bearer sk-…\nX'); case-sensitive, as rdpipe sends it, so
# prose ("a bearer of news") stays. And any "Authorization: <value>" header line.
_CREDENTIAL = re.compile(r"\b(Bearer)(\s+)(?!\[)([^\s'\"]{6,})")
_HEADER = re.compile(r"(?i)\b(authorization)([\"']?\s*[:=]\s*[\"']?)(?!\[)([^\"'\r\n,}]+)")


def redact(text: str) -> str:
    """``text`` without credentials (``Bearer``, ``Authorization``) or ``sk-`` shaped keys."""
    for pattern in (_HEADER, _CREDENTIAL):
        text = pattern.sub(lambda found: f"{found[1]}{found[2]}[redacted]", text)
    return _KEY_SHAPE.sub("sk-[redacted]", text)


def redact_optional(text: str | None) -> str | None:
    """:func:`redact` for a message that may be absent."""
    return None if text is None else redact(text)


@dataclass(frozen=True)
class Redactor:
    """Removes one command's secrets, and every credential shape, from text leaving the process.

    ``secrets`` are the values as read (the API key); values shorter than six characters are
    not removed, since they would blank out ordinary words. The repr never shows them.
    """

    secrets: tuple[str, ...] = field(default=(), repr=False)
    _forms: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        forms = {form for value in self.secrets for form in _spellings(value)}
        # Longest first: one spelling may hold another.
        object.__setattr__(self, "_forms", tuple(sorted(forms, key=lambda f: (-len(f), f))))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Redactor:
        """The redactor of a command run with ``environ``: its ``RELAYDANCE_API_KEY``, if set."""
        key = environ.get(KEY_VARIABLE, "")
        return cls((key,) if key else ())

    def redact(self, text: str) -> str:
        """``text`` with each secret, in any spelling, as ``[API key]``, then :func:`redact`."""
        for form in self._forms:
            text = text.replace(form, KEY_MARK)
        return redact(text)

    def redact_optional(self, text: str | None) -> str | None:
        """:meth:`redact` for a message that may be absent."""
        return None if text is None else self.redact(text)


#: A redactor that knows no secret: it removes credential shapes only, as :func:`redact` does.
NO_SECRETS = Redactor()


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
