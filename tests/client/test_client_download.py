"""Downloads over a mock transport: no key to storage, resume, length check, expired links."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from rdpipe.client import DownloadIncomplete, RelayDanceClient, TaskNotFinished
from tests.client.mock_server import API_KEY, STORAGE, Script

pytestmark = pytest.mark.anyio

TASK = "task_" + "d" * 32
CLIP = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4 bytes: spans two chunks
OLD_URL = f"{STORAGE}/clips/{TASK}.mp4?sig=old"
NEW_URL = f"{STORAGE}/clips/{TASK}.mp4?sig=new"


class _Body(httpx.AsyncByteStream):
    """A body streamed as from a socket (httpx would preload ``content=``), optionally cut."""

    def __init__(self, data: bytes, *, cut: bool = False) -> None:
        self._data = data
        self._cut = cut

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._data
        if self._cut:
            raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def _streamed(status: int, data: bytes, **headers: str) -> httpx.Response:
    headers.setdefault("Content-Length", str(len(data)))
    return httpx.Response(status, headers=headers, stream=_Body(data))


def _ranged(request: httpx.Request) -> httpx.Response:
    """Answer like a storage host that honours Range."""
    header = request.headers.get("range")
    if header is None:
        return _streamed(200, CLIP, ETag='"v1"')
    start = int(header.removeprefix("bytes=").rstrip("-"))
    end = len(CLIP) - 1
    return _streamed(206, CLIP[start:], **{"Content-Range": f"bytes {start}-{end}/{len(CLIP)}"})


def _cut_after(size: int) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"Content-Length": str(len(CLIP)), "ETag": '"v1"'},
        stream=_Body(CLIP[:size], cut=True),
    )


def _storage_requests(script: Script) -> list[httpx.Request]:
    return [r for r in script.requests if r.url.host == "storage.cdn.test"]


async def test_download_writes_file_hash_and_size(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """A download lands at dest with the right bytes, size and SHA-256, and leaves no .part."""
    script.add("GET", f"/clips/{TASK}.mp4", _ranged)
    seen: list[tuple[int, int | None]] = []
    dest = tmp_path / "shots" / "s1.mp4"
    clip = await client.download(
        TASK, dest, video_url=OLD_URL, on_progress=lambda done, total: seen.append((done, total))
    )
    assert dest.read_bytes() == CLIP
    assert (clip.path, clip.size, clip.sha256) == (
        dest,
        len(CLIP),
        hashlib.sha256(CLIP).hexdigest(),
    )
    assert seen[-1] == (len(CLIP), len(CLIP))
    assert list(dest.parent.iterdir()) == [dest]


async def test_storage_never_gets_the_key(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """The storage host receives no Authorization header and no trace of the key."""
    script.add("GET", f"/clips/{TASK}.mp4", _ranged)
    await client.download(TASK, tmp_path / "c.mp4", video_url=OLD_URL)
    (request,) = _storage_requests(script)
    assert "authorization" not in request.headers
    assert API_KEY not in str(request.headers) + str(request.url)


async def test_resume_after_cut_uses_range(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """A body cut short is resumed with Range and If-Range; the file and hash are whole."""
    script.add("GET", f"/clips/{TASK}.mp4", _cut_after(300_000), _ranged)
    clip = await client.download(TASK, tmp_path / "c.mp4", video_url=OLD_URL)
    assert clip.sha256 == hashlib.sha256(CLIP).hexdigest()
    second = _storage_requests(script)[1]
    assert (second.headers["range"], second.headers["if-range"]) == ("bytes=300000-", '"v1"')


async def test_range_ignored_restarts_cleanly(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """When the server answers a Range request with the whole body (200), the file starts over."""
    whole = _streamed(200, CLIP)
    script.add("GET", f"/clips/{TASK}.mp4", _cut_after(500_000), whole)
    clip = await client.download(TASK, tmp_path / "c.mp4", video_url=OLD_URL)
    assert (clip.size, (tmp_path / "c.mp4").read_bytes() == CLIP) == (len(CLIP), True)


async def test_short_body_is_incomplete(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """A body shorter than its Content-Length fails as DownloadIncomplete and leaves no file."""

    def short(request: httpx.Request) -> httpx.Response:
        return _streamed(200, CLIP[:10], **{"Content-Length": str(len(CLIP))})

    script.add("GET", f"/clips/{TASK}.mp4", short)
    with pytest.raises(DownloadIncomplete, match=f"ended at 10 of {len(CLIP)} bytes"):
        await client.download(TASK, tmp_path / "c.mp4", video_url=OLD_URL)
    assert list(tmp_path.iterdir()) == []


async def test_expired_url_refreshes_then_streams_content(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """Storage 403 leads to one fresh task read, then to /content through the API with the key."""
    script.add(
        "GET", f"/clips/{TASK}.mp4", httpx.Response(403, text="AccessDenied: Request has expired")
    )
    script.json(
        "GET",
        f"/v1/video/generations/{TASK}",
        200,
        {"code": "success", "data": {"status": "SUCCESS", "result_url": NEW_URL}},
    )
    script.add("GET", f"/v1/videos/{TASK}/content", _ranged)
    clip = await client.download(TASK, tmp_path / "c.mp4", video_url=OLD_URL)
    assert clip.sha256 == hashlib.sha256(CLIP).hexdigest()
    trail = [
        (r.url.host, r.url.path, r.url.params.get("sig"), "authorization" in r.headers)
        for r in script.requests
    ]
    assert trail == [
        ("storage.cdn.test", f"/clips/{TASK}.mp4", "old", False),
        ("api.relay.test", f"/v1/video/generations/{TASK}", None, True),
        ("storage.cdn.test", f"/clips/{TASK}.mp4", "new", False),
        ("api.relay.test", f"/v1/videos/{TASK}/content", None, True),
    ]


async def test_expired_url_fresh_link_works(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """When the fresh link from the task works, /content is not needed."""

    def storage(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("sig") == "old":
            return httpx.Response(404, text="NoSuchKey")
        return _ranged(request)

    script.add("GET", f"/clips/{TASK}.mp4", storage)
    script.json(
        "GET",
        f"/v1/video/generations/{TASK}",
        200,
        {"code": "success", "data": {"status": "SUCCESS", "result_url": NEW_URL}},
    )
    await client.download(TASK, tmp_path / "c.mp4", video_url=OLD_URL)
    assert script.count("GET", f"/v1/videos/{TASK}/content") == 0


async def test_download_of_unfinished_task(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """Asking to download a task that is still running says so, without touching storage."""
    script.json(
        "GET",
        f"/v1/video/generations/{TASK}",
        200,
        {"code": "success", "data": {"status": "IN_PROGRESS"}},
    )
    with pytest.raises(TaskNotFinished, match="it is running"):
        await client.download(TASK, tmp_path / "c.mp4")


async def test_download_says_what_arrived(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """The client keeps any 200 body; the clip records its stated type and where it came from."""
    body = b'{"error": "gone"}'
    script.add("GET", f"/clips/{TASK}.mp4", _streamed(200, body, **{"Content-Type": "text/json"}))
    clip = await client.download(TASK, tmp_path / "c.mp4", video_url=OLD_URL)
    assert (clip.size, clip.content_type, clip.source) == (
        len(body),
        "text/json",
        f"storage.cdn.test/clips/{TASK}.mp4",
    )


async def test_body_cut_on_every_attempt_counts_all_that_arrived(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """A body cut on every attempt fails as DownloadIncomplete counting the bytes of them all."""

    def stingy(request: httpx.Request) -> httpx.Response:
        start = int(request.headers.get("range", "bytes=0-").removeprefix("bytes=").rstrip("-"))
        headers = {"Content-Type": "video/mp4", "Content-Length": str(len(CLIP) - start)}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(CLIP) - 1}/{len(CLIP)}"
        return httpx.Response(
            206 if start else 200, headers=headers, stream=_Body(CLIP[start:][:100_000], cut=True)
        )

    script.add("GET", f"/clips/{TASK}.mp4", stingy)
    with pytest.raises(DownloadIncomplete) as caught:
        await client.download(TASK, tmp_path / "c.mp4", video_url=OLD_URL)
    assert caught.value.message == (
        f"the download from storage.cdn.test/clips/{TASK}.mp4 ended at 400000 of {len(CLIP)} "
        "bytes of video/mp4."
    )
    assert len(_storage_requests(script)) == 4
    assert list(tmp_path.iterdir()) == []
