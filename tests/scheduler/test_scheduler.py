"""The scheduler on a virtual clock: parallelism, polling cadence, retries, money rules, DAG.

A scripted in-memory API stands in for RelayDance and trio's MockClock jumps over every wait,
so minutes of polling take milliseconds and poll counts are exact.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from trio.testing import MockClock

from rdpipe.client import InvalidRequest, SubmitOutcomeUnknown, TaskState, TaskStatus
from rdpipe.plan import Action, plan_run
from rdpipe.render import RenderedShot
from rdpipe.request import ContinuityFrame, GenerationRequest
from rdpipe.scheduler import (
    CollectingReporter,
    Outcome,
    Phase,
    PollSchedule,
    SchedulerOptions,
    ShotResult,
)
from rdpipe.scheduler.scheduler import Scheduler
from rdpipe.state import ClipStore, StateStore, StoredClip
from tests.scheduler.journal_runs import run_inline, shots


@dataclass
class ScriptedApi:
    """Tasks take ``duration`` virtual seconds; prompts can be set to fail or to get lost."""

    duration: float = 180.0
    fail_times: dict[str, int] = field(default_factory=dict)  # prompt -> failures before success
    lost: set[str] = field(default_factory=set)  # prompts whose submit outcome is unknown
    refused: set[str] = field(default_factory=set)
    submitted: list[dict[str, Any]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)  # as POSTed, byte for byte
    polls: Counter[str] = field(default_factory=Counter)
    destinations: list[Path] = field(default_factory=list)  # where each download was written
    in_flight: int = 0
    most_in_flight: int = 0
    _tasks: dict[str, tuple[float, bool]] = field(default_factory=dict)
    _done: set[str] = field(default_factory=set)

    async def submit(self, body: bytes) -> str:
        self.bodies.append(body)
        self.submitted.append(json.loads(body))
        prompt = self.submitted[-1]["prompt"]
        if prompt in self.lost:
            raise SubmitOutcomeUnknown("POST /v1/video/generations", "read timeout")
        if prompt in self.refused:
            raise InvalidRequest("POST", 400, "invalid_request", "prompt is not allowed")
        failing = self.fail_times.get(prompt, 0) > 0
        if failing:
            self.fail_times[prompt] -= 1
        task_id = f"task_{len(self.submitted):032d}"
        self._tasks[task_id] = (anyio.current_time(), failing)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        return task_id

    async def get_task(self, task_id: str) -> TaskStatus:
        self.polls[task_id] += 1
        started, failing = self._tasks[task_id]
        elapsed = anyio.current_time() - started
        if elapsed < self.duration:
            progress = max(1, min(99, int(99 * elapsed / self.duration)))  # 1-99, as the relay
            return TaskStatus(task_id, TaskState.RUNNING, progress=progress)
        if task_id not in self._done:
            self._done.add(task_id)
            self.in_flight -= 1
        if failing:
            return TaskStatus(
                task_id,
                TaskState.FAILED,
                error_code="OutputVideoSensitiveContentDetected",
                error_message="The output video may contain sensitive content",
            )
        return TaskStatus(task_id, TaskState.SUCCEEDED, video_url="https://storage/x", seed=7)

    async def download(self, task_id: str, dest: Path, *, video_url: str | None = None) -> Any:
        self.destinations.append(dest)
        dest.write_bytes(f"clip of {task_id}".encode())
        return None


async def _probe(path: Path) -> float:
    assert path.read_bytes().startswith(b"clip of ")
    return 5.0


async def _extract(clip: Path, dest: Path) -> Path:
    dest.write_bytes(b"\x89PNG frame of " + clip.read_bytes())
    return dest


def run_scheduler(
    tmp_path: Path,
    api: ScriptedApi,
    rendered: list[RenderedShot],
    options: SchedulerOptions | None = None,
    callback_url: Callable[[str], str] | None = None,
) -> tuple[list[ShotResult], CollectingReporter, float]:
    """Run the plan of ``rendered`` on a virtual clock; returns results, updates, virtual time.

    ``callback_url``: the run's webhook of each take, set on its job as the session does.
    """
    reporter = CollectingReporter()
    plan = plan_run("film", rendered)
    jobs = plan.jobs
    if callback_url is not None:
        jobs = [job.with_webhook(callback_url(job.shot.label)) for job in jobs]
    elapsed = 0.0

    async def main() -> list[ShotResult]:
        nonlocal elapsed
        with StateStore.open(tmp_path / "state.db", pipeline="film", clock=lambda: 0.0) as store:
            scheduler = Scheduler(
                api=api,
                journal=store,
                clips=ClipStore(tmp_path / "out"),
                reporter=reporter,
                options=options or SchedulerOptions(),
                probe=_probe,
                extract_frame=_extract,
                rng=random.Random(1),
                blocking=run_inline,  # worker threads would let the virtual clock jump
            )
            start = anyio.current_time()
            results = await scheduler.run(jobs)
            elapsed = anyio.current_time() - start
            return results

    results = anyio.run(
        main, backend="trio", backend_options={"clock": MockClock(autojump_threshold=0)}
    )
    return results, reporter, elapsed


def test_bounded_parallelism_and_makespan(tmp_path: Path) -> None:
    """12 three-minute shots at concurrency 4 take 3 waves, never more than 4 tasks at once."""
    api = ScriptedApi(duration=180.0)
    options = SchedulerOptions(tasks=4, polling=PollSchedule(first=8, cap=30, jitter=0.0))
    results, _, elapsed = run_scheduler(
        tmp_path, api, shots(*[f"p{i}" for i in range(12)]), options
    )
    assert [r.phase for r in results] == [Phase.DONE] * 12
    assert api.most_in_flight <= 4
    assert len(api.submitted) == 12
    ideal = 3 * 180.0
    assert ideal <= elapsed <= ideal * 1.10


def test_polls_back_off_and_stay_few(tmp_path: Path) -> None:
    """Polling starts after 8 s and backs off x1.5 to 30 s: a 3-minute task costs 8 polls."""
    api = ScriptedApi(duration=180.0)
    options = SchedulerOptions(polling=PollSchedule(first=8, factor=1.5, cap=30, jitter=0.0))
    run_scheduler(tmp_path, api, shots("a"), options)
    # waits: 8, 12, 18, 27, 30, 30, 30, 30 -> 185 s >= 180 s at the 8th poll
    assert list(api.polls.values()) == [8]


def test_progress_brings_the_last_poll_close_to_the_end(tmp_path: Path) -> None:
    """A 200 s task is seen finished within 2 s of its end, not a whole 30 s step later."""
    api = ScriptedApi(duration=200.0)
    options = SchedulerOptions(polling=PollSchedule(first=8, factor=1.5, cap=30, jitter=0.0))
    _, _, elapsed = run_scheduler(tmp_path, api, shots("a"), options)
    # Backoff alone polls at 185 s and then 215 s; the progress rate points at 200 s.
    assert 200.0 <= elapsed <= 202.0
    assert list(api.polls.values()) == [9]


def test_failed_generation_is_resubmitted_then_reported(tmp_path: Path) -> None:
    """A moderated task is resubmitted up to `retries` times, then reported with its reason."""
    api = ScriptedApi(duration=30.0, fail_times={"bad": 5, "flaky": 1})
    results, reporter, _ = run_scheduler(tmp_path, api, shots("bad", "flaky", "fine", retries=1))
    bad, flaky, fine = results
    assert bad.phase is Phase.FAILED
    assert bad.message == (
        "generation failed: The output video may contain sensitive content "
        "(OutputVideoSensitiveContentDetected); 2 attempts failed, each refunded (not billed)"
    )
    assert bad.outcome is Outcome.REFUNDED
    assert flaky.phase is Phase.DONE and flaky.submits == 2
    assert flaky.message == (
        "output video refused (OutputVideoSensitiveContentDetected); generated again "
        "(refunded, not billed)"
    )
    assert fine.phase is Phase.DONE and fine.submits == 1
    assert Counter(body["prompt"] for body in api.submitted) == {"bad": 2, "flaky": 2, "fine": 1}
    assert any(u.attempt == 2 and u.shot_id == "s0" for u in reporter.updates)


def test_unknown_submit_is_never_resent(tmp_path: Path) -> None:
    """A submit with an unknown outcome is recorded and reported, not resubmitted."""
    api = ScriptedApi(duration=30.0, lost={"lost"})
    results, _, _ = run_scheduler(tmp_path, api, shots("lost", "ok", retries=3))
    assert results[0].phase is Phase.UNKNOWN
    assert "will not resend it" in (results[0].message or "")
    assert [body["prompt"] for body in api.submitted].count("lost") == 1
    with StateStore.open(tmp_path / "state.db", pipeline="film", clock=lambda: 0.0) as store:
        assert [i.shot_id for i in store.unknown_submits()] == ["s0"]


def test_refused_submit_fails_with_the_server_reason(tmp_path: Path) -> None:
    """A 400 refusal fails the shot with the server's message; other shots finish."""
    api = ScriptedApi(duration=30.0, refused={"no"})
    results, _, _ = run_scheduler(tmp_path, api, shots("no", "yes"))
    assert results[0].phase is Phase.FAILED
    assert "prompt is not allowed" in (results[0].message or "")
    assert results[1].phase is Phase.DONE


