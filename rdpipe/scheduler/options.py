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


class FinishEstimate:
    """When will a running task finish? Extrapolated from its last two progress readings.

    Used to poll close to the expected end instead of up to a whole backoff step after it:
    without it a task is seen finished, on average, half a capped delay late.
    """

    def __init__(self) -> None:
        self._readings: list[tuple[float, int]] = []

    def add(self, now: float, progress: int | None) -> None:
        rising = not self._readings or (progress or 0) > self._readings[-1][1]
        if progress is not None and 0 < progress < 100 and rising:
            self._readings = [*self._readings[-1:], (now, progress)]

    def remaining(self) -> float | None:
        """Seconds until 100 % at the recent rate, or None without two rising readings."""
        if len(self._readings) < 2:
            return None
        (t1, p1), (t2, p2) = self._readings
        if t2 <= t1:
            return None
        return (100 - p2) * (t2 - t1) / (p2 - p1)


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
    # A resumed task the server says does not exist is submitted again in the same run. Only
    # where submits are free: the offline simulator forgets its tasks when its run ends.
    resubmit_lost: bool = False
    # False: only follow tasks already submitted and download their clips, never submitting
    # (`rdpipe assemble` fetching a paid clip again that it found damaged on disk).
    submits: bool = True
    # The API host (host[:port]) this run talks to: recorded with each submit, and a task
    # recorded for another host is not polled here. None: not checked (offline, tests).
    api_host: str | None = None
    # The API is the offline simulator: nothing is billed, and its tasks end with its run.
    offline: bool = False
