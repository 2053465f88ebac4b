"""Progress of a long step (normalising clips, joining them, moving files): pieces done of a
total, as an event the layer doing the work sends and the command line draws.

The work takes a :data:`StepListener` (or ``None``: nobody listens) and calls it at the step's
start (``done=0``), after each piece, and at its end (``done == total``). A reporter that can
draw steps has a ``step`` method (:class:`StepReporting`); :func:`step_listener` finds it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class StepProgress:
    """``done`` of ``total`` pieces of ``step`` ("normalising", "joining"), counted in ``unit``
    ("clips", "seconds", "bytes"); ``started``: when the step began, in the seconds of
    :func:`time.monotonic`, so a drawer can tell the time left."""

    step: str
    done: int
    total: int
    unit: str
    started: float

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    def fraction(self) -> float:
        """Between 0 and 1; 1 for a step of no pieces."""
        return 1.0 if self.total <= 0 else min(1.0, max(0.0, self.done / self.total))

    def seconds_left(self, now: float) -> float | None:
        """The time left at the pace so far, in seconds; ``None`` before the first piece."""
        fraction = self.fraction()
        if fraction <= 0.0:
            return None
        elapsed = max(0.0, now - self.started)
        return elapsed * (1.0 - fraction) / fraction


#: Hears a step's progress (possibly from worker threads).
StepListener = Callable[[StepProgress], None]


@runtime_checkable
class StepReporting(Protocol):
    """A reporter that draws the progress of long steps."""

    def step(self, event: StepProgress) -> None: ...


def step_listener(reporter: object) -> StepListener | None:
    """``reporter``'s :meth:`StepReporting.step`, or ``None`` when it draws no steps."""
    return reporter.step if isinstance(reporter, StepReporting) else None


class StepCounter:
    """Counts the pieces of one step and tells ``listener`` (nothing when it is ``None``).

    ``clock``: seconds, monotonic (injected by tests).
    """

    def __init__(
        self,
        listener: StepListener | None,
        step: str,
        total: int,
        unit: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._listener = listener
        self._step = step
        self._total = total
        self._unit = unit
        self._started = clock()
        self._done = 0

    def start(self) -> None:
        self._tell()

    def advance(self, pieces: int = 1) -> None:
        self._done = min(self._total, self._done + pieces)
        self._tell()

    def set(self, done: int) -> None:
        self._done = min(self._total, max(0, done))
        self._tell()

    def _tell(self) -> None:
        if self._listener is not None:
            self._listener(StepProgress(self._step, self._done, self._total, self._unit,
                                        self._started))  # fmt: skip


def clock_time(seconds: float) -> str:
    """``0:01:05``: whole hours, minutes and seconds (the part of a second dropped), as
    progress bars show elapsed time and time left."""
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
