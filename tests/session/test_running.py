"""run_pipeline below the command line: what it tells its reporter, and the files it leaves.

Runs go to the session simulator through the environment mapping passed in (no monkeypatching),
and their events are collected by the package's own test reporter.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

import rdpipe.session.running
from rdpipe.client import ClientConfig, RelayDanceClient
from rdpipe.prepare.pipeline import prepare_pipeline
from rdpipe.prices import Currency, ShotCost
from rdpipe.scheduler import GenerationApi, Phase
from rdpipe.session.connections import REQUEST_CONNECTIONS, open_api
from rdpipe.session.events import (
    CollectingRunReporter,
    PlanAnnounced,
    RunNote,
    run_in_event_loop,
)
from rdpipe.session.running import BudgetExceeded, run_pipeline
from rdpipe.session.settings import RunSettings
from rdpipe.session.summary import RunSummary
from rdpipe.sim import Faults, SimServer
from tests.cli_process import PIPELINE, write_pipeline
from tests.conftest import SIM_API_KEY

T = TypeVar("T")

ONE_SHOT = PIPELINE.replace("  - {id: b, prompt: a blue boat}\n", "")
#: The simulator finishes a task in a fraction of a second: poll it quickly.
QUICK = RunSettings(poll_interval=0.1)


def environ_for(sim: SimServer) -> dict[str, str]:
    """This process's environment, pointed at the simulator as if it were RelayDance."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDANCE_")}
    return {**environ, "RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": SIM_API_KEY}


def run(
    sim: SimServer, path: Path, reporter: CollectingRunReporter, settings: RunSettings = QUICK
) -> RunSummary:
    """One run of the pipeline at ``path`` against the simulator."""
    prepared = prepare_pipeline(path)
    return run_pipeline(prepared, settings, reporter=reporter, environ=environ_for(sim))


def manifest_of(path: Path) -> dict[str, object]:
    document: dict[str, object] = json.loads((path.parent / "out" / "manifest.json").read_text())
    return document


def test_a_run_announces_its_plan_and_ends_with_the_video_in_the_manifest(
    sim: SimServer, tmp_path: Path
) -> None:
    """The plan is announced before anything is sent, with its cost at the simulator's prices
    (2 x 4 s of 864 x 480 at ratio 5: 8 * 9,720 tokens * 5); the final manifest names the
    video."""
    path = write_pipeline(tmp_path)
    reporter = CollectingRunReporter()

    summary = run(sim, path, reporter)

    cost = ShotCost(precharge=388_800, expected=388_800)
    assert reporter.events == [
        PlanAnnounced("film", 2, 8, resumed=0, cached=0, offline=False, cost=cost,
                      currency=Currency("USD", 500_000, 1.0))
    ]  # fmt: skip
    assert [r.phase for r in summary.results] == [Phase.DONE, Phase.DONE]
    assert summary.output == tmp_path / "out" / "film.mp4" and summary.output.is_file()
    manifest = manifest_of(path)
    assert (manifest["running"], manifest["video"]) == (False, "film.mp4")
    finals = [u for u in reporter.updates if u.phase.final]
    assert sorted((u.shot_id, u.phase) for u in finals) == [("a", Phase.DONE), ("b", Phase.DONE)]


def test_a_run_and_its_cached_rerun_never_block_the_event_loop(
    sim: SimServer, tmp_path: Path, loop_file_calls: list[str]
) -> None:
    """Downloads into the clip store, the journal's commits and lookups, media verdicts, the
    manifest (as shots progress and at the end), the lock file, finding ffmpeg and the join all
    run in worker threads: a fresh run and its cached rerun make no file call and no SQL
    statement on the event loop's thread."""
    path = write_pipeline(tmp_path)

    first = run(sim, path, CollectingRunReporter())
    assert [r.phase for r in first.results] == [Phase.DONE, Phase.DONE] and first.output
    assert loop_file_calls == []

    again = run(sim, path, CollectingRunReporter())
    assert [r.phase for r in again.results] == [Phase.CACHED, Phase.CACHED]
    assert loop_file_calls == []


def test_a_cached_rerun_is_announced_idle_and_sends_nothing(sim: SimServer, tmp_path: Path) -> None:
    """A rerun of a finished pipeline reuses every clip, sends no request, and says so."""
    path = write_pipeline(tmp_path)
    run(sim, path, CollectingRunReporter())
    sim.clear_observations()
    reporter = CollectingRunReporter()

    summary = run(sim, path, reporter)

    (announced,) = reporter.events
    assert isinstance(announced, PlanAnnounced) and announced.idle and announced.cached == 2
    assert sim.counters() == {}
    assert (summary.reused, summary.output) == (2, tmp_path / "out" / "film.mp4")
    assert manifest_of(path)["video"] == "film.mp4"


def test_without_a_clip_for_every_shot_the_note_says_why_and_no_video_is_named(
    sim: SimServer, tmp_path: Path
) -> None:
    """A shot that failed leaves no video: a note says what to do, the manifest is final."""
    sim.faults = Faults(task_failure_rate=1.0)
    path = write_pipeline(tmp_path, ONE_SHOT)
    reporter = CollectingRunReporter()

    summary = run(sim, path, reporter)

    assert reporter.events[-1] == RunNote(
        "video not built: no finished take for a; deal with the reasons above and rerun "
        "(nothing paid for is lost), or pass --partial to build from the shots that did"
    )
    assert summary.output is None and not (tmp_path / "out" / "film.mp4").exists()
    manifest = manifest_of(path)
    assert (manifest["running"], manifest["video"]) == (False, None)


