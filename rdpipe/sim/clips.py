"""Clip bytes as the server sends them: a file on disk or a synthetic stream, with ``Range``.

A synthetic clip is a stream whose byte at offset ``n`` is ``n % 251``, generated a block at
a time, so a 200 MB download is never held in memory and a client can check what it got
(:func:`synthetic_bytes`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

CHUNK = 64 * 1024
_PATTERN_PERIOD = 251
_PATTERN = bytes(range(_PATTERN_PERIOD)) * (CHUNK // _PATTERN_PERIOD + 2)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class ClipSource(Protocol):
    """Bytes of one finished clip: a size and an async stream of any slice."""

    @property
    def size(self) -> int: ...

    def read(self, start: int, stop: int) -> AsyncIterator[bytes]:
        """Yield the bytes ``[start, stop)`` in chunks."""
        ...


@dataclass(frozen=True)
class FileClip:
    """A rendered mp4 on disk."""

    path: Path

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    async def read(self, start: int, stop: int) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self.path, "rb") as file:
            await file.seek(start)
            left = stop - start
            while left > 0:
                chunk = await file.read(min(CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk


@dataclass(frozen=True)
class SyntheticClip:
    """``size`` bytes of the pattern :func:`synthetic_bytes` describes."""

    size: int

    async def read(self, start: int, stop: int) -> AsyncIterator[bytes]:
        offset = start
        while offset < stop:
            length = min(CHUNK, stop - offset)
            yield synthetic_bytes(offset, length)
            offset += length


def synthetic_bytes(offset: int, length: int) -> bytes:
    """The bytes ``[offset, offset + length)`` of every synthetic clip (``n % 251``)."""
    if length > CHUNK:
        return b"".join(synthetic_bytes(o, min(CHUNK, offset + length - o))
                        for o in range(offset, offset + length, CHUNK))  # fmt: skip
    phase = offset % _PATTERN_PERIOD
    return _PATTERN[phase : phase + length]


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``[start, stop)`` a single-range ``Range`` header asks for, or ``None`` for all.

    Raises ``ValueError`` when the range cannot be satisfied (RFC 9110 section 14.1.2).
    A header this parser does not understand (several ranges, other units) is ignored and the
    whole body is sent, which RFC 9110 allows.
    """
    if header is None:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.group(0) == "bytes=-":
        return None
    first, last = match.groups()
    if not first:
        suffix = int(last)
        if suffix == 0:
            raise ValueError("empty suffix range")
        return max(0, size - suffix), size
    start = int(first)
    stop = size if not last else min(int(last) + 1, size)
    if start >= size or stop <= start:
        raise ValueError("range starts past the end")
    return start, stop


class ClipResponse(Response):
    """A 200 or 206 response streaming a :class:`ClipSource`, or 416 for a bad range."""

    def __init__(
        self,
        clip: ClipSource,
        range_header: str | None,
        *,
        head: bool = False,
        content_type: str = "video/mp4",
    ):
        self.clip = clip
        self.head = head
        size = clip.size
        headers = {"accept-ranges": "bytes", "content-type": content_type}
        try:
            span = parse_range(range_header, size)
        except ValueError:
            headers["content-range"] = f"bytes */{size}"
            super().__init__(b"", status_code=416, headers=headers)
            self.span = (0, 0)
            return
        status = 200 if span is None else 206
        self.span = span or (0, size)
        if span is not None:
            headers["content-range"] = f"bytes {span[0]}-{span[1] - 1}/{size}"
        super().__init__(None, status_code=status, headers=headers)
        self.headers["content-length"] = str(self.span[1] - self.span[0])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})  # fmt: skip
        if not self.head and self.status_code != 416:
            async for chunk in self.clip.read(*self.span):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
