"""What the scheduler tells the outside world while it works: one update per change of a shot.

The CLI turns updates into a live view, plain log lines or JSON lines; tests collect them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rdpipe.state import StoredClip


class Phase(StrEnum):
    """Where a shot is in its run."""

    WAITING = "waiting"  # for a free slot or for the shot it continues from
    SUBMITTING = "submitting"
    GENERATING = "generating"  # submitted; polling the task
    DOWNLOADING = "downloading"
    DONE = "done"
    CACHED = "cached"  # a verified clip already existed: nothing was requested
    FAILED = "failed"
    UNKNOWN = "unknown"  # a submit whose outcome is unknown; not resubmitted
    IN_FLIGHT = "in flight"  # stopped early while its paid task runs; the next run follows it
    SKIPPED = "skipped"  # not run (stopped, or the shot it depends on failed)

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {Phase.DONE, Phase.CACHED, Phase.FAILED, Phase.UNKNOWN, Phase.IN_FLIGHT, Phase.SKIPPED}
)


@dataclass(frozen=True)
class ShotUpdate:
    """A change in one shot's run; ``message`` explains failures in the server's words.

    ``clip``: the clip the shot has in the store, once done or cached.
    """

    shot_id: str
    phase: Phase
    task_id: str | None = None
    progress: int | None = None
    attempt: int = 1
    message: str | None = None
    clip: StoredClip | None = None
    take: int = 1
    takes: int = 1
    rendition: str = ""  # which clip of the shot (rdpipe.render.RenderedShot.rendition)
    #: Said once for the whole run, not in the shot's row (polls cannot reach RelayDance, or
    #: reach it again): the live view prints it above itself.
    notice: str | None = None
    #: Ended ``skipped`` with nothing sent for it (the run stopped submitting, the shot it
    #: continues did not finish): shown ``not submitted`` (:attr:`status`).
    unsent: bool = False

    @property
    def status(self) -> str:
        """The shot's status word in events and log lines: its phase's, except ``not
        submitted`` for a shot that ended with nothing sent (``skipped`` is ``on_failure:
        skip``'s word), as the run's summary says it."""
        return "not submitted" if self.phase is Phase.SKIPPED and self.unsent else self.phase.value

    @property
    def label(self) -> str:
        """``coast``, or ``coast#2`` for the second of several takes; ``coast:draft#2``,
        ``coast:vertical`` for a rendition other than the storyboard's (as
        :attr:`rdpipe.render.RenderedShot.label`)."""
        name = f"{self.shot_id}:{self.rendition}" if self.rendition else self.shot_id
        return name if self.takes == 1 else f"{name}#{self.take}"


@dataclass(frozen=True)
class GateChanged:
    """The run's bound on requests in flight changed (the relay's concurrency gate, AIMD).

    ``limit`` of ``ceiling`` (the run's task concurrency); ``lowered``: halved after a 429
    ``token_concurrency_limit_reached``, else raised by one after answers that passed.
    """

    limit: int
    ceiling: int
    lowered: bool = False

    @property
    def shown(self) -> str:
        """``concurrency 4/32``: the live view's header."""
        return f"concurrency {self.limit}/{self.ceiling}"

    @property
    def message(self) -> str:
        if self.lowered:
            return (
                "the relay's concurrency gate is full (429 token_concurrency_limit_reached): "
                f"{self.shown}, raised again as requests pass"
            )
        return self.shown


class Reporter(Protocol):
    """Receives every update, in order, on the event loop's thread."""

    def update(self, update: ShotUpdate) -> None: ...


class CollectingReporter:
    """Keeps every update, for tests and summaries."""

    def __init__(self) -> None:
        self.updates: list[ShotUpdate] = []

    def update(self, update: ShotUpdate) -> None:
        self.updates.append(update)