def test_a_run_over_the_budget_stops_before_it_announces_or_sends(
    sim: SimServer, tmp_path: Path
) -> None:
    """--max-seconds below the plan's billed seconds: refused, nothing said, nothing sent."""
    path = write_pipeline(tmp_path)
    reporter = CollectingRunReporter()

    with pytest.raises(BudgetExceeded, match="would bill 8 s of generation, above the budget"):
        run(sim, path, reporter, replace(QUICK, max_seconds=7))

    assert reporter.events == [] and sim.counters() == {}


class CountingRunner:
    """An :class:`~rdpipe.session.events.AsyncRunner` that counts the event loops it starts."""

    def __init__(self) -> None:
        self.loops = 0

    def __call__(self, work: Callable[[], Awaitable[T]], /) -> T:
        self.loops += 1
        return run_in_event_loop(work)


def rerun(sim: SimServer, path: Path) -> tuple[RunSummary, CollectingRunReporter, int]:
    """A rerun of the pipeline at ``path``: its summary, what it reported, the loops it ran."""
    reporter, runner = CollectingRunReporter(), CountingRunner()
    prepared = prepare_pipeline(path)
    summary = run_pipeline(
        prepared, QUICK, reporter=reporter, environ=environ_for(sim), run_async=runner
    )
    return summary, reporter, runner.loops


def left_by_run(path: Path) -> tuple[dict[str, object], bytes]:
    """The manifest (its time of writing left out) and the lock file a run left."""
    manifest = manifest_of(path)
    assert isinstance(manifest.pop("updated_at"), float)
    return manifest, (path.parent / "film.rdpipe.lock").read_bytes()


def test_a_rerun_with_nothing_to_do_runs_no_event_loop_and_ends_as_the_async_path_does(
    sim: SimServer, tmp_path: Path
) -> None:
    """Every shot cached and the video current: settled without an event loop, with the same
    reports, summary, manifest and lock file as the event loop's path gives for the same state
    (taken there because the video's stamp is gone, so its inputs are checked by joining)."""
    path = write_pipeline(tmp_path)
    run(sim, path, CollectingRunReporter())
    sim.clear_observations()
    stamp = tmp_path / "out" / ".cache" / "film.mp4.inputs"
    stamp.unlink()

    in_loop, loop_reporter, loops = rerun(sim, path)
    assert loops == 1 and stamp.is_file()  # the video was joined again, and stamped
    in_loop_files = left_by_run(path)
    (tmp_path / "out" / "manifest.json").unlink()
    (tmp_path / "film.rdpipe.lock").unlink()

    settled, reporter, loops = rerun(sim, path)

    assert loops == 0
    assert reporter.events == loop_reporter.events
    assert reporter.updates == loop_reporter.updates
    assert [u.phase for u in reporter.updates] == [Phase.CACHED, Phase.CACHED]
    assert (settled.results, settled.output, settled.plan) == (
        in_loop.results,
        in_loop.output,
        in_loop.plan,
    )
    assert left_by_run(path) == in_loop_files
    assert sim.counters() == {}


def test_a_cached_rerun_that_must_join_or_explain_takes_the_event_loop(
    sim: SimServer, tmp_path: Path
) -> None:
    """Settling without a loop needs a current video: one rewritten since it was built is
    joined again, and a shot without a clip is explained (without --partial), in the loop."""
    path = write_pipeline(tmp_path)
    run(sim, path, CollectingRunReporter())
    video = tmp_path / "out" / "film.mp4"
    video.write_bytes(video.read_bytes() + b"\0")  # touched since: not current

    summary, _, loops = rerun(sim, path)

    assert loops == 1 and summary.output == video and summary.reused == 2
    assert rerun(sim, path)[2] == 0  # joined again and stamped: current now

    sim.faults = Faults(task_failure_rate=1.0)
    one_shot = write_pipeline(tmp_path / "failed", ONE_SHOT)
    run(sim, one_shot, CollectingRunReporter())
    summary, reporter, loops = rerun(sim, one_shot)

    # the reads before submitting (models, prices, balance: one client), then the generation
    assert loops == 2 and summary.output is None
    assert isinstance(reporter.events[-1], RunNote)


def test_the_client_of_a_run_has_a_connection_for_each_download_and_the_requests(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client a run builds holds ``concurrency.downloads`` connections per host, plus
    :data:`~rdpipe.session.connections.REQUEST_CONNECTIONS` for submits and polls."""
    built: list[ClientConfig] = []

    @asynccontextmanager
    async def watched(*args: Any, **kwargs: Any) -> AsyncIterator[GenerationApi]:
        async with open_api(*args, **kwargs) as api:
            assert isinstance(api, RelayDanceClient)
            built.append(api.config)
            yield api

    monkeypatch.setattr(rdpipe.session.running, "open_api", watched)
    path = write_pipeline(tmp_path, PIPELINE + "concurrency: {downloads: 3}\n")

    summary = run(sim, path, CollectingRunReporter())

    assert summary.exit_code == 0
    assert [config.pool_size for config in built] == [3 + REQUEST_CONNECTIONS] == [11]


def test_a_run_of_more_tasks_than_connections_finishes(sim: SimServer, tmp_path: Path) -> None:
    """-j 64 with 16 shots in flight on a pool of 10 connections (2 downloads + 8): the polls
    and downloads share them, and every shot finishes with its clip."""
    shots = "".join(f"  - {{id: s{i}, prompt: shot number {i}}}\n" for i in range(16))
    text = PIPELINE.replace(
        "  - {id: a, prompt: a red kite}\n  - {id: b, prompt: a blue boat}\n", shots
    )
    path = write_pipeline(tmp_path, text + "concurrency: {downloads: 2}\n")

    summary = run(sim, path, CollectingRunReporter(), replace(QUICK, concurrency=64))

    assert [r.phase for r in summary.results] == [Phase.DONE] * 16
    assert summary.output is not None and summary.output.is_file()
