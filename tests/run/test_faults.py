"""`rdpipe run` as a process under injected faults: it finishes every shot or reports each
failure in the server's words, keeps no corrupt clip, and never pays twice for a shot.

Faults (seeded): 20 % of requests answered 5xx, a burst of 429s with ``Retry-After`` while the
submits go out and another without it once polling starts, 10 % of tasks failing moderation,
5 % dropped connections, 30 % truncated downloads, and expired storage URLs at first.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rdpipe.sim import Faults, SimConfig, SimServer, Timing, run_simulator
from rdpipe.sim.failures import DEFAULT_FAILURE
from tests.run.conftest_helpers import (
    SECONDS,
    SIM_API_KEY,
    SUBMIT_KEY,
    assert_whole_clip,
    clip_files,
    created_by_shot,
    posts_by_shot,
    probe_video,
    run_to_end,
    start_run,
    write_pipeline,
)

RETRIES = 2
PROMPTS = {
    "ridge": "a hiker reaches a windy ridge above the clouds",
    "creek": "a creek glitters between mossy stones",
    "camp": "a tent glows orange under the milky way",
    "elk": "an elk lifts its head in a misty meadow",
    "storm": "lightning forks over a distant mountain range",
    "pines": "snow slides off the branches of tall pines",
}


def _faults(*, retry_after: int | None, expired_urls: bool) -> Faults:
    return Faults(
        server_error_rate=0.2,
        rate_limit_burst=3,
        retry_after=retry_after,
        drop_rate=0.05,
        truncate_rate=0.3,
        expired_urls=expired_urls,
        task_failure_rate=0.1,
    )


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    """A simulator whose tasks take about 1.4 s, shared by this module."""
    timing = Timing(unknown=0.2, queued=0.2, running=1.0)
    work_dir = tmp_path_factory.mktemp("faults-sim")
    config = SimConfig(api_key=SIM_API_KEY, timing=timing, seed=7, work_dir=work_dir)
    with run_simulator(config) as server:
        yield server


@dataclass(frozen=True)
class FaultedRun:
    """One run under faults, as the user saw it, and the tasks the simulator created for it."""

    pipeline: Path
    code: int
    shots: dict[str, dict[str, Any]]
    console: str
    created: dict[str, list[str]]
    posts: Counter[str]

    @property
    def finished(self) -> set[str]:
        return {shot for shot, entry in self.shots.items() if entry["status"] == "done"}


@pytest.fixture(scope="module")
def faulted(sim: SimServer, tmp_path_factory: pytest.TempPathFactory) -> FaultedRun:
    """Run the pipeline once under faults: 429s with Retry-After during the submits, without
    it once polling starts (expired storage URLs only before that)."""
    pipeline = write_pipeline(tmp_path_factory.mktemp("alpine"), "alpine", PROMPTS, sim,
                              retries=RETRIES)  # fmt: skip
    sim.faults = _faults(retry_after=1, expired_urls=True)
    try:
        run = start_run(pipeline, sim)
        deadline = time.monotonic() + 60
        while not any(key.startswith("GET") for key in sim.counters()):
            assert run.process.poll() is None, run.error_text
            assert time.monotonic() < deadline, "the run never polled"
            time.sleep(0.05)
        sim.faults = _faults(retry_after=None, expired_urls=False)
        code = run.wait(timeout=100)
    finally:
        sim.faults = Faults()
    events = run.events()
    assert events and "shots" in events[-1], run.error_text
    shots = {shot["id"]: shot for shot in events[-1]["shots"]}
    created = created_by_shot(sim, "alpine")
    print(f"faulted run: exit {code}, {sim.counters()}")
    return FaultedRun(pipeline, code, shots, run.error_text, created, posts_by_shot(sim, PROMPTS))


def test_faulted_run_finishes_or_reports_each_failure(faulted: FaultedRun) -> None:
    """Under faults every shot is done, or the run exits 1 naming each failed shot and why."""
    failed = {shot: entry for shot, entry in faulted.shots.items() if entry["status"] != "done"}
    print("not done:", {shot: entry["message"] for shot, entry in failed.items()})
    assert faulted.code == (1 if failed else 0), faulted.console
    for shot, entry in failed.items():
        message = str(entry["message"])
        assert entry["status"] in ("failed", "unknown"), entry
        assert f"{shot}: {entry['status']}: {message}" in faulted.console
        if entry["status"] == "unknown":
            assert "--resubmit-unknown" in message
        elif message.startswith("generation failed"):
            assert DEFAULT_FAILURE.message in message and DEFAULT_FAILURE.code in message


def test_faulted_run_keeps_no_corrupt_clip(faulted: FaultedRun) -> None:
    """Every clip a faulted run leaves decodes whole, and no temporary download is left behind."""
    output = faulted.pipeline.parent / "out"
    for shot in faulted.finished:
        assert_whole_clip(faulted.pipeline.parent / faulted.shots[shot]["clip"])
    clips = clip_files(output)
    assert len(clips) == len(faulted.finished)
    for clip in clips:
        assert_whole_clip(clip)
    assert not list((output / "clips").glob("*/.incoming-*")), "temporary files left behind"


def test_faulted_run_pays_at_most_once_per_attempt(faulted: FaultedRun) -> None:
    """No shot has more paid tasks than 1 + retries, and each done shot keeps its last task."""
    print("paid tasks per shot:", {shot: len(tasks) for shot, tasks in faulted.created.items()})
    print("submits received per shot:", dict(faulted.posts))
    manifest_path = faulted.pipeline.parent / "out" / "manifest.json"
    manifest = {shot["id"]: shot for shot in json.loads(manifest_path.read_text("utf-8"))["shots"]}
    for shot in PROMPTS:
        tasks = faulted.created.get(shot, [])
        assert len(tasks) <= 1 + RETRIES, f"{shot}: {len(tasks)} paid submits"
        if faulted.shots[shot]["status"] == "done":
            assert faulted.shots[shot]["task_id"] == manifest[shot]["task_id"] == tasks[-1]
        if faulted.shots[shot]["status"] == "unknown":
            assert tasks, f"{shot}: reported unknown, yet the server never created a task"


def test_rerun_after_faults_submits_only_unfinished_shots(
    faulted: FaultedRun, sim: SimServer
) -> None:
    """A rerun sends no submit for shots the faulted run finished and one for each other shot."""
    sim.clear_observations()
    rerun = run_to_end(faulted.pipeline, sim, "--resubmit-unknown")
    assert rerun.code == 0, rerun.stderr
    posts = posts_by_shot(sim, PROMPTS)
    expected = {shot: 0 if shot in faulted.finished else 1 for shot in PROMPTS}
    assert {shot: posts[shot] for shot in PROMPTS} == expected
    assert sim.counters().get(SUBMIT_KEY, 0) == len(PROMPTS) - len(faulted.finished)
    summary = rerun.shots()
    assert {shot for shot, entry in summary.items() if entry["cached"]} == faulted.finished
    for entry in summary.values():
        assert_whole_clip(faulted.pipeline.parent / entry["clip"])
    assert rerun.summary is not None
    video = probe_video(faulted.pipeline.parent / rerun.summary["output"])
    assert abs(video.duration - SECONDS * len(PROMPTS)) < 0.2


@pytest.fixture(scope="module")
def answered_5xx(sim: SimServer, tmp_path_factory: pytest.TempPathFactory) -> FaultedRun:
    """Run a two-shot pipeline whose every submit creates its task but is answered 503-ish."""
    prompts = {"ferry": "a ferry crosses a fjord at noon", "glacier": "a glacier calves"}
    pipeline = write_pipeline(tmp_path_factory.mktemp("fjord"), "fjord", prompts, sim)
    sim.faults = Faults(server_error_rate=1.0, endpoints=frozenset({"submit"}))
    try:
        result = run_to_end(pipeline, sim)
    finally:
        sim.faults = Faults()
    created = created_by_shot(sim, "fjord")
    return FaultedRun(
        pipeline, result.code, result.shots(), result.stderr, created, posts_by_shot(sim, prompts)
    )


def test_submit_answered_5xx_is_reported_unknown_and_not_resent(answered_5xx: FaultedRun) -> None:
    """A submit answered 5xx after its task was created is reported unknown and sent only once."""
    assert answered_5xx.code == 1
    assert {shot: entry["status"] for shot, entry in answered_5xx.shots.items()} == {
        "ferry": "unknown",
        "glacier": "unknown",
    }
    assert answered_5xx.posts == {"ferry": 1, "glacier": 1}
    assert {shot: len(tasks) for shot, tasks in answered_5xx.created.items()} == {
        "ferry": 1,
        "glacier": 1,
    }
    for shot, entry in answered_5xx.shots.items():
        assert "simulated upstream error" in entry["message"]
        assert f"{shot}: unknown: {entry['message']}" in answered_5xx.console


def test_unknown_submit_message_reads_once(answered_5xx: FaultedRun) -> None:
    """The unknown-outcome report says "may have been billed" once and has no doubled full stop."""
    for entry in answered_5xx.shots.values():
        message = entry["message"]
        assert ".." not in message
        assert message.count("billed") == 1
