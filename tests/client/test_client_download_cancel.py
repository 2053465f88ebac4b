"""A download cancelled mid-body (Ctrl-C, a failed sibling shot) leaves no open file, no .part."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from rdpipe.client import RelayDanceClient
from rdpipe.client.download import CHUNK_SIZE
from tests.client.mock_server import STORAGE, Script

pytestmark = pytest.mark.anyio

TASK = "task_" + "c" * 32


class _Stalled(httpx.AsyncByteStream):
    """Sends one chunk of a bigger body, then nothing: the download is mid-body for good."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"x" * CHUNK_SIZE
        await anyio.sleep_forever()


async def test_cancelled_download_closes_and_removes_its_part_file(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """Cancelled after its first bytes, the download closes its file and leaves nothing behind."""
    size = str(2 * CHUNK_SIZE)
    stalled = httpx.Response(200, headers={"Content-Length": size}, stream=_Stalled())
    script.add("GET", f"/clips/{TASK}.mp4", stalled)
    started = anyio.Event()
    dest = tmp_path / "clips" / "c.mp4"

    async def download() -> None:
        url = f"{STORAGE}/clips/{TASK}.mp4?sig=x"
        await client.download(TASK, dest, video_url=url, on_progress=lambda *_: started.set())

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(download)
            await started.wait()
            group.cancel_scope.cancel()
    gc.collect()  # an unclosed file would warn here (warnings are errors)
    assert list(dest.parent.iterdir()) == []
