"""Knobs of one run: parallelism, polling cadence, deadlines and what to do on failure."""

from __future__ import annotations

import random
from dataclasses import dataclass

from rdpipe.concurrency import DEFAULT_DOWNLOADS, DEFAULT_TASKS

#: How far a schedule of :meth:`PollSchedule.every` backs off: to this many times its first
#: delay (``rdpipe run --poll-interval``).
EVERY_BACKOFF = 4


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
        """A schedule starting at ``seconds`` and backing off to :data:`EVERY_BACKOFF` times
        that."""
        return cls(first=seconds, cap=EVERY_BACKOFF * seconds)


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
    """When will a running task finish, and so when to poll it next.

    A task is seen finished only at the next poll, and every second between its end and that
    poll is lost to the run (its slot waits: issue 12 measured 1.047 of the ideal makespan at
    1,000 shots). So the end is extrapolated from the task's progress readings, and the poll
    that would come after it is brought forward to just after it:

    - the rate is a least-squares line through the last :data:`_WINDOW` rising readings; a
      reading of ``p`` % counts as ``p + 0.5`` (servers round progress down), and the task is
      expected to end when it would pass 99 %, the last percent a running task reports (a
      server that would say 100 % sooner is asked once more, ``2 * margin`` later);
    - the poll lands ``margin`` (``first / 8`` of the schedule: about 0.9 s at the default
      7.5 s) after the expected end, which covers the error of whole-percent readings;
    - a task still running at that poll (its progress slowed, or it sits at 99 %) is asked
      again after twice the margin, then four times..., never later than the backoff would.

    Times are the scheduler's clock, in seconds.
    """

    def __init__(self, schedule: PollSchedule) -> None:
        self._margin = schedule.first / 8
        self._readings: list[tuple[float, float]] = []
        self._near_end = 0  # polls already brought forward to the expected end

    def add(self, now: float, progress: int | None) -> None:
        """Note a reading of a running task (0 and 100 % say nothing of its rate)."""
        if progress is None or not 0 < progress < 100:
            return
        if self._readings and progress + 0.5 <= self._readings[-1][1]:
            return  # not rising: the same percent read again tells nothing new
        self._readings = [*self._readings[-(_WINDOW - 1) :], (now, progress + 0.5)]

    def remaining(self) -> float | None:
        """Seconds from the last reading until 99 %, or ``None`` before two rising readings."""
        if len(self._readings) < 2:
            return None
        times = [t for t, _ in self._readings]
        mean_t = sum(times) / len(times)
        mean_p = sum(p for _, p in self._readings) / len(self._readings)
        spread = sum((t - mean_t) ** 2 for t in times)
        if spread <= 0:
            return None
        rate = sum((t - mean_t) * (p - mean_p) for t, p in self._readings) / spread
        if rate <= 0:
            return None
        last = times[-1]
        return max(0.0, (_LAST_RUNNING - (mean_p + rate * (last - mean_t))) / rate)

    def next_delay(self, backoff: float) -> float:
        """Seconds until the next poll: ``backoff``, or sooner when the end falls before it."""
        remaining = self.remaining()
        if remaining is None or remaining + self._margin >= backoff:
            return backoff
        delay = remaining + self._margin * 2.0**self._near_end
        self._near_end += 1
        return min(delay, backoff)


#: The percent a task passes as it ends: running tasks report at most 99 %.
_LAST_RUNNING = 99
#: Readings the rate is fitted to: a few polls' worth, so a task that speeds up or slows down
#: is followed without one rounded reading swinging the estimate.
_WINDOW = 4


#: A quick cadence for the local simulator, whose tasks take a second or two.
OFFLINE_POLLING = PollSchedule(first=0.3, factor=1.5, cap=1.0, jitter=0.1)


@dataclass(frozen=True)
class SchedulerOptions:
    """How one run schedules its shots."""

    tasks: int = DEFAULT_TASKS  # generation tasks in flight at once (submitted, not finished)
    downloads: int = DEFAULT_DOWNLOADS  # clip downloads at once
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
    # Adapt the requests in flight to the relay's concurrency gate (AIMD, scheduler.gate);
    # False: a gated request only waits its own back-off (plain back-off, for the bench).
    adaptive_gate: bool = True
