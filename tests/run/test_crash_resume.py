"""`rdpipe run` as a process: SIGKILLed at random moments it resumes without paying twice, and
two runs of one pipeline never both submit.

Timing: the runs poll every 0.5 s, so one run lives a few seconds. To afford twenty kills in
the time budget, three pipelines are killed side by side (seven kills each) against one
simulator. Each chain's kill delays are seeded random draws, one per slice of the run's life
and in rising order, so that kills land in the submit, poll, download and assembly phases.
``RDPIPE_LONG_TESTS=1`` kills each chain twelve times.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from rdpipe.sim import Faults, SimConfig, SimServer, Timing, run_simulator
from tests.run.conftest_helpers import (
    SECONDS,
    SIM_API_KEY,
    RunProcess,
    assert_whole_clip,
    clip_files,
    created_by_shot,
    posts_by_shot,
    probe_video,
    run_to_end,
    start_run,
    write_pipeline,
)

LONG = os.environ.get("RDPIPE_LONG_TESTS") == "1"
KILLS_PER_CHAIN = 12 if LONG else 7
KILL_WINDOW = (0.3, 11.0)  # seconds after start; a fresh run lives about 10-16 s

CHAINS = {
    "north": {
        "gull": "a gull hangs in the wind above a grey harbour",
        "nets": "fishermen fold orange nets on a wet quay",
        "bell": "a brass ship's bell swings in slow motion",
        "fog": "fog rolls over a row of moored boats at dawn",
        "crab": "a crab scuttles across black volcanic sand",
        "buoy": "a red buoy bobs on a choppy sea, close-up",
    },
    "south": {
        "palm": "palm fronds sway against a violet dusk sky",
        "surf": "a surfer paddles out through turquoise waves",
        "kite": "a green kite dances above white dunes",
        "shell": "a spiral shell rolls in the foam of a wave",
        "pier": "a wooden pier stretches into a calm lagoon",
        "lamp": "paper lanterns glow along a beach promenade",
    },
    "west": {
        "mesa": "a red mesa under a blazing noon sun",
        "horse": "a wild horse gallops through sagebrush",
        "canyon": "a raven glides down a deep canyon",
        "cactus": "a saguaro cactus silhouetted at sunset",
        "dust": "a dust devil spins across a dry lake bed",
        "stars": "a star trail wheels over a desert arch",
    },
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    """A simulator whose tasks take about 2 s and whose submits answer after 0.2 s.

    The slow answer (real relays take as long) widens the moment between "the task exists"
    and "rdpipe wrote its id down", so some kills land there and make unknown outcomes.
    """
    timing = Timing(unknown=0.3, queued=0.3, running=1.5)
    slow_submits = Faults(delay=0.2, endpoints=frozenset({"submit"}))
    work_dir = tmp_path_factory.mktemp("crash-sim")
    config = SimConfig(
        api_key=SIM_API_KEY, timing=timing, faults=slow_submits, seed=0, work_dir=work_dir
    )
    with run_simulator(config) as server:
        yield server


@dataclass(frozen=True)
class Kill:
    """One SIGKILL: how long after start, and the phase the run had reported by then."""

    after: float
    phase: str


def _phase(run: RunProcess, shots: int) -> str:
    events = [event for event in run.events() if event.get("event") == "shot"]
    if not events:
        return "starting"
    latest = {event["id"]: event["status"] for event in events}
    if len(latest) == shots and set(latest.values()) <= {"done", "cached"}:
        return "assembling"
    if len(latest) == shots and set(latest.values()) <= {"done", "cached", "failed", "unknown"}:
        return "finishing"
    return str(events[-1]["status"])


def _kill_delays(rng: random.Random, chain: int, chains: int, kills: int) -> list[float]:
    """Rising delays, one random draw in each of this chain's slices of the kill window."""
    low, high = KILL_WINDOW
    width = (high - low) / (kills * chains)
    return [low + (index * chains + chain + rng.random()) * width for index in range(kills)]


def _kill_repeatedly(pipeline: Path, sim: SimServer, delays: list[float], shots: int) -> list[Kill]:
    """Start and SIGKILL runs at the planned delays until that many kills have landed.

    Once a run ends before its kill (nothing left but reassembly, or every shot blocked),
    later kills are drawn inside the life that run had.
    """
    kills: list[Kill] = []
    rng = random.Random(len(delays))
    life: float | None = None
    for _ in range(3 * len(delays)):
        if len(kills) == len(delays):
            break
        delay = delays[len(kills)] if life is None else rng.uniform(0.3, 0.9 * life)
        run = start_run(pipeline, sim)
        with contextlib.suppress(subprocess.TimeoutExpired):
            run.process.wait(timeout=delay)
        phase = _phase(run, shots)
        if run.kill():
            kills.append(Kill(delay, phase))
        else:
            life = time.monotonic() - run.started
            assert run.process.returncode in (0, 1), run.error_text
    return kills


def _manifest(pipeline: Path) -> dict[str, dict[str, object]]:
    document = json.loads((pipeline.parent / "out" / "manifest.json").read_text("utf-8"))
    return {shot["id"]: shot for shot in document["shots"]}


