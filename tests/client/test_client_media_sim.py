"""Uploads and the asset library against the real simulator on 127.0.0.1 (issue 14)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest

from rdpipe.client import (
    ApiKey,
    AssetNotFound,
    AssetState,
    ClientConfig,
    InvalidRequest,
    RelayDanceClient,
    RetryPolicy,
    ServerError,
    Timeouts,
    UploadFailed,
    UploadRefused,
    UploadSlot,
    UploadSource,
    UploadSourceChanged,
)
from rdpipe.sim import Faults, SimServer
from rdpipe.sim.media import MediaRules
from tests.conftest import SIM_API_KEY

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024
ATTEMPTS = 3


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _image(seed: int, size: int = 40_000) -> bytes:
    """Bytes of their own per test (the simulator keeps hosted files for the session)."""
    block = hashlib.sha256(f"{seed}".encode()).digest()
    return (block * (size // len(block) + 1))[:size]


@pytest.fixture
def media_sim(sim: SimServer) -> Iterator[SimServer]:
    """The session simulator, its media rules back to the default afterwards."""
    sim.media_rules = MediaRules()
    yield sim
    sim.media_rules = MediaRules()


@pytest.fixture
async def client(media_sim: SimServer) -> AsyncIterator[RelayDanceClient]:
    policy = RetryPolicy(attempts=ATTEMPTS, initial_wait=0.01, max_wait=0.05)
    config = ClientConfig(
        ApiKey(SIM_API_KEY), media_sim.base_url, Timeouts(connect=2, read=20, write=20), policy
    )
    assert config.media_url == media_sim.base_url  # RELAYDANCE_BASE_URL's host serves both
    async with RelayDanceClient(config) as made:
        yield made


def _recorded(sim: SimServer, method: str, origin: str) -> list[dict[str, str]]:
    return [r.headers for r in sim.requests() if r.method == method and r.origin == origin]


async def test_upload_round_trip(
    client: RelayDanceClient, media_sim: SimServer, tmp_path: Path, loop_file_calls: list[str]
) -> None:
    """Ask a slot (key sent), PUT the file (no key, its Content-Type, its bytes), then the
    source URL serves those bytes and a second slot says they exist."""
    data = _image(1)
    md5 = _md5(data)
    path = tmp_path / "mara.png"
    path.write_bytes(data)
    slot = await client.upload_slot(md5, "png")
    assert (slot.exists, slot.content_type) == (False, "image/png")
    assert slot.source_url == f"{media_sim.storage_url}/media/{md5}.png"
    seen: list[int] = []
    loop_file_calls.clear()  # the test's own writes; the upload reads in worker threads
    await client.upload(slot, UploadSource(path=path, size=len(data)), on_progress=seen.append)
    assert loop_file_calls == []
    assert seen == [len(data)]
    assert media_sim.hosted_files()[f"{md5}.png"] == len(data)
    (put,) = [r for r in media_sim.requests() if r.method == "PUT"]
    assert "authorization" not in put.headers
    assert put.headers["content-type"] == "image/png"
    assert put.headers["content-length"] == str(len(data))
    assert _md5(put.body) == md5
    (ask,) = [r for r in media_sim.requests() if r.path == "/api/upload-url"]
    assert ask.headers["authorization"] == f"Bearer {SIM_API_KEY}"
    assert await client.hosted_file_exists(slot.source_url) is True
    assert all("authorization" not in h for h in _recorded(media_sim, "HEAD", "storage"))
    again = await client.upload_slot(md5, "png")
    assert (again.exists, again.source_url) == (True, slot.source_url)


async def test_an_existing_file_is_not_skipped_by_the_client(
    client: RelayDanceClient, media_sim: SimServer
) -> None:
    """exists=true is the caller's to act on: upload() with such a slot still sends the PUT."""
    data = _image(2)
    first = await client.upload_slot(_md5(data), "png")
    await client.upload(first, UploadSource(data=data, size=len(data)))
    again = await client.upload_slot(_md5(data), "png")
    assert again.exists
    media_sim.clear_observations()
    await client.upload(again, UploadSource(data=data, size=len(data)))
    assert media_sim.counters().get("PUT storage") == 1


