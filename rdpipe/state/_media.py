"""Local media hosted for requests: where each file is hosted, which extensions a host refuses,
and the portraits registered in a host's asset library (issue 14).

The tables (schema version 4) belong to the folder, not to one pipeline: a file hosted for one
pipeline is not uploaded again for another that uses it. :class:`StateStore` takes these methods
from :class:`MediaRecords`; each write is one autocommitted statement, like the store's others.

What is kept: a hosted file's URL as the host gave it. For a shared clip store that URL is
presigned, a bearer credential for that one object until it expires, and ``url`` is the only
place such a URL is kept. Text that reads as a message (a host's refusal, an audit's reason) and
a portrait's ``source_url`` are stored without URL query strings and without anything shaped
like a key; the state's error messages name files by md5 and hosts without their query either.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any, Protocol

from rdpipe.redaction import Redactor

from ._records import HostedRecord, PortraitRecord
from ._redact import redact_url

UPSERT_HOSTED = """
INSERT INTO hosted_files (md5, ext, host, size, url, expires_at, recorded_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (md5, ext, host) DO UPDATE SET size = excluded.size, url = excluded.url,
    expires_at = excluded.expires_at, recorded_at = excluded.recorded_at
"""
HOSTED = """
SELECT md5, ext, size, url, host, expires_at, recorded_at FROM hosted_files
WHERE md5 = ? AND ext = ? AND host = ?
"""
FORGET_HOSTED = "DELETE FROM hosted_files WHERE md5 = ? AND ext = ? AND host = ?"

UPSERT_REFUSED = """
INSERT INTO refused_extensions (host, ext, message, recorded_at) VALUES (?, ?, ?, ?)
ON CONFLICT (host, ext) DO UPDATE SET message = excluded.message,
    recorded_at = excluded.recorded_at
"""
REFUSED = """
SELECT ext, message FROM refused_extensions WHERE host = ? AND recorded_at >= ? ORDER BY ext
"""

_PORTRAIT_COLUMNS = """
md5, host, asset_id, uri, status, reason, source_url, name, file, registered_at, updated_at
"""
UPSERT_PORTRAIT = f"""
INSERT INTO portraits ({_PORTRAIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (md5, host) DO UPDATE SET asset_id = excluded.asset_id, uri = excluded.uri,
    status = excluded.status, reason = excluded.reason, source_url = excluded.source_url,
    name = excluded.name, file = excluded.file, registered_at = excluded.registered_at,
    updated_at = excluded.updated_at
"""
PORTRAIT = f"SELECT {_PORTRAIT_COLUMNS} FROM portraits WHERE md5 = ? AND host = ?"
PORTRAITS = f"SELECT {_PORTRAIT_COLUMNS} FROM portraits ORDER BY registered_at DESC, rowid DESC"

# A URL in free text, its user info and its query string or fragment apart (RFC 3986 shapes).
_URL_IN_TEXT = re.compile(
    r"(?i)\b(?P<scheme>[a-z][a-z0-9+.\-]*://)(?:[^\s/?#@]*@)?(?P<rest>[^\s?#]*)(?P<query>[?#]\S*)?"
)


class _Store(Protocol):
    """What :class:`MediaRecords` uses of the :class:`~rdpipe.state.StateStore` it is part of."""

    _clock: Callable[[], float]
    _redactor: Redactor

    def _execute(self, what: str, sql: str, parameters: tuple[Any, ...]) -> sqlite3.Cursor: ...

    def _rows(self, sql: str, parameters: tuple[Any, ...]) -> list[sqlite3.Row]: ...


class MediaRecords:
    """The store's methods for hosted files, refused extensions and portraits; blocking.

    ``host`` is who hosts: the media host's ``host[:port]`` for relay uploads and portraits,
    or a shared clip store's URL. Writes raise :class:`~rdpipe.state.StateWriteFailed` (also
    on a store opened read-only).
    """

    def record_hosted(
        self: _Store,
        md5: str,
        ext: str,
        size: int,
        url: str,
        *,
        host: str,
        expires_at: float | None,
    ) -> None:
        """Note that the file ``md5``/``ext`` (``size`` bytes) is at ``url`` on ``host``,
        until ``expires_at`` (epoch seconds; ``None``: no known end). Replaces an earlier note
        for the same file and host."""
        if size < 0:
            raise ValueError(f"a file's size is a number of bytes from 0, got {size}")
        row = (md5, ext, host, size, url, expires_at, self._clock())
        what = f"where {md5}.{ext} is hosted on {_plain(self._redactor, host)}"
        self._execute(what, UPSERT_HOSTED, row)

    def hosted(self: _Store, md5: str, ext: str, host: str) -> HostedRecord | None:
        """Where the file ``md5``/``ext`` was hosted on ``host``, if it was (expired or not)."""
        rows = self._rows(HOSTED, (md5, ext, host))
        return HostedRecord(**rows[0]) if rows else None

    def forget_hosted(self: _Store, md5: str, ext: str, host: str) -> None:
        """Drop the note of ``md5``/``ext`` on ``host`` (the file is gone there); none: no-op."""
        what = f"that {md5}.{ext} is no longer hosted on {_plain(self._redactor, host)}"
        self._execute(what, FORGET_HOSTED, (md5, ext, host))

    def record_refused_extension(self: _Store, host: str, ext: str, message: str) -> None:
        """Note that ``host`` refuses files of extension ``ext`` (no dot), saying ``message``;
        kept without URL query strings or key-shaped text. Replaces an earlier note."""
        plain = _plain(self._redactor, host)
        row = (host, ext, _plain(self._redactor, message), self._clock())
        self._execute(f"that {plain} refuses .{ext} files", UPSERT_REFUSED, row)

    def refused_extensions(self: _Store, host: str, *, since: float = 0.0) -> dict[str, str]:
        """The extensions ``host`` refused at or after ``since`` (epoch seconds; default: ever),
        each with the host's message (as stored)."""
        return {row["ext"]: row["message"] for row in self._rows(REFUSED, (host, since))}

    def record_portrait(self: _Store, record: PortraitRecord) -> None:
        """Keep ``record`` as the portrait of its ``md5`` on its ``host``, replacing every field
        of an earlier one. Its ``reason`` and ``source_url`` are kept without URL query strings
        or key-shaped text."""
        reason = None if record.reason is None else _plain(self._redactor, record.reason)
        row = (
            record.md5,
            record.host,
            record.asset_id,
            record.uri,
            record.status,
            reason,
            redact_url(record.source_url),
            record.name,
            record.file,
            record.registered_at,
            record.updated_at,
        )
        self._execute(f"the portrait {record.name!r} ({record.md5})", UPSERT_PORTRAIT, row)

    def portrait(self: _Store, md5: str, host: str) -> PortraitRecord | None:
        """The portrait registered for the image ``md5`` on ``host``, if any."""
        rows = self._rows(PORTRAIT, (md5, host))
        return PortraitRecord(**rows[0]) if rows else None

    def portraits(self: _Store) -> list[PortraitRecord]:
        """Every portrait registered from this folder, on any host, newest registration first."""
        return [PortraitRecord(**row) for row in self._rows(PORTRAITS, ())]


def _plain(redactor: Redactor, text: str) -> str:
    """``text`` without the command's secrets, key shapes, or any URL's user info and query."""
    return redactor.redact(_URL_IN_TEXT.sub(_without_query, text))


def _without_query(found: re.Match[str]) -> str:
    query = "?<redacted>" if found["query"] else ""
    return f"{found['scheme']}{found['rest']}{query}"