def _check_chain(name: str, prompts: dict[str, str], pipeline: Path, sim: SimServer) -> int:
    """Finish a killed chain and check its paid submits and its video; returns the unknowns."""
    final = run_to_end(pipeline, sim)
    unknown = sorted(shot for shot, status in final.status_of().items() if status == "unknown")
    assert final.code == (1 if unknown else 0), final.stderr
    for shot in unknown:
        assert "--resubmit-unknown" in str(final.shots()[shot]["message"])
    assert set(final.status_of().values()) <= {"done", "cached", "unknown"}, final.stderr

    created = created_by_shot(sim, name)
    sent_before = {shot: len(created.get(shot, [])) for shot in prompts}
    for shot in prompts:
        expected = {0, 1} if shot in unknown else {1}
        assert sent_before[shot] in expected, f"{name}/{shot}: {created.get(shot)} created"

    if unknown:
        again = run_to_end(pipeline, sim, "--resubmit-unknown")
        assert again.code == 0, again.stderr
        created = created_by_shot(sim, name)
        for shot in prompts:
            extra = 1 if shot in unknown else 0
            assert len(created.get(shot, [])) == sent_before[shot] + extra, f"{name}/{shot}"
    lost = sum(1 for shot in unknown if sent_before[shot] == 0)
    total = sum(len(tasks) for tasks in created.values())
    assert total == len(prompts) + len(unknown) - lost

    manifest = _manifest(pipeline)
    for shot in prompts:
        entry = manifest[shot]
        assert entry["status"] in ("done", "cached")
        assert entry["task_id"] == created[shot][-1], f"{name}/{shot} kept another task's clip"
        assert_whole_clip(pipeline.parent / "out" / str(entry["clip"]))
    video = probe_video(pipeline.parent / "out" / f"{name}.mp4")
    assert abs(video.duration - SECONDS * len(prompts)) < 0.2
    assert abs(video.end - SECONDS * len(prompts)) < 0.2
    return len(unknown)


@pytest.mark.timeout(600 if LONG else 120)
def test_sigkill_at_random_moments_never_pays_twice(sim: SimServer, tmp_path: Path) -> None:
    """Runs SIGKILLed at random moments, then rerun, submit each shot once and build whole clips."""
    rng = random.Random(20240607)
    pipelines = {
        name: write_pipeline(tmp_path / name, name, prompts, sim)
        for name, prompts in CHAINS.items()
    }
    plans = {
        name: _kill_delays(rng, index, len(CHAINS), KILLS_PER_CHAIN)
        for index, name in enumerate(CHAINS)
    }
    with ThreadPoolExecutor(len(CHAINS)) as pool:
        futures = {
            name: pool.submit(
                _kill_repeatedly, pipelines[name], sim, plans[name], len(CHAINS[name])
            )
            for name in CHAINS
        }
        kills = {name: future.result() for name, future in futures.items()}
    landed = [kill for chain in kills.values() for kill in chain]
    assert len(landed) >= 10
    print("kills:", ", ".join(f"{kill.after:.1f}s {kill.phase}" for kill in landed))

    with ThreadPoolExecutor(len(CHAINS)) as pool:
        unknowns = list(
            pool.map(
                lambda name: _check_chain(name, CHAINS[name], pipelines[name], sim), list(CHAINS)
            )
        )
    posts = sim.counters().get("POST /v1/video/generations", 0)
    print(f"unknown submits: {sum(unknowns)}; POSTs received: {posts}")
    for name, prompts in CHAINS.items():
        for clip in clip_files(pipelines[name].parent / "out"):
            assert_whole_clip(clip)
        assert set(posts_by_shot(sim, prompts)) == set(prompts)


def _wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_second_run_of_a_running_pipeline_refuses(sim: SimServer, tmp_path: Path) -> None:
    """A second run started while the first runs exits non-zero naming its pid and sends nothing."""
    prompts = {
        "dawn": "a lighthouse at dawn, gulls circling",
        "noon": "a lighthouse at noon, sea glittering",
        "dusk": "a lighthouse at dusk, beam starting to turn",
    }
    pipeline = write_pipeline(tmp_path, "twin", prompts, sim)
    first = start_run(pipeline, sim)
    try:
        _wait_for(lambda: "submitting" in first.statuses(), timeout=60)
        second = run_to_end(pipeline, sim, timeout=60)
        # The first run polls 8 s after its submits, so it is still running; it has sent them.
        _wait_for(lambda: _generating(first) == set(prompts), timeout=30)
        assert first.process.poll() is None, "the first run ended before the second was refused"
    finally:
        first.kill()  # its tasks are recorded; the crash test covers resuming them
    assert second.code != 0
    assert f"pid {first.process.pid}" in second.stderr
    assert "Another rdpipe run of pipeline 'twin' is in progress" in second.stderr
    assert second.events == [] and second.summary is None
    created = created_by_shot(sim, "twin")
    assert {shot: len(tasks) for shot, tasks in created.items()} == {shot: 1 for shot in prompts}
    assert posts_by_shot(sim, prompts) == {shot: 1 for shot in prompts}


def _generating(run: RunProcess) -> set[str]:
    return {
        event["id"]
        for event in run.events()
        if event.get("status") == "generating" and event.get("task_id")
    }
