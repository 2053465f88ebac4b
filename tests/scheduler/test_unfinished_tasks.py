"""Paid tasks a run does not see to their end stay recorded and are said to be in flight: a
network outage while polling, --fail-fast, --timeout, a task recorded for another API host.

The relay is a scripted in-memory API on trio's MockClock: minutes of polling take milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio

from rdpipe.client import NotSent, TaskState, TaskStatus
from rdpipe.render import RenderedShot
from rdpipe.request import ContinuityFrame
from rdpipe.scheduler import CollectingReporter, Phase, ShotResult
from rdpipe.state import StateStore
from tests.scheduler import journal_runs
from tests.scheduler.journal_runs import shots


@dataclass
class Relay:
    """Tasks last ``durations[prompt]`` virtual seconds (default 30); a prompt in ``refused``
    fails with an input refusal; between ``down[0]`` and ``down[1]`` no poll gets through."""

    durations: dict[str, float] = field(default_factory=dict)
    refused: frozenset[str] = frozenset()
    down: tuple[float, float] = (0.0, 0.0)
    submitted: list[str] = field(default_factory=list)
    polls: int = 0
    _tasks: dict[str, tuple[float, str]] = field(default_factory=dict)

    async def submit(self, body: bytes) -> str:
        prompt = json.loads(body)["prompt"]
        self.submitted.append(prompt)
        task_id = f"task_{len(self.submitted):032d}"
        self._tasks[task_id] = (anyio.current_time(), prompt)
        return task_id

    async def get_task(self, task_id: str) -> TaskStatus:
        now = anyio.current_time()
        if self.down[0] <= now < self.down[1]:
            raise NotSent(f"GET /v1/video/generations/{task_id}", "[Errno 111] Connection refused")
        self.polls += 1
        started, prompt = self._tasks[task_id]
        if now - started < self.durations.get(prompt, 30.0):
            return TaskStatus(task_id, TaskState.RUNNING, progress=50)
        if prompt in self.refused:
            return TaskStatus(
                task_id,
                TaskState.FAILED,
                error_code="InputTextSensitiveContentDetected",
                error_message="The request failed because the input text may contain sensitive "
                "information.",
            )
        return TaskStatus(task_id, TaskState.SUCCEEDED, video_url="https://storage/x", seed=7)

    async def download(self, task_id: str, dest: Path, *, video_url: str | None = None) -> Any:
        dest.write_bytes(f"clip of {self._tasks[task_id][1]}".encode())
        return None


def run_once(
    tmp_path: Path, relay: Relay, rendered: list[RenderedShot], **options: Any
) -> tuple[list[ShotResult], CollectingReporter]:
    """One run, with what it reported."""
    reporter = CollectingReporter()
    return journal_runs.run_once(tmp_path, relay, rendered, reporter=reporter, **options), reporter


def in_flight(tmp_path: Path) -> list[str]:
    with StateStore.open(tmp_path / "state.db", pipeline="film", clock=lambda: 0.0) as store:
        return [task.task_id for task in store.in_flight()]


def test_polls_outlast_a_network_outage_and_say_so_once(tmp_path: Path) -> None:
    """A 10 s outage while two tasks run fails neither shot nor the run: polling goes on, and
    the outage is noted once for the run, not once per poll or per shot."""
    relay = Relay(down=(4.0, 14.0))
    results, reporter = run_once(tmp_path, relay, shots("coast", "lamp"))
    assert [(r.phase, r.submits) for r in results] == [(Phase.DONE, 1), (Phase.DONE, 1)]
    notes = [u.notice for u in reporter.updates if u.notice]
    assert notes == [
        "could not reach RelayDance to poll ([Errno 111] Connection refused); rdpipe keeps "
        "polling each task until --shot-timeout (30 min). Ctrl-C stops waiting: the tasks "
        "submitted stay recorded, and the resume command is printed",
        "RelayDance answers again: polling goes on",
    ]
    assert sorted(relay.submitted) == ["coast", "lamp"]


def test_an_outage_past_the_deadline_leaves_the_task_recorded(tmp_path: Path) -> None:
    """An outage that outlasts the shot's deadline ends the shot, never the run, and its task
    stays recorded for the next run."""
    relay = Relay(down=(1.0, 10_000.0))
    (result,), _ = run_once(tmp_path, relay, shots("coast"), shot_deadline=120.0)
    assert (result.phase, result.task_id) == (Phase.FAILED, f"task_{1:032d}")
    assert result.message == (
        f"task {result.task_id} gave no result within 2 min; it stays recorded, so rerunning "
        "picks it up without paying again"
    )
    assert in_flight(tmp_path) == [result.task_id]


def test_fail_fast_leaves_running_tasks_in_flight_and_unsent_shots_skipped(tmp_path: Path) -> None:
    """--fail-fast at the first refusal: the other shots' tasks are in flight (not failed, not a
    'deadline'), a shot not yet submitted is skipped; the rerun follows the tasks, paying none."""
    relay = Relay(durations={"refused": 5.0}, refused=frozenset({"refused"}))
    rendered = shots("refused", "coast", "lamp", "beam")
    waiting = rendered[3].request.with_content([ContinuityFrame("s1")])
    rendered[3] = replace(rendered[3], request=waiting)  # waits for s1: never submitted
    results, _ = run_once(tmp_path, relay, rendered, fail_fast=True)
    stopped = "stopped after the first failure (--fail-fast)"
    running = f"{stopped}; its task is still running and the next run follows it (no new charge)"
    assert [(r.phase, r.message) for r in results[1:]] == [
        (Phase.IN_FLIGHT, running),
        (Phase.IN_FLIGHT, running),
        (Phase.SKIPPED, f"{stopped}; nothing was submitted for it"),
    ]
    assert results[0].phase is Phase.FAILED
    assert sorted(r.task_id or "" for r in results[1:3]) == sorted(in_flight(tmp_path))
    rerun, _ = run_once(tmp_path, relay, rendered)
    assert [(r.phase, r.submits) for r in rerun[1:]] == [(Phase.DONE, 0)] * 2 + [(Phase.DONE, 1)]
    assert sorted(relay.submitted) == ["beam", "coast", "lamp", "refused"]


def test_timeout_names_the_time_limit_not_a_deadline_of_its_own(tmp_path: Path) -> None:
    """--timeout stops the run: a running task is in flight, with --timeout named as the cause."""
    (result,), _ = run_once(tmp_path, Relay(), shots("coast"), run_deadline=10.0)
    assert (result.phase, result.message) == (
        Phase.IN_FLIGHT,
        "the run's time limit (--timeout) passed; its task is still running and the next run "
        "follows it (no new charge)",
    )


def test_a_task_submitted_to_another_host_is_not_polled_there(tmp_path: Path) -> None:
    """A task recorded for host A is not polled by a run talking to host B (no GET, no POST):
    the shot is unknown with both hosts named; back on A it is followed, paying nothing."""
    rendered = shots("coast")
    first = Relay(durations={"coast": 3600.0})
    run_once(tmp_path, first, rendered, shot_deadline=60.0, api_host="a.example:443")
    other = Relay()
    (elsewhere,), _ = run_once(tmp_path, other, rendered, api_host="b.example")
    assert (elsewhere.phase, other.submitted, other.polls) == (Phase.UNKNOWN, [], 0)
    assert elsewhere.message == (
        f"task {elsewhere.task_id} was submitted to a.example:443, but RELAYDANCE_BASE_URL points "
        "at b.example, so it is not polled there. It stays recorded: set RELAYDANCE_BASE_URL back "
        "to the server at a.example:443 and rerun to follow it (no new charge), or rerun with "
        "--resubmit-unknown to pay for a new one at b.example"
    )
    first.durations.clear()
    (back,), _ = run_once(tmp_path, first, rendered, api_host="a.example:443")
    assert (back.phase, back.submits, first.submitted) == (Phase.DONE, 0, ["coast"])
