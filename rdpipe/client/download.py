"""Streaming a finished clip to disk: chunked, length-checked, hashed, resumable.

Bytes go to ``dest`` in chunks, so memory stays flat whatever the size; the SHA-256 is computed
on the way. When a connection drops mid-body, the next attempt asks for the rest with ``Range``
and keeps what it has if the server answers 206 (and starts over on 200). The length announced
by ``Content-Length`` or ``Content-Range`` must match what arrived. A download that fails is
removed. ``dest`` is the caller's temporary file, named by the clip store, which fsyncs it and
moves it into its place atomically (:meth:`rdpipe.state.ClipStore.adopt`): the client names no
file of its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread

from rdpipe.client.errors import DownloadIncomplete, LinkExpired, NoAnswer
from rdpipe.client.http import BodyStream, HttpSession, url_label
from rdpipe.client.refusals import error_for_answer
from rdpipe.client.retry import Retrier, parse_retry_after, should_retry_download
from rdpipe.files import writing_to

ProgressCallback = Callable[[int, int | None], None]
"""Called with (bytes on disk, total bytes or None) after every chunk."""

CHUNK_SIZE = 1024 * 1024
"""Bytes gathered in memory before one write to disk."""
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_EXPIRED_STATUSES = frozenset({403, 404, 410})


@dataclass(frozen=True)
class DownloadedClip:
    """A clip downloaded whole: the file it is in, how many bytes, and their SHA-256 (hex).

    ``content_type`` is what the server said it sent and ``source`` the host and path it came
    from: the bytes decide whether it is a video, these say what arrived when it is not.
    """

    path: Path
    size: int
    sha256: str
    content_type: str | None = None
    source: str = ""


class _PartFile:
    """The file being filled (``dest``), and the running hash of what it holds."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.size = 0
        self.validator: str | None = None  # ETag or Last-Modified, for If-Range
        self.content_type: str | None = None
        self.source = ""
        self.expected: int | None = None  # the whole body's announced size, once known
        self._hash = hashlib.sha256()
        self._file: BinaryIO | None = None

    def open(self) -> None:
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.dest.open("wb")

    def restart(self) -> None:
        """Throw away what was received: the server is sending the whole body again."""
        assert self._file is not None
        self._file.seek(0)
        self._file.truncate()
        self.size = 0
        self._hash = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        """Append ``chunk`` and hash it (run in a worker thread; both block)."""
        assert self._file is not None
        with writing_to(self.dest):  # a full disk names no file: say which clip
            self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def commit(self) -> DownloadedClip:
        """Close the file, its bytes all written (the clip store fsyncs it as it adopts it)."""
        assert self._file is not None
        with writing_to(self.dest):
            self._file.close()
        digest = self._hash.hexdigest()
        return DownloadedClip(self.dest, self.size, digest, self.content_type, self.source)

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
        self.dest.unlink(missing_ok=True)