def test_fail_fast_stops_the_rest(tmp_path: Path) -> None:
    """With fail_fast, the first failure cancels shots still waiting for a slot."""
    api = ScriptedApi(duration=30.0, refused={"no"})
    options = SchedulerOptions(tasks=1, fail_fast=True, polling=PollSchedule(first=1, cap=4))
    results, _, _ = run_scheduler(tmp_path, api, shots("no", "a", "b", "c", "d"), options)
    assert results[0].phase is Phase.FAILED
    assert api.submitted[-1]["prompt"] == "no", "nothing is submitted after the failure"
    skipped = [r for r in results if r.phase is Phase.SKIPPED]
    assert len(skipped) == len(results) - len(api.submitted)


def test_shot_deadline_keeps_the_task_for_later(tmp_path: Path) -> None:
    """A task past the per-shot deadline fails with advice; its id stays recorded as in flight."""
    api = ScriptedApi(duration=3600.0)
    options = SchedulerOptions(shot_deadline=600.0)
    results, _, elapsed = run_scheduler(tmp_path, api, shots("slow"), options)
    assert results[0].phase is Phase.FAILED
    assert "gave no result within 10 min" in (results[0].message or "")
    assert 600 <= elapsed < 660
    with StateStore.open(tmp_path / "state.db", pipeline="film", clock=lambda: 0.0) as store:
        assert [t.task_id for t in store.in_flight()] == [results[0].task_id]


