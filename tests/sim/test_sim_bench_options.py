"""Simulator options for benchmarks: one pre-rendered clip served for every task."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rdpipe.sim import SimConfig, SimServer, Timing, run_simulator
from tests.sim.simclient import submit, wait_final

_CLIP_BYTES = b"\x00\x00\x00\x18ftypmp42 not really a video, but bytes to serve"


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench-clip") / "tiny.mp4"
    path.write_bytes(_CLIP_BYTES)
    return path


@pytest.fixture(scope="module")
def bench_sim(clip_file: Path) -> Iterator[SimServer]:
    config = SimConfig(api_key="sk-bench", timing=Timing.fast(), clip_file=clip_file)
    with run_simulator(config) as server:
        yield server


@pytest.fixture
def bench_api(bench_sim: SimServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": "Bearer sk-bench"}
    with httpx.Client(base_url=bench_sim.base_url, headers=headers, timeout=30) as client:
        yield client


def test_clip_file_is_served_for_every_task_without_rendering(
    bench_sim: SimServer, bench_api: httpx.Client
) -> None:
    """With ``clip_file`` set, distinct requests all complete with that file's bytes, unrendered."""
    tasks = [
        submit(bench_api, prompt="a red kite"),
        submit(bench_api, prompt="a blue boat", seconds="6", metadata={"generate_audio": True}),
    ]
    for task_id in tasks:
        assert wait_final(bench_api, task_id)["status"] == "completed"
        content = bench_api.get(f"/v1/videos/{task_id}/content")
        assert content.status_code == 200
        assert content.content == _CLIP_BYTES
    assert bench_sim.renders() == 0


def test_clip_file_defaults_to_rendering() -> None:
    """By default every distinct request gets its own rendered clip."""
    assert SimConfig().clip_file is None
