"""The adaptive gate (AIMD) on a virtual clock: its bound over a sequence of 429s and successes,
and the scheduler under a relay whose per-key gate refuses requests over its limit.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from trio.testing import MockClock

from rdpipe.client import ConcurrencyLimitReached, TaskState, TaskStatus
from rdpipe.plan import plan_run
from rdpipe.scheduler import (
    OFFLINE_POLLING,
    CollectingReporter,
    GateChanged,
    Phase,
    SchedulerOptions,
    ShotResult,
)
from rdpipe.scheduler.gate import AdaptiveGate, Sent
from rdpipe.scheduler.scheduler import Scheduler
from rdpipe.state import ClipStore, StateStore
from tests.scheduler.journal_runs import run_inline, shots

_T = TypeVar("_T")


def _on_mock_clock(main: Callable[[], Awaitable[_T]]) -> _T:
    return anyio.run(
        main, backend="trio", backend_options={"clock": MockClock(autojump_threshold=0)}
    )


def _gated() -> ConcurrencyLimitReached:
    return ConcurrencyLimitReached(
        "GET /v1/video/generations/task_1", 429, "token_concurrency_limit_reached", "busy"
    )


def test_slow_start_doubles_the_bound_up_to_the_ceiling() -> None:
    """A gate starts at 8 and doubles after 8, then 16 answers in a row with the bound full."""
    changes: list[GateChanged] = []
    gate = AdaptiveGate(32, on_change=changes.append)
    limits = [gate.limit]
    for _ in range(40):
        gate.succeeded(Sent(flight=gate.limit, cuts=0))
        limits.append(gate.limit)
    assert limits[:9] == [8] * 8 + [16]
    assert limits[9:25] == [16] * 15 + [32]
    assert limits[-1] == 32 and gate.limit == 32
    assert [(c.limit, c.ceiling, c.lowered) for c in changes] == [(16, 32, False), (32, 32, False)]
    assert AdaptiveGate(3).limit == 3  # a ceiling below the start


def test_a_burst_of_429s_halves_the_bound_once() -> None:
    """Answers to requests sent before a cut change nothing after it; one sent after it halves
    again (from the flight it was sent with, if lower), down to the floor, never below."""
    changes: list[GateChanged] = []
    gate = AdaptiveGate(32, on_change=changes.append)
    limits = []
    for _ in range(5):  # a burst: the requests sent together answer together
        gate.overloaded(Sent(flight=8, cuts=0))
    limits.append(gate.limit)
    for cuts in (1, 2, 3, 4):
        gate.overloaded(Sent(flight=gate.limit, cuts=cuts))
        limits.append(gate.limit)
    assert limits == [4, 2, 1, 1, 1]
    assert gate.rejections == 9
    assert [(c.limit, c.lowered) for c in changes] == [(4, True), (2, True), (1, True)]
    assert changes[0].shown == "concurrency 4/32"
    assert changes[0].message == (
        "the relay's concurrency gate is full (429 token_concurrency_limit_reached): "
        "concurrency 4/32, raised again as requests pass"
    )
    fewer = AdaptiveGate(32)
    fewer.overloaded(Sent(flight=3, cuts=0))  # 3 were in flight, not 8
    assert fewer.limit == 1


def test_successes_raise_the_bound_by_one_per_probe_in_a_row() -> None:
    """After a cut to 4: 8 answers with the bound full (the probe, more than the bound) raise
    it to 5, 8 more to 6; answers sent with the bound not full, or before the cut, do not
    count; a cut after a raise doubles the probe (16), so a gate that refuses the step up
    is probed half as often."""
    gate = AdaptiveGate(16)
    gate.overloaded(Sent(flight=8, cuts=0))
    assert gate.limit == 4
    gate.succeeded(Sent(flight=8, cuts=0))  # sent before the cut
    gate.succeeded(Sent(flight=2, cuts=1))  # the bound was not full
    assert gate.limit == 4
    seen = []
    for _ in range(20):
        gate.succeeded(Sent(flight=gate.limit, cuts=1))
        seen.append(gate.limit)
    assert seen == [4] * 7 + [5] * 8 + [6] * 5
    gate.overloaded(Sent(flight=6, cuts=1))
    assert gate.limit == 3
    for _ in range(15):
        gate.succeeded(Sent(flight=3, cuts=2))
    assert gate.limit == 3
    gate.succeeded(Sent(flight=3, cuts=2))
    assert gate.limit == 4  # additive now, not doubling


def test_a_gate_of_1_is_probed_ever_less_often() -> None:
    """The relay admits one request: each step up to 2 meets the gate and is cut back to 1;
    the bound is raised after 8, then 16, 32 and 64 answers (not after each one)."""
    gate = AdaptiveGate(16)
    gate.overloaded(Sent(flight=2, cuts=0))
    assert gate.limit == 1
    steps = []
    for _ in range(5):
        answers = 0
        while gate.limit == 1:
            gate.succeeded(Sent(flight=1, cuts=gate._cuts))
            answers += 1
        steps.append(answers)
        gate.overloaded(Sent(flight=2, cuts=gate._cuts))
    assert steps == [8, 16, 32, 64, 64]


def test_plain_backoff_keeps_the_bound() -> None:
    """Not adaptive: 429s are counted, the bound stays at the ceiling, nothing is reported."""
    changes: list[GateChanged] = []
    gate = AdaptiveGate(32, adaptive=False, on_change=changes.append)
    assert gate.limit == 32
    for cuts in range(3):
        gate.overloaded(Sent(flight=32, cuts=cuts))
    gate.succeeded(Sent(flight=32, cuts=0))
    assert (gate.limit, gate.rejections, changes) == (32, 3, [])


def test_a_lowered_bound_holds_requests_back() -> None:
    """After a cut to 2, at most 2 requests are in the gate at once, others wait their turn."""

    async def main() -> int:
        gate = AdaptiveGate(8)
        gate.overloaded(Sent(flight=8, cuts=0))
        gate.overloaded(Sent(flight=8, cuts=0))  # sent before the cut: still 4
        gate.overloaded(Sent(flight=4, cuts=1))  # 2
        inside = most = 0

        async def request() -> None:
            nonlocal inside, most
            async with gate.slot():
                inside += 1
                most = max(most, inside)
                await anyio.sleep(0.1)
                inside -= 1

        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(request)
        return most

    assert _on_mock_clock(main) == 2


def test_call_sends_again_after_a_jittered_pause() -> None:
    """A poll the gate refused twice is sent a third time, after two pauses; the answer comes
    back; other errors are not retried."""
    answers: list[str] = []

    async def main() -> tuple[str, float]:
        gate = AdaptiveGate(4, rng=random.Random(3))
        start = anyio.current_time()

        async def poll() -> str:
            answers.append("asked")
            if len(answers) < 3:
                raise _gated()
            return "running"

        said = await gate.call(poll)

        async def broken() -> str:
            raise ValueError("not the gate")

        with pytest.raises(ValueError):
            await gate.call(broken)
        return said, anyio.current_time() - start

    said, waited = _on_mock_clock(main)
    assert said == "running" and len(answers) == 3
    # pauses of 0.25 s then 0.5 s, each jittered by +-50 %
    assert 0.375 <= waited <= 1.125


def test_a_gate_needs_a_sensible_range() -> None:
    with pytest.raises(ValueError, match="floor <= ceiling"):
        AdaptiveGate(2, floor=3)


@dataclass
class GatedRelay:
    """A relay with a per-key gate: each request is in flight ``hold`` virtual seconds, and one
    arriving while ``limit`` are in flight is refused with 429 token_concurrency_limit_reached
    (submits and polls alike). Tasks finish ``duration`` seconds after their submit."""

    limit: int
    hold: float = 0.05
    duration: float = 20.0
    in_flight: int = 0
    most_in_flight: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # "submit"/"poll" -> 429s
    created: list[str] = field(default_factory=list)
    _started: dict[str, float] = field(default_factory=dict)

    @property
    def api_host(self) -> str | None:
        return None

    async def _through_gate(self, kind: str) -> None:
        if self.in_flight >= self.limit:
            await anyio.sleep(0.005)  # the refusal takes a moment too
            self.rejected[kind] += 1
            raise _gated()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await anyio.sleep(self.hold)
        finally:
            self.in_flight -= 1

    async def submit(self, body: bytes) -> str:
        await self._through_gate("submit")
        task_id = f"task_{len(self.created):032d}"
        self.created.append(task_id)
        self._started[task_id] = anyio.current_time()
        return task_id

    async def get_task(self, task_id: str) -> TaskStatus:
        await self._through_gate("poll")
        if anyio.current_time() - self._started[task_id] < self.duration:
            return TaskStatus(task_id, TaskState.RUNNING, progress=50)
        return TaskStatus(task_id, TaskState.SUCCEEDED, video_url="https://storage/x", seed=1)

    async def download(self, task_id: str, dest: Path, **_: Any) -> None:
        dest.write_bytes(f"clip of {task_id}".encode())


def _gated_run(tmp_path: Path, *, adaptive: bool) -> tuple[GatedRelay, list[Phase], int]:
    """40 shots at 32 tasks against a gate of 4, polled quickly (as offline): the relay, each
    shot's phase and the submits journalled as refused."""
    relay = GatedRelay(limit=4)
    rendered = shots(*[f"p{i}" for i in range(40)])
    plan = plan_run("film", rendered)
    options = SchedulerOptions(tasks=32, polling=OFFLINE_POLLING, adaptive_gate=adaptive)

    async def main() -> list[ShotResult]:
        with StateStore.open(tmp_path / "state.db", pipeline="film", clock=time.time) as store:
            scheduler = Scheduler(
                api=relay,
                journal=store,
                clips=ClipStore(tmp_path / "out"),
                reporter=CollectingReporter(),
                options=options,
                probe=_probe,
                extract_frame=_extract,
                rng=random.Random(1),
                blocking=run_inline,
            )
            results = await scheduler.run(plan.jobs)
            assert scheduler.gate_rejections == relay.rejected.total()
            return results

    results = _on_mock_clock(main)
    with sqlite3.connect(tmp_path / "state.db") as db:
        (refused,) = db.execute("SELECT count(*) FROM intents WHERE outcome = 'refused'").fetchone()
    return relay, [result.phase for result in results], refused