def test_continuity_waits_for_the_last_frame(tmp_path: Path) -> None:
    """A shot starting from another's last frame is submitted after it, with that frame inline."""
    rendered = shots("day", "other")
    request = GenerationRequest("m", "night", "5").with_content([ContinuityFrame("s0")])
    night = RenderedShot(index=2, id="night", request=request)
    api = ScriptedApi(duration=60.0)
    results, _, _ = run_scheduler(tmp_path, api, [night, *rendered])
    assert [r.phase for r in results] == [Phase.DONE] * 3
    order = [body["prompt"] for body in api.submitted]
    assert order.index("night") > order.index("day")
    url = api.submitted[order.index("night")]["metadata"]["content"][0]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")


def test_sent_body_gets_the_frame_and_the_webhook_the_journal_no_webhook(tmp_path: Path) -> None:
    """The POST is the rendered request plus the last frame and the run's webhook, byte for
    byte; the journal keeps the request with the frame summarised and the file's callback."""
    request = (
        GenerationRequest("m", "night", "5")
        .with_callback("https://mine.test/cb")
        .with_content([ContinuityFrame("s0")])
    )
    night = RenderedShot(index=1, id="night", request=request)
    api = ScriptedApi(duration=60.0)
    hooks = "http://127.0.0.1:9/hook/s3cret/{}".format
    results, _, _ = run_scheduler(tmp_path, api, [*shots("day"), night], callback_url=hooks)
    assert [r.phase for r in results] == [Phase.DONE, Phase.DONE]
    frame = b"\x89PNG frame of clip of task_" + b"1".rjust(32, b"0")
    encoded = base64.b64encode(frame)
    assert api.bodies[1] == (
        b'{"metadata":{"callback_url":"http://127.0.0.1:9/hook/s3cret/night","content":['
        b'{"image_url":{"url":"data:image/png;base64,' + encoded + b'"},"role":"first_frame",'
        b'"type":"image_url"}]},"model":"m","prompt":"night","seconds":"5"}'
    )
    digest = hashlib.sha256(encoded).hexdigest()[:16]
    with sqlite3.connect(tmp_path / "state.db") as journal:
        (kept,) = journal.execute("SELECT request_json FROM intents WHERE shot_id = 'night'")
    assert kept[0] == (
        '{"metadata":{"callback_url":"https://mine.test/cb","content":[{"image_url":{"url":'
        f'"data:image/png;base64,<{len(encoded)} characters omitted, sha256 {digest}>"}},'
        '"role":"first_frame","type":"image_url"}]},"model":"m","prompt":"night","seconds":"5"}'
    )
    assert request.continues_from == "s0"  # the rendered request, and so its key, is unchanged


