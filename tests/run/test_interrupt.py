"""Ctrl-C: the first stops the run cleanly and says how to resume; a rerun pays nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rdpipe.sim import SimConfig, SimServer, Timing, run_simulator
from tests.run.conftest import pipeline_text, write

KEY = "sk-interrupt-test"


@pytest.fixture
def slow_sim(tmp_path: Path) -> Iterator[SimServer]:
    """A simulator whose tasks take about 3 s, so a run can be interrupted mid-flight."""
    config = SimConfig(api_key=KEY, timing=Timing(running=3.0), work_dir=tmp_path / "sim")
    with run_simulator(config) as server:
        yield server


def start(pipeline: Path, sim: SimServer) -> subprocess.Popen[str]:
    env = {**os.environ, "RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": KEY}
    command = [sys.executable, "-m", "rdpipe", "run", str(pipeline), "--poll-interval", "0.2"]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_for_submits(sim: SimServer, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(sim.created_task_ids()) < count:
        assert time.monotonic() < deadline, "the run never submitted"
        time.sleep(0.05)


def test_ctrl_c_stops_cleanly_and_rerun_resumes(slow_sim: SimServer, tmp_path: Path) -> None:
    """SIGINT mid-run exits 130 with resume advice; the rerun polls the paid tasks, no new POST."""
    shots = {f"s{i}": f"prompt number {i}" for i in range(3)}
    pipeline = write(tmp_path / "film.yaml", pipeline_text(shots))
    run = start(pipeline, slow_sim)
    wait_for_submits(slow_sim, 3)
    time.sleep(0.3)
    run.send_signal(signal.SIGINT)
    output, _ = run.communicate(timeout=60)
    assert run.returncode == 130, output
    assert "run the same command again to pick them up without paying twice" in output
    assert "Traceback" not in output

    rerun = start(pipeline, slow_sim)
    output, _ = rerun.communicate(timeout=90)
    assert rerun.returncode == 0, output
    assert len(slow_sim.created_task_ids()) == 3
    assert slow_sim.counters()["POST /v1/video/generations"] == 3
    assert (tmp_path / "out" / "film.mp4").is_file()


def test_second_ctrl_c_exits_at_once(slow_sim: SimServer, tmp_path: Path) -> None:
    """A second SIGINT ends the process immediately, still with exit code 130."""
    pipeline = write(tmp_path / "film.yaml", pipeline_text({"a": "one", "b": "two"}))
    run = start(pipeline, slow_sim)
    wait_for_submits(slow_sim, 2)
    run.send_signal(signal.SIGINT)
    run.send_signal(signal.SIGINT)
    run.communicate(timeout=30)
    assert run.returncode == 130