async def _probe(path: Path) -> float:
    return 5.0


async def _extract(clip: Path, dest: Path) -> Path:
    dest.write_bytes(b"last frame")
    return dest


def test_the_scheduler_rides_a_gate_of_4_at_32_tasks(tmp_path: Path) -> None:
    """40 shots at -j 32 against a gate of 4: every shot done with one task (a refused submit
    created nothing and is no attempt), each refused submit journalled as refused, and far
    fewer 429s than with plain back-off."""
    relay, phases, refused = _gated_run(tmp_path / "aimd", adaptive=True)
    plain, plain_phases, plain_refused = _gated_run(tmp_path / "plain", adaptive=False)
    assert phases == [Phase.DONE] * 40 and plain_phases == [Phase.DONE] * 40
    assert len(relay.created) == 40 and len(plain.created) == 40
    assert (refused, plain_refused) == (relay.rejected["submit"], plain.rejected["submit"])
    assert relay.most_in_flight <= 4
    # Measured: 24 to 26 gate answers with the adaptive gate (6 or 7 of them submits, at the
    # slow start's opening), 92 with plain back-off (43 submits).
    adaptive_429s, plain_429s = relay.rejected.total(), plain.rejected.total()
    assert 1 <= adaptive_429s <= 40 and relay.rejected["submit"] <= 10
    assert plain_429s >= 2 * adaptive_429s
