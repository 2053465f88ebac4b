"""Putting a file's bytes on a presigned URL, and asking whether a hosted file is still there.

Both go through the storage pool, never with the key, whatever the URL's origin (issue 14: a
presigned URL is its own credential, and a storage refuses a request that carries another).
The ``PUT`` streams its source in chunks of :data:`CHUNK_SIZE` read in a worker thread, so
memory stays flat whatever the size, and announces the length (S3 refuses a chunked upload).
It is retried from the start on a connection failure or a 5xx: the same bytes to the same
key, so a second ``PUT`` does no harm. A 4xx is final (:class:`UploadFailed`, with the
storage's code and message). No message shows a URL's query string.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import anyio

from rdpipe.client.errors import RelayDanceError, ServerError, UploadFailed
from rdpipe.client.http import Answer, HttpSession, url_label, without_queries
from rdpipe.client.media import UploadSlot, UploadSource, storage_error
from rdpipe.client.refusals import error_for_answer
from rdpipe.client.retry import Retrier, should_retry_read

CHUNK_SIZE = 1024 * 1024
"""Bytes read from the source and sent at a time."""
_GONE = frozenset({403, 404, 410})
_TRANSIENT = frozenset({408, 425, 429})

ProgressReport = Callable[[int], None]
"""Called with the bytes sent so far, as each chunk leaves (from 0 again on a retry)."""

logger = logging.getLogger("rdpipe.client")


class Uploader:
    """Sends files to presigned URLs and looks at hosted files, under the retry policy."""

    def __init__(self, session: HttpSession, retrier: Retrier) -> None:
        self._session = session
        self._retrier = retrier

    async def put(
        self, slot: UploadSlot, source: UploadSource, on_progress: ProgressReport | None
    ) -> None:
        """``PUT`` ``source`` to ``slot.upload_url``; raises :class:`UploadFailed` on a 4xx,
        or when the file cannot be read whole (it changed since it was measured)."""
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
        await self._retrier.run(operation, host, attempt, retry_on=should_retry_read)

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
        if answer.status >= 500:
            raise ServerError(answer.operation, answer.status, code, message)  # retried
        raise UploadFailed(label, status=answer.status, code=code, server_message=message)


class _Chunks:
    """The source's bytes as an async iterator of chunks, its file read in worker threads.

    Sends ``source.size`` bytes and stops there; a file that shrank since it was measured is
    an :class:`UploadFailed` (one that changed otherwise, the storage's md5 check refuses).
    """

    def __init__(self, source: UploadSource, label: str, on_progress: ProgressReport | None):
        self._source = source
        self._label = label
        self._on_progress = on_progress
        self._file: anyio.AsyncFile[bytes] | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        sent = 0
        while sent < self._source.size:
            chunk = await self._read(min(CHUNK_SIZE, self._source.size - sent), sent)
            yield chunk
            sent += len(chunk)
            if self._on_progress is not None:
                self._on_progress(sent)

    async def _read(self, count: int, offset: int) -> bytes:
        path = self._source.path
        if path is None:
            return (self._source.data or b"")[offset : offset + count]
        try:
            if self._file is None:
                self._file = await anyio.open_file(path, "rb")
            chunk = await self._file.read(count)
        except OSError as error:
            reason = error.strerror or str(error)
            problem = f"rdpipe could not read {path} ({reason})"
            raise UploadFailed(self._label, problem=problem) from error
        if not chunk:
            raise UploadFailed(
                self._label,
                problem=(
                    f"{path} changed while it was being sent: it ended after {offset} of the "
                    f"{self._source.size} bytes rdpipe had measured"
                ),
            )
        return chunk

    async def aclose(self) -> None:
        if self._file is not None:
            await self._file.aclose()