def test_a_clip_is_downloaded_where_the_store_says_and_adopted_into_its_place(
    tmp_path: Path,
) -> None:
    """The download writes the store's temporary file for its task; the result carries the clip
    the store adopted from it (place, file, size, hash), and nothing else stays beside it."""
    api = ScriptedApi(duration=10.0)
    (result,), _, _ = run_scheduler(tmp_path, api, shots("dawn"))
    folder, key = tmp_path / "out" / "clips" / "s0", plan_run("film", shots("dawn")).jobs[0].key
    assert api.destinations == [folder / f".incoming-{result.task_id}.mp4"]
    data = f"clip of {result.task_id}".encode()
    place = f"clips/s0/1-{key[:12]}.mp4"
    stored = StoredClip(
        place, tmp_path / "out" / place, len(data), hashlib.sha256(data).hexdigest()
    )
    assert result.clip == stored
    assert [path.name for path in folder.iterdir()] == [stored.path.name]
    assert stored.path.read_bytes() == data


def test_plan_decisions_are_honoured(tmp_path: Path) -> None:
    """REUSE and BLOCKED jobs send nothing; duplicates share the first shot's clip."""
    api = ScriptedApi(duration=10.0)
    rendered = shots("same", "same")
    results, _, _ = run_scheduler(tmp_path, api, rendered)
    assert len(api.submitted) == 1
    assert results[1].phase is Phase.CACHED and results[1].clip == results[0].clip
    plan = plan_run("film", rendered)
    assert [job.action for job in plan.jobs] == [Action.GENERATE, Action.REUSE]


@pytest.mark.parametrize("count", [200])
def test_many_shots_keep_polls_low(tmp_path: Path, count: int) -> None:
    """200 shots at concurrency 16: makespan within 10% of ideal, about 9 polls per task."""
    api = ScriptedApi(duration=180.0)
    options = SchedulerOptions(tasks=16, downloads=8)
    results, _, elapsed = run_scheduler(
        tmp_path, api, shots(*[f"p{i}" for i in range(count)]), options
    )
    assert all(r.phase is Phase.DONE for r in results)
    waves = -(-count // 16)
    assert elapsed <= waves * 180.0 * 1.10
    assert sum(api.polls.values()) / count <= 10