class Downloader:
    """Fetches one URL into one file under the client's retry policy."""

    def __init__(
        self, session: HttpSession, retrier: Retrier, wall_clock: Callable[[], float]
    ) -> None:
        self._session = session
        self._retrier = retrier
        self._wall_clock = wall_clock

    async def fetch(
        self,
        url: str,
        dest: Path,
        *,
        on_progress: ProgressCallback | None = None,
        task_id: str | None = None,
    ) -> DownloadedClip:
        """Download ``url`` to ``dest``; raises :class:`LinkExpired` if storage refuses it.

        ``dest`` is removed when the download fails or is cancelled.
        """
        part = _PartFile(dest)
        try:
            await anyio.to_thread.run_sync(part.open)
            await self._attempts(url, part, on_progress, task_id)
            return await anyio.to_thread.run_sync(part.commit)
        except BaseException:
            # Shielded: a cancelled download (Ctrl-C) must still close and remove its file.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(part.discard)
            raise

    async def _attempts(
        self,
        url: str,
        part: _PartFile,
        on_progress: ProgressCallback | None,
        task_id: str | None,
    ) -> None:
        """Fetch under the retry policy; a body still short at the end says how short."""
        operation = f"the download of {url_label(url)}"
        host = url_label(url).split("/", 1)[0] or self._session.api_host
        attempt = lambda: self._attempt(url, part, operation, on_progress, task_id)  # noqa: E731
        try:
            await self._retrier.run(operation, host, attempt, retry_on=should_retry_download)
        except (NoAnswer, DownloadIncomplete) as error:
            if part.expected is None:  # no body ever started: nothing to count
                raise
            raise DownloadIncomplete(
                part.source, part.expected, part.size, part.content_type
            ) from error

    async def _attempt(
        self,
        url: str,
        part: _PartFile,
        operation: str,
        on_progress: ProgressCallback | None,
        task_id: str | None,
    ) -> None:
        async with self._session.stream(
            url, operation=operation, headers=_resume_headers(part)
        ) as answer:
            await self._check_status(url, answer, part, task_id)
            total = part.expected = await _expected_total(answer, part)
            part.content_type = answer.headers.get("content-type") or part.content_type
            label = url_label(url)
            part.source = self._session.api_host + label if label.startswith("/") else label
            pending = bytearray()
            try:
                async for chunk in answer.chunks():
                    pending += chunk
                    if len(pending) >= CHUNK_SIZE:
                        await _write(part, pending, total, on_progress)
            finally:  # what arrived before a cut is good: keep it for the resume
                await _write(part, pending, total, on_progress)
            if total is not None and part.size != total:
                raise DownloadIncomplete(url_label(url), total, part.size, part.content_type)

    async def _check_status(
        self, url: str, answer: BodyStream, part: _PartFile, task_id: str | None
    ) -> None:
        if answer.status < 400:
            return
        if answer.status == 416:  # our Range no longer fits the object: start again
            await anyio.to_thread.run_sync(part.restart)
            raise NoAnswer(answer.operation, "the server refused the resume range")
        if answer.status in _EXPIRED_STATUSES and not self._session.is_api_url(url):
            raise LinkExpired(url_label(url), answer.status)
        retry_after = parse_retry_after(answer.headers.get("retry-after"), self._wall_clock())
        text = await answer.error_text()
        raise error_for_answer(
            answer.operation, answer.status, text, retry_after=retry_after, task_id=task_id
        )


async def _write(
    part: _PartFile, pending: bytearray, total: int | None, on_progress: ProgressCallback | None
) -> None:
    """Move the ``pending`` bytes to the part file, then report progress."""
    if not pending:
        return
    await anyio.to_thread.run_sync(part.write, bytes(pending))
    pending.clear()
    if on_progress is not None:
        on_progress(part.size, total)


def _resume_headers(part: _PartFile) -> dict[str, str]:
    # Identity encoding: lengths and ranges then count the bytes that land on disk.
    headers = {"Accept-Encoding": "identity"}
    if part.size == 0:
        return headers
    headers["Range"] = f"bytes={part.size}-"
    if part.validator:
        headers["If-Range"] = part.validator
    return headers


async def _expected_total(answer: BodyStream, part: _PartFile) -> int | None:
    """Return the full size the body should reach, restarting the part if Range was ignored."""
    if answer.status == 206:
        match = _CONTENT_RANGE.fullmatch(answer.headers.get("content-range", "").strip())
        if match and int(match.group(1)) == part.size:
            return None if match.group(3) == "*" else int(match.group(3))
        await anyio.to_thread.run_sync(part.restart)
        raise NoAnswer(answer.operation, "the server sent another byte range than asked for")
    if part.size:
        await anyio.to_thread.run_sync(part.restart)
    part.validator = answer.headers.get("etag") or answer.headers.get("last-modified")
    length = answer.headers.get("content-length", "")
    return int(length) if length.isdigit() else None
