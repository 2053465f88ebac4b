"""Knobs of one run: parallelism, polling cadence, deadlines and what to do on failure."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class PollSchedule:
    """When to poll a task: after ``first`` s, then times ``factor`` with jitter, up to ``cap``.

    Generation takes minutes, so polls are spread out: a three-minute task costs about eight
    polls with the defaults. Jitter (±``jitter`` of the delay) keeps many tasks from polling in
    lockstep.
    """

    first: float = 7.5
    factor: float = 1.5
    cap: float = 30.0
    jitter: float = 0.2

    def delays(self, rng: random.Random) -> _Delays:
        return _Delays(self, rng)

    @classmethod
    def every(cls, seconds: float) -> PollSchedule:
        """A schedule starting at ``seconds`` and backing off to four times that."""
        return cls(first=seconds, cap=4 * seconds)


class _Delays:
    def __init__(self, schedule: PollSchedule, rng: random.Random) -> None:
        self._schedule = schedule
        self._rng = rng
        self._next = schedule.first

    def __iter__(self) -> _Delays:
        return self

    def __next__(self) -> float:
        base = self._next
        self._next = min(self._schedule.cap, base * self._schedule.factor)
        spread = base * self._schedule.jitter
        return max(0.0, base + self._rng.uniform(-spread, spread))


#: A quick cadence for the local simulator, whose tasks take a second or two.
OFFLINE_POLLING = PollSchedule(first=0.3, factor=1.5, cap=1.0, jitter=0.1)


@dataclass(frozen=True)
class SchedulerOptions:
    """How one run schedules its shots."""

    tasks: int = 4  # generation tasks in flight at once (submitted, not yet finished)
    downloads: int = 4  # clip downloads at once
    polling: PollSchedule = PollSchedule()
    shot_deadline: float = 30 * 60.0  # seconds from submit until a task is given up on
    run_deadline: float | None = None  # seconds for the whole run
    fail_fast: bool = False  # stop everything at the first failed shot
    resubmit_unknown: bool = False  # submit again over a submit whose outcome is unknown
