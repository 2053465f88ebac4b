"""A file that changes between its check and its PUT is never stored whole (issue 14).

A presigned ``PUT`` checks no md5 (only the simulator does): the uploader compares the bytes it
reads with the size and md5 they were checked with, and breaks the request off before its last
byte when they differ. Over a mock transport and over a real socket that counts what arrives.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx
import pytest
from anyio.abc import SocketAttribute, SocketStream

from rdpipe.client import (
    ApiKey,
    ClientConfig,
    RecordingClock,
    RelayDanceClient,
    UploadFailed,
    UploadSlot,
    UploadSource,
    UploadSourceChanged,
)
from tests.client.mock_server import API_KEY, BASE_URL, STORAGE, Script

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024
ORIGINAL = bytes(range(256)) * (5 * MiB // 2 // 256)  # 2.5 MiB: three chunks
MD5 = hashlib.md5(ORIGINAL).hexdigest()
HINT = "The upload was broken off before its end, so nothing was stored."


def _changed(data: bytes, at: int) -> bytes:
    """``data`` with the byte at ``at`` flipped: same size, another md5."""
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def _slot(url: str) -> UploadSlot:
    return UploadSlot(False, url, f"{STORAGE}/media/{MD5}.mp4", "video/mp4")


def _message(shown: str, change: str) -> str:
    return f"{shown} changed while rdpipe was sending it ({change}); rerun to check it again."


# Over a mock transport ---------------------------------------------------------------------


async def test_a_file_changed_since_its_check_is_not_sent(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock, tmp_path: Path
) -> None:
    """Same size, other bytes: UploadSourceChanged naming the file as written, no complete
    request (a storage that checks nothing would have stored it), not retried."""
    path = tmp_path / "walk.mp4"
    path.write_bytes(_changed(ORIGINAL, 2 * MiB + 10))
    script.add("PUT", f"/uploads/{MD5}.mp4", httpx.Response(200))
    source = UploadSource(path=path, size=len(ORIGINAL), md5=MD5, shown="refs/walk.mp4")
    with pytest.raises(UploadSourceChanged) as caught:
        await client.upload(_slot(f"{STORAGE}/uploads/{MD5}.mp4?sig=1"), source)
    assert str(caught.value) == (
        _message("refs/walk.mp4", "its md5 is no longer the one checked") + f"\n{HINT}"
    )
    assert isinstance(caught.value, UploadFailed)  # callers catching UploadFailed still do
    assert caught.value.url_label == f"storage.cdn.test/uploads/{MD5}.mp4"
    assert script.requests == [] and fake_time.waits == []


async def test_the_unchanged_file_goes_whole(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """The file as checked is sent whole, its md5 matching: the check costs no request."""
    path = tmp_path / "walk.mp4"
    path.write_bytes(ORIGINAL)
    script.add("PUT", f"/uploads/{MD5}.mp4", httpx.Response(200))
    seen: list[int] = []
    source = UploadSource(path=path, size=len(ORIGINAL), md5=MD5, shown="refs/walk.mp4")
    await client.upload(
        _slot(f"{STORAGE}/uploads/{MD5}.mp4?sig=1"), source, on_progress=seen.append
    )
    (put,) = script.requests
    assert put.content == ORIGINAL
    assert seen == [MiB, 2 * MiB, len(ORIGINAL)]


async def test_a_file_that_grew_is_not_sent(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """Bytes past the checked size are a change too, even when the first ones are intact;
    without ``shown`` the message names the file."""
    path = tmp_path / "walk.mp4"
    path.write_bytes(ORIGINAL + b"more")
    script.add("PUT", f"/uploads/{MD5}.mp4", httpx.Response(200))
    source = UploadSource(path=path, size=len(ORIGINAL), md5=MD5)
    with pytest.raises(UploadSourceChanged) as caught:
        await client.upload(_slot(f"{STORAGE}/uploads/{MD5}.mp4?sig=1"), source)
    change = f"it is now longer than the {len(ORIGINAL)} bytes checked"
    assert caught.value.message == _message("walk.mp4", change)
    assert script.requests == []


@pytest.mark.parametrize("size", [0, 5])
async def test_bytes_in_memory_are_checked_too(
    client: RelayDanceClient, script: Script, size: int
) -> None:
    """Bytes in memory whose md5 is not the one given (a caller's mix-up) are not sent; an
    empty file is checked as well."""
    data = b"x" * size
    script.add("PUT", f"/uploads/{MD5}.mp4", httpx.Response(200))
    source = UploadSource(data=data, size=size, md5=MD5, shown="refs/a.png")
    with pytest.raises(UploadSourceChanged, match="its md5 is no longer the one checked"):
        await client.upload(_slot(f"{STORAGE}/uploads/{MD5}.mp4?sig=1"), source)
    assert script.requests == []
    right = UploadSource(data=data, size=size, md5=hashlib.md5(data).hexdigest())
    await client.upload(_slot(f"{STORAGE}/uploads/{MD5}.mp4?sig=1"), right)
    assert len(script.requests) == 1


def test_an_upload_source_checks_its_md5() -> None:
    """An md5 that is not 32 lower-case hex digits is a caller's bug."""
    with pytest.raises(ValueError, match="md5"):
        UploadSource(data=b"x", size=1, md5=MD5.upper())


# Over a real socket ------------------------------------------------------------------------


@dataclass
class CountingStorage:
    """A storage that takes any ``PUT`` (no md5 check, as a presigned S3 ``PUT``) and records
    how many body bytes arrived on each connection, and whether it answered."""

    port: int = 0
    received: list[int] = field(default_factory=list)
    answered: list[bool] = field(default_factory=list)
    done: anyio.Event = field(default_factory=anyio.Event)

    async def handle(self, stream: SocketStream) -> None:
        received, answered = 0, False
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                head += await stream.receive()
            head, _, body = head.partition(b"\r\n\r\n")
            found = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
            length = int(found.group(1)) if found else 0
            received = len(body)
            while received < length:
                received += len(await stream.receive())
            await stream.send(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            answered = True
        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
            pass  # the client broke the request off
        finally:
            self.received.append(received)
            self.answered.append(answered)
            self.done.set()
            await stream.aclose()


@pytest.fixture
async def storage() -> AsyncIterator[CountingStorage]:
    found = CountingStorage()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    found.port = listener.extra(SocketAttribute.local_port)
    async with anyio.create_task_group() as group:
        group.start_soon(listener.serve, found.handle)
        yield found
        group.cancel_scope.cancel()
    await listener.aclose()


async def test_a_file_changed_during_its_put_never_reaches_the_storage_whole(
    storage: CountingStorage, tmp_path: Path
) -> None:
    """The file changes after its first chunk has left: the request is broken off before
    its last byte, so a storage that checks nothing never gets a complete body."""
    path = tmp_path / "walk.mp4"
    path.write_bytes(ORIGINAL)

    def change_after_first_chunk(sent: int) -> None:
        if sent == MiB:
            path.write_bytes(_changed(ORIGINAL, 2 * MiB + 10))

    clock = RecordingClock()
    config = ClientConfig(ApiKey(API_KEY), BASE_URL)
    url = f"http://127.0.0.1:{storage.port}/uploads/{MD5}.mp4?expires=1&signature=ab"
    source = UploadSource(path=path, size=len(ORIGINAL), md5=MD5, shown="refs/walk.mp4")
    async with RelayDanceClient(
        config, sleep=clock.sleep, clock=clock.clock, random=random.Random(1)
    ) as client:
        with pytest.raises(UploadSourceChanged):
            await client.upload(_slot(url), source, on_progress=change_after_first_chunk)
    with anyio.fail_after(5):
        await storage.done.wait()
    assert storage.answered == [False]
    (received,) = storage.received
    assert received <= 2 * MiB < len(ORIGINAL)  # the last chunk never left
    assert clock.waits == []  # not retried: the file must be checked again first