async def test_a_gone_file_is_said_gone(client: RelayDanceClient, media_sim: SimServer) -> None:
    """A hosted file the storage no longer has reads False; an unreachable one None."""
    data = _image(3)
    slot = await client.upload_slot(_md5(data), "png")
    await client.upload(slot, UploadSource(data=data, size=len(data)))
    media_sim.remove_hosted(f"{_md5(data)}.png")
    assert await client.hosted_file_exists(slot.source_url) is False
    assert await client.hosted_file_exists("http://127.0.0.1:9/media/x.png") is None


async def test_refused_extension(client: RelayDanceClient, media_sim: SimServer) -> None:
    """An extension the relay refuses is UploadRefused with its message, asked once."""
    media_sim.media_rules = MediaRules(refused_extensions=frozenset({"mp4"}))
    with pytest.raises(UploadRefused) as caught:
        await client.upload_slot(_md5(b"video"), "mp4")
    assert (caught.value.extension, caught.value.message) == ("mp4", "unsupported file type: mp4")
    assert media_sim.counters().get("GET /api/upload-url") == 1
    assert (await client.upload_slot(_md5(b"image"), "png")).content_type == "image/png"


async def test_bad_digest(client: RelayDanceClient, media_sim: SimServer) -> None:
    """Other bytes than the md5 named are refused (BadDigest): UploadFailed, one PUT, no query."""
    data = _image(4)
    slot = await client.upload_slot(_md5(data), "png")
    other = _image(5)
    with pytest.raises(UploadFailed) as caught:
        await client.upload(slot, UploadSource(data=other, size=len(other)))
    host = media_sim.storage_url.removeprefix("http://")
    assert str(caught.value).startswith(
        f"the storage refused the upload to {host}/uploads/{_md5(data)}.png (400 BadDigest): "
    )
    assert "signature" not in str(caught.value) and "?" not in str(caught.value)
    assert caught.value.code == "BadDigest"
    assert media_sim.counters().get("PUT storage") == 1
    assert f"{_md5(data)}.png" not in media_sim.hosted_files()


async def test_a_file_changed_after_its_check_is_not_stored(
    client: RelayDanceClient, media_sim: SimServer, tmp_path: Path
) -> None:
    """A file rewritten between its check and its PUT: the client breaks the PUT off
    itself (the simulator's md5 check is not what stops it) and nothing is hosted."""
    checked = _image(10, 3 * MiB)
    path = tmp_path / "walk.mp4"
    path.write_bytes(checked)
    slot = await client.upload_slot(_md5(checked), "mp4")
    path.write_bytes(_image(11, 3 * MiB))
    source = UploadSource(path=path, size=len(checked), md5=_md5(checked), shown="refs/walk.mp4")
    with pytest.raises(UploadSourceChanged) as caught:
        await client.upload(slot, source)
    assert caught.value.message.startswith("refs/walk.mp4 changed while rdpipe was sending it")
    assert caught.value.code is None  # not the simulator's BadDigest
    assert f"{_md5(checked)}.mp4" not in media_sim.hosted_files()


async def test_other_content_type_and_bad_signature(
    client: RelayDanceClient, media_sim: SimServer
) -> None:
    """A Content-Type other than the one issued, or a forged signature, is a 4xx: not retried."""
    data = _image(6)
    slot = await client.upload_slot(_md5(data), "png")
    source = UploadSource(data=data, size=len(data))
    wrong_type = UploadSlot(False, slot.upload_url, slot.source_url, "image/jpeg")
    with pytest.raises(UploadFailed) as caught:
        await client.upload(wrong_type, source)
    assert (caught.value.status, caught.value.code) == (400, "InvalidContentType")
    flipped = "1" if slot.upload_url.endswith("0") else "0"
    forged_url = slot.upload_url[:-1] + flipped  # the signature's last hex digit
    forged = UploadSlot(False, forged_url, slot.source_url, slot.content_type)
    with pytest.raises(UploadFailed) as caught:
        await client.upload(forged, source)
    assert (caught.value.status, caught.value.code) == (403, "AccessDenied")
    assert "run again for a fresh one" in str(caught.value)
    assert media_sim.counters().get("PUT storage") == 2


