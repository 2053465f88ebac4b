"""The client against the real simulator served on 127.0.0.1: round trip, faults, downloads."""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import time
import tracemalloc
from pathlib import Path

import anyio
import pytest

from rdpipe.client import (
    ApiKey,
    ClientConfig,
    NotSent,
    RecordingClock,
    RelayDanceClient,
    RetryPolicy,
    SubmitOutcomeUnknown,
    TaskState,
    TaskStatus,
    Timeouts,
)
from rdpipe.sim import Faults, SimServer, synthetic_bytes
from tests.client.mock_server import SIM_KEY as KEY

pytestmark = pytest.mark.anyio

SUBMIT = "POST /v1/video/generations"
BODY = json.dumps(
    {
        "model": "doubao-seedance-2-0-480p",
        "prompt": "a paper boat on a rain puddle",
        "seconds": "4",
        "metadata": {"ratio": "16:9", "resolution": "480p"},
    }
).encode()
MiB = 1024 * 1024


def _config(base_url: str, *, attempts: int = 5) -> ClientConfig:
    policy = RetryPolicy(attempts=attempts, initial_wait=0.05, max_wait=0.2)
    return ClientConfig(ApiKey(KEY), base_url, Timeouts(connect=2, read=10, write=10), policy)


async def _until_finished(client: RelayDanceClient, task_id: str) -> TaskStatus:
    with anyio.fail_after(60):
        while not (status := await client.get_task(task_id)).state.finished:
            await anyio.sleep(0.05)
    return status


def _expected_sha(size: int) -> str:
    digest = hashlib.sha256()
    for offset in range(0, size, 4 * MiB):
        digest.update(synthetic_bytes(offset, min(4 * MiB, size - offset)))
    return digest.hexdigest()


