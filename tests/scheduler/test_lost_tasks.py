"""Servers that forget tasks or hand out a task id twice: shots finish or fail clearly, never wedge.

The relay here is a scripted in-memory API on trio's MockClock. A new ``Relay`` is a restarted
server: it has forgotten every task and counts its ids from 1 again, as the seeded offline
simulator did (issue 10).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from rdpipe.client import TaskNotFound, TaskState, TaskStatus
from rdpipe.render import RenderedShot
from rdpipe.scheduler import Phase, ShotResult
from tests.scheduler.journal_runs import run_once, shots


@dataclass
class Relay:
    """Tasks last ``duration`` virtual seconds; ids count from 1, or are all ``same_id``."""

    duration: float = 30.0
    same_id: str | None = None
    submitted: list[str] = field(default_factory=list)
    _tasks: dict[str, tuple[float, str]] = field(default_factory=dict)

    async def submit(self, body: bytes) -> str:
        prompt = json.loads(body)["prompt"]
        self.submitted.append(prompt)
        task_id = self.same_id or f"task_{len(self.submitted):032d}"
        self._tasks[task_id] = (anyio.current_time(), prompt)
        return task_id

    async def get_task(self, task_id: str) -> TaskStatus:
        if task_id not in self._tasks:
            raise TaskNotFound("GET /v1/videos", 400, "task_not_exist", "", task_id=task_id)
        started, _ = self._tasks[task_id]
        if anyio.current_time() - started < self.duration:
            return TaskStatus(task_id, TaskState.RUNNING, progress=50)
        return TaskStatus(task_id, TaskState.SUCCEEDED, video_url="https://storage/x", seed=7)

    async def download(self, task_id: str, dest: Path, *, video_url: str | None = None) -> Any:
        dest.write_bytes(f"clip of {self._tasks[task_id][1]}".encode())
        return None


def clip_text(tmp_path: Path, result: ShotResult) -> bytes:
    assert result.clip is not None and result.clip.path == tmp_path / "out" / result.clip.relative
    return result.clip.path.read_bytes()


def stop_mid_generation(tmp_path: Path, rendered: list[RenderedShot]) -> None:
    """A first run whose tasks outlive it: they stay journaled in flight."""
    results = run_once(tmp_path, Relay(duration=3600.0), rendered, shot_deadline=60.0)
    assert [r.phase for r in results] == [Phase.FAILED] * len(rendered)


def test_offline_a_forgotten_task_is_resubmitted_under_a_reissued_id(tmp_path: Path) -> None:
    """A restarted server knows no earlier task and gives out the same ids again: offline, the
    shots are submitted again at once (free) and finish with their own clips."""
    rendered = shots("coast", "lamp")
    stop_mid_generation(tmp_path, rendered)
    restarted = Relay()
    results = run_once(tmp_path, restarted, rendered, resubmit_lost=True)
    assert [(r.phase, r.submits) for r in results] == [(Phase.DONE, 1), (Phase.DONE, 1)]
    assert sorted(r.task_id or "" for r in results) == [f"task_{n:032d}" for n in (1, 2)]
    assert [clip_text(tmp_path, r) for r in results] == [b"clip of coast", b"clip of lamp"]
    assert run_once(tmp_path, Relay(), rendered)[0].phase is Phase.CACHED


def test_online_a_task_the_server_does_not_know_stays_recorded_until_the_user_pays_again(
    tmp_path: Path,
) -> None:
    """Online, a task the server asked does not know is never given up on that word alone: the
    shot is unknown, nothing is sent, a rerun asks again; only --resubmit-unknown pays anew."""
    rendered = shots("coast")
    stop_mid_generation(tmp_path, rendered)
    other = Relay()  # another API key, another server, or a relay that dropped the task
    for _ in range(2):
        (lost,) = run_once(tmp_path, other, rendered)
        assert (lost.phase, lost.submits, other.submitted) == (Phase.UNKNOWN, 0, [])
    assert lost.message == (
        f"RelayDance has no task {lost.task_id} (400 task_not_exist); an earlier run submitted "
        "it. It stays recorded and is not submitted again: if it was submitted with another API "
        "key or server, set RELAYDANCE_API_KEY and RELAYDANCE_BASE_URL back to those and rerun "
        "to follow it (no new charge); if RelayDance no longer keeps it, rerun with "
        "--resubmit-unknown to pay for a new one"
    )
    (done,) = run_once(tmp_path, other, rendered, resubmit_unknown=True)
    assert (done.phase, done.submits, other.submitted) == (Phase.DONE, 1, ["coast"])
    assert clip_text(tmp_path, done) == b"clip of coast"


def test_a_server_answering_one_id_for_every_submit_never_crashes_the_run(
    tmp_path: Path,
) -> None:
    """One after another, every shot finishes under the same id with its own clip; at once, the
    shot whose id was taken over fails with a clear reason and the rerun finishes it."""
    rendered = shots("coast", "lamp")
    one_by_one = run_once(tmp_path / "a", Relay(same_id="task_same"), rendered, tasks=1)
    assert [r.phase for r in one_by_one] == [Phase.DONE, Phase.DONE]
    assert [clip_text(tmp_path / "a", r) for r in one_by_one] == [b"clip of coast", b"clip of lamp"]

    relay = Relay(same_id="task_same")
    together = run_once(tmp_path / "b", relay, rendered, tasks=2)
    assert sorted(r.phase.value for r in together) == ["done", "failed"]
    (lost,) = [r for r in together if r.phase is Phase.FAILED]
    assert lost.message == (
        f"task task_same of shot '{lost.shot_id}' can no longer be followed: the server has since "
        "given its id to another submit; rerun to submit the shot anew"
    )
    rerun = run_once(tmp_path / "b", relay, rendered, tasks=2)
    assert sorted(r.phase.value for r in rerun) == ["cached", "done"]
    assert [clip_text(tmp_path / "b", r) for r in rerun] == [b"clip of coast", b"clip of lamp"]