async def test_5xx_on_the_put_is_retried(client: RelayDanceClient, media_sim: SimServer) -> None:
    """A storage answering 5xx gets every attempt, each with the whole body; then it works."""
    data = _image(7)
    slot = await client.upload_slot(_md5(data), "png")
    source = UploadSource(data=data, size=len(data))
    media_sim.faults = Faults(server_error_rate=1.0, endpoints=frozenset({"storage"}))
    with pytest.raises(ServerError):
        await client.upload(slot, source)
    assert media_sim.counters().get("PUT storage") == ATTEMPTS
    media_sim.faults = Faults()
    await client.upload(slot, source)
    assert media_sim.hosted_files()[f"{_md5(data)}.png"] == len(data)


async def test_portraits(client: RelayDanceClient, media_sim: SimServer) -> None:
    """A hosted portrait is registered, processed, then Active; a marked one Failed, with the
    reason; an unknown id is AssetNotFound; a source that is not hosted is refused."""
    good, bad = _image(8), _image(9)
    media_sim.media_rules = MediaRules(asset_delay=0.2, failing_portraits=frozenset({_md5(bad)}))
    states: list[AssetState] = []
    for data in (good, bad):
        slot = await client.upload_slot(_md5(data), "png")
        await client.upload(slot, UploadSource(data=data, size=len(data)))
        created = await client.create_asset(slot.source_url, name="mara")
        assert created.uri == f"asset://{created.id}" and not created.active
        with anyio.fail_after(20):
            while not ((state := await client.asset_state(created.id)).active or state.failed):
                await anyio.sleep(0.05)
        states.append(state)
    assert states[0].active and states[0].reason is None
    assert states[1].failed and states[1].reason == MediaRules().failure_reason
    asked = _asset_requests(media_sim)
    assert asked and all(h["authorization"] == f"Bearer {SIM_API_KEY}" for h in asked)
    with pytest.raises(AssetNotFound):
        await client.asset_state("asset-" + "0" * 24)
    with pytest.raises(InvalidRequest, match="source_url is not a hosted file"):
        await client.create_asset("https://example.com/face.png")


def _asset_requests(sim: SimServer) -> list[dict[str, str]]:
    return [r.headers for r in sim.requests() if r.path.startswith("/api/assets/")]


_UPLOADER = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    import anyio
    from rdpipe.client import ApiKey, ClientConfig, RelayDanceClient, UploadSource

    base_url, key, path, md5, size = sys.argv[1:]

    async def main() -> None:
        async with RelayDanceClient(ClientConfig(ApiKey(key), base_url)) as client:
            slot = await client.upload_slot(md5, "mp4")
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            await client.upload(slot, UploadSource(path=Path(path), size=int(size)))
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(before, after)

    anyio.run(main)
    """
)


def test_memory_stays_flat_for_a_large_upload(media_sim: SimServer, tmp_path: Path) -> None:
    """A 256 MiB file is uploaded with the uploader's peak RSS growing by well under 32 MiB."""
    size = 256 * MiB
    path = tmp_path / "large.mp4"
    with path.open("wb") as sparse:
        sparse.truncate(size)
    digest = hashlib.md5()
    zeros = bytes(MiB)
    for _ in range(size // MiB):
        digest.update(zeros)
    md5 = digest.hexdigest()
    environ = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _UPLOADER, media_sim.base_url, SIM_API_KEY, str(path), md5,
             str(size)],
            capture_output=True, text=True, timeout=240, env=environ, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        before, after = (int(word) for word in done.stdout.split())
        assert media_sim.hosted_files()[f"{md5}.mp4"] == size
    finally:
        media_sim.remove_hosted(f"{md5}.mp4")
    growth_mib = (after - before) / 1024  # ru_maxrss is in KiB on Linux
    assert growth_mib < 32, f"peak RSS grew by {growth_mib:.1f} MiB for a 256 MiB upload"