async def test_round_trip(fresh_sim: SimServer, tmp_path: Path) -> None:
    """Submit, poll to success and download give an mp4 whose hash matches the bytes on disk."""
    async with RelayDanceClient(_config(fresh_sim.base_url)) as client:
        task_id = await client.submit(BODY)
        status = await _until_finished(client, task_id)
        assert status.state is TaskState.SUCCEEDED and status.video_url
        clip = await client.download(task_id, tmp_path / "shot.mp4", video_url=status.video_url)
    data = clip.path.read_bytes()
    assert data[4:8] == b"ftyp"
    assert (clip.size, clip.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert fresh_sim.created_task_ids() == [task_id]


@pytest.mark.parametrize(
    "faults",
    [
        Faults(drop_rate=1.0, endpoints=frozenset({"submit"})),
        Faults(server_error_rate=1.0, endpoints=frozenset({"submit"})),
    ],
    ids=["dropped", "5xx"],
)
async def test_ambiguous_submit_is_never_repeated(fresh_sim: SimServer, faults: Faults) -> None:
    """A submit that created a task but got no clean answer raises, after exactly one POST."""
    fresh_sim.faults = faults
    async with RelayDanceClient(_config(fresh_sim.base_url)) as client:
        with pytest.raises(SubmitOutcomeUnknown):
            await client.submit(BODY)
    assert fresh_sim.counters()[SUBMIT] == 1
    assert len(fresh_sim.created_task_ids()) == 1  # the task exists: a retry would pay twice


async def test_submit_retried_after_429(fresh_sim: SimServer) -> None:
    """A submit refused twice with 429 (no Retry-After) goes out again and creates one task."""
    fresh_sim.faults = Faults(rate_limit_burst=2, endpoints=frozenset({"submit"}))
    async with RelayDanceClient(_config(fresh_sim.base_url)) as client:
        task_id = await client.submit(BODY)
    assert fresh_sim.counters()[SUBMIT] == 3
    assert fresh_sim.created_task_ids() == [task_id]


async def test_submit_retried_after_connect_error() -> None:
    """A submit to a port where nothing listens is tried every attempt, then raises NotSent."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    fake = RecordingClock()
    config = _config(dead)
    async with RelayDanceClient(config, sleep=fake.sleep, clock=fake.clock) as client:
        with pytest.raises(NotSent, match="nothing was sent"):
            await client.submit(BODY)
    assert len(fake.waits) == config.retry.attempts - 1


async def test_retry_after_is_honoured(fresh_sim: SimServer) -> None:
    """A 429 with Retry-After: 1 delays the next request by one second of real time."""
    fresh_sim.faults = Faults(rate_limit_burst=1, retry_after=1, endpoints=frozenset({"models"}))
    async with RelayDanceClient(_config(fresh_sim.base_url)) as client:
        started = time.perf_counter()
        models = await client.list_models()
        elapsed = time.perf_counter() - started
    assert models
    assert fresh_sim.counters()["GET /v1/models"] == 2
    assert 1.0 <= elapsed < 1.6, elapsed


async def test_large_download_keeps_memory_flat(fresh_sim: SimServer, tmp_path: Path) -> None:
    """A 200 MB clip downloads with under 50 MB of peak memory growth, hash checked."""
    size = 200 * MiB
    task_id = fresh_sim.add_completed_task(content_size=size)
    async with RelayDanceClient(_config(fresh_sim.base_url)) as client:
        url = (await client.get_task(task_id)).video_url
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            clip = await client.download(task_id, tmp_path / "big.mp4", video_url=url)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    growth = peak - baseline
    print(f"200 MB download: peak traced memory growth {growth / MiB:.1f} MiB")
    assert clip.size == size and clip.sha256 == _expected_sha(size)
    assert growth < 50 * MiB


async def test_resume_after_truncated_download(fresh_sim: SimServer, tmp_path: Path) -> None:
    """A storage body cut at 90% is resumed with Range and the file's hash is still right."""
    size = 4 * MiB
    task_id = fresh_sim.add_completed_task(content_size=size)
    fresh_sim.faults = Faults(truncate_rate=1.0, endpoints=frozenset({"storage"}))

    def heal(done: int, total: int | None) -> None:
        fresh_sim.faults = Faults()  # only the first response is cut

    async with RelayDanceClient(_config(fresh_sim.base_url)) as client:
        url = (await client.get_task(task_id)).video_url
        clip = await client.download(task_id, tmp_path / "c.mp4", video_url=url, on_progress=heal)
    assert clip.sha256 == _expected_sha(size)
    storage = [r for r in fresh_sim.requests() if r.origin == "storage"]
    assert len(storage) == 2
    resumed_from = int(storage[1].headers["range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_from < size


async def test_expired_url_falls_back_to_content(fresh_sim: SimServer, tmp_path: Path) -> None:
    """An expired storage link leads to one task re-read, then to /content with the key."""
    size = 2 * MiB
    fresh_sim.faults = Faults(expired_urls=True)
    task_id = fresh_sim.add_completed_task(content_size=size)
    async with RelayDanceClient(_config(fresh_sim.base_url)) as client:
        url = (await client.get_task(task_id)).video_url
        fresh_sim.clear_observations()
        clip = await client.download(task_id, tmp_path / "c.mp4", video_url=url)
    assert clip.sha256 == _expected_sha(size)
    trail = [r.endpoint for r in fresh_sim.requests()]
    assert trail[0] == "GET storage" and trail[1] == "GET /v1/video/generations/{id}"
    assert trail[-1] == "GET /v1/videos/{id}/content"
    assert set(trail[2:-1]) <= {"GET storage"}


async def test_key_stays_out_of_logs_and_storage(
    fresh_sim: SimServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Through retries and a download, no log line and no storage request carries the key."""
    fresh_sim.faults = Faults(
        rate_limit_burst=1, server_error_rate=0.3, endpoints=frozenset({"generation", "storage"})
    )
    with caplog.at_level(logging.DEBUG):
        async with RelayDanceClient(_config(fresh_sim.base_url, attempts=8)) as client:
            task_id = await client.submit(BODY)
            status = await _until_finished(client, task_id)
            await client.download(task_id, tmp_path / "c.mp4", video_url=status.video_url)
    assert any(r.name == "rdpipe.client" for r in caplog.records)  # something was logged
    assert all(KEY not in r.getMessage() and KEY not in str(r.args) for r in caplog.records)
    requests = fresh_sim.requests()
    api = [r for r in requests if r.origin == "api"]
    storage = [r for r in requests if r.origin == "storage"]
    assert api and storage
    assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in api)
    for request in storage:
        assert "authorization" not in request.headers
        assert KEY not in f"{request.path}?{request.query} {request.headers}"
