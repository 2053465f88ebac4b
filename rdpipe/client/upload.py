"""Putting a file's bytes on a presigned URL, and asking whether a hosted file is still there.

Both go through the storage pool, never with the key, whatever the URL's origin (issue 14: a
presigned URL is its own credential, and a storage refuses a request that carries another).
The ``PUT`` streams its source in chunks of :data:`CHUNK_SIZE` read (and hashed) in a worker
thread, so memory stays flat whatever the size, and announces the length (S3 refuses a chunked
upload). Before the last chunk leaves, the bytes read are compared with the ones checked (size,
and md5 when the source has one): a file that changed meanwhile breaks the request off, so the
storage never gets a complete body (a presigned ``PUT`` checks no md5 of its own). The ``PUT``
is retried from the start on a connection failure, a 408, a 429 or a 5xx (``Retry-After``
honoured): the same bytes to the same key, so a second ``PUT`` does no harm. Any other 4xx is
final (:class:`UploadFailed`, with the storage's code and message), and so is a storage that
cannot be reached or stays busy once the retries run out. No message shows a URL's query string.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import BinaryIO, NoReturn

import anyio
import anyio.to_thread

from rdpipe.client.errors import (
    ApiError,
    NotSent,
    RateLimited,
    RelayDanceError,
    RequestNotBuilt,
    ServerError,
    UploadFailed,
    UploadSourceChanged,
)
from rdpipe.client.http import Answer, HttpSession, url_label, without_queries
from rdpipe.client.media import UploadSlot, UploadSource, storage_error
from rdpipe.client.refusals import error_for_answer
from rdpipe.client.retry import Retrier, parse_retry_after, should_retry_read

CHUNK_SIZE = 1024 * 1024
"""Bytes read from the source and sent at a time."""
_GONE = frozenset({403, 404, 410})
_TRANSIENT = frozenset({408, 425, 429})
#: 4xx statuses of a ``PUT`` that say "later", not "no": retried like a 5xx.
_BUSY = frozenset({408, 429})

ProgressReport = Callable[[int], None]
"""Called with the bytes sent so far, as each chunk leaves (from 0 again on a retry)."""

logger = logging.getLogger("rdpipe.client")


class Uploader:
    """Sends files to presigned URLs and looks at hosted files, under the retry policy."""

    def __init__(
        self, session: HttpSession, retrier: Retrier, wall_clock: Callable[[], float]
    ) -> None:
        self._session = session
        self._retrier = retrier
        self._wall_clock = wall_clock

    async def put(
        self, slot: UploadSlot, source: UploadSource, on_progress: ProgressReport | None
    ) -> None:
        """``PUT`` ``source`` to ``slot.upload_url``.

        Raises :class:`UploadSourceChanged` when the file is not the one checked (another
        size or md5), :class:`UploadFailed` on a 4xx other than 408/429, when the file cannot
        be read, when the storage cannot be reached, or when it still answers 408/429 after
        the retries; :class:`ServerError` or :class:`NoAnswer` when the retries run out.
        """
        label = url_label(slot.upload_url)
        operation = f"the upload to {label}"
        headers = {"Content-Type": slot.content_type, "Content-Length": str(source.size)}

        async def attempt() -> None:
            chunks = _Chunks(source, label, on_progress)
            try:
                answer = await self._session.send_storage(
                    "PUT", slot.upload_url, operation=operation, headers=headers, content=chunks
                )
            finally:
                with anyio.CancelScope(shield=True):  # a cancelled upload still closes its file
                    await chunks.aclose()
            self._check(answer, label)

        host = label.split("/", 1)[0]
        try:
            await self._retrier.run(operation, host, attempt, retry_on=should_retry_read)
        except NotSent as error:  # the storage's, not RelayDance's: the run goes on
            built = not isinstance(error, RequestNotBuilt)
            doing = f"connect to {host}" if built else "build the request"
            raise UploadFailed(
                label,
                problem=f"rdpipe could not {doing} ({error.reason})",
                hint=(
                    "Check your network connection, then run again."
                    if built
                    else "The upload URL the media host gave cannot be sent; run again."
                ),
            ) from error
        except ApiError as error:
            if error.status not in _BUSY:
                raise
            raise UploadFailed(
                label, status=error.status, code=error.code, server_message=error.server_message
            ) from error

    async def exists(self, url: str) -> bool | None:
        """Whether the file at ``url`` is there: ``True`` on 2xx, ``False`` on 403/404/410,
        ``None`` when it cannot tell (no connection, 405, 5xx after retries).

        A ``HEAD`` first; on 403, a one-byte ``GET`` (a URL presigned for ``GET`` refuses a
        ``HEAD``, since the method is part of its signature).
        """
        label = url_label(url)
        try:
            status = await self._status("HEAD", url, label)
            if status == 403:
                status = await self._status("GET", url, label, {"Range": "bytes=0-0"})
        except RelayDanceError as error:
            logger.info("could not tell whether %s is still there: %s", label, error.message)
            return None
        if 200 <= status < 300 or status == 416:  # 416: an empty file has no byte 0
            return True
        return False if status in _GONE else None

    async def _status(
        self, method: str, url: str, label: str, headers: dict[str, str] | None = None
    ) -> int:
        operation = f"the look at {label}"

        async def attempt() -> int:
            answer = await self._session.send_storage(
                method, url, operation=operation, headers=headers, body_limit=0
            )
            if answer.status in _TRANSIENT or answer.status >= 500:
                raise error_for_answer(operation, answer.status, "")  # retried
            return answer.status

        host = label.split("/", 1)[0]
        return await self._retrier.run(operation, host, attempt, retry_on=should_retry_read)

    def _check(self, answer: Answer, label: str) -> None:
        if answer.status < 300:
            return
        code, message = storage_error(self._session.redactor.redact(answer.text))
        message = without_queries(message)
        status, operation = answer.status, answer.operation
        wait = parse_retry_after(answer.headers.get("retry-after"), self._wall_clock())
        if status == 429:  # retried, the storage host cooled down for everyone
            raise RateLimited(operation, status, code, message, retry_after=wait)
        if status in _BUSY or status >= 500:  # retried
            kind = ServerError if status >= 500 else ApiError
            raise kind(operation, status, code, message, retry_after=wait)
        raise UploadFailed(label, status=status, code=code, server_message=message)


class _Chunks:
    """The source's bytes as an async iterator of chunks, read and hashed in worker threads.

    Sends ``source.size`` bytes. Before the last chunk is handed over, the bytes are compared
    with the ones checked: a file that ended early, goes on past ``size``, or whose md5 is not
    ``source.md5`` raises :class:`UploadSourceChanged` inside the body, so the request is broken
    off before it is complete.
    """

    def __init__(self, source: UploadSource, label: str, on_progress: ProgressReport | None):
        self._source = source
        self._label = label
        self._on_progress = on_progress
        self._file: BinaryIO | None = None
        self._md5 = hashlib.md5(usedforsecurity=False)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        size = self._source.size
        sent = 0
        while True:
            count = min(CHUNK_SIZE, size - sent)
            chunk = await anyio.to_thread.run_sync(self._read, count, sent) if count else b""
            last = sent + len(chunk) >= size
            if last:
                await anyio.to_thread.run_sync(self._check_whole)
            if chunk:
                yield chunk
                sent += len(chunk)
                if self._on_progress is not None:
                    self._on_progress(sent)
            if last:
                return

    def _read(self, count: int, offset: int) -> bytes:
        """Up to ``count`` bytes from ``offset``, added to the running md5 (blocking)."""
        if self._source.data is not None:
            chunk = self._source.data[offset : offset + count]
        else:
            chunk = self._read_file(count)
        if not chunk:
            self._changed(f"it ended after {offset} of the {self._source.size} bytes checked")
        self._md5.update(chunk)
        return chunk

    def _check_whole(self) -> None:
        """Raise :class:`UploadSourceChanged` unless the bytes read are the ones checked:
        nothing past ``size``, and the md5 given (blocking)."""
        if self._source.path is not None and self._read_file(1):
            self._changed(f"it is now longer than the {self._source.size} bytes checked")
        expected = self._source.md5
        if expected is not None and self._md5.hexdigest() != expected:
            self._changed("its md5 is no longer the one checked")

    def _read_file(self, count: int) -> bytes:
        """The next ``count`` bytes of the file at most, opened on first use (blocking)."""
        path = self._source.path
        if path is None:
            return b""
        try:
            if self._file is None:
                self._file = path.open("rb")
            return self._file.read(count)
        except OSError as error:
            reason = error.strerror or str(error)
            problem = f"rdpipe could not read {self._source.name} ({reason})"
            raise UploadFailed(self._label, problem=problem) from error

    def _changed(self, change: str) -> NoReturn:
        raise UploadSourceChanged(self._label, self._source.name, change)

    async def aclose(self) -> None:
        if self._file is not None:
            await anyio.to_thread.run_sync(self._file.close)
