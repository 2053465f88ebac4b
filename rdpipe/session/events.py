"""What a run tells its user beyond each shot's progress, and how a command drives the run.

The session prints nothing: it hands each run-level event to a :class:`RunReporter`, which the
command line turns into console lines (and a test collects, :class:`CollectingRunReporter`).
Each event composes its own sentence; the reporter decides where and how it is shown. The
shots' own updates go to the scheduler's :class:`~rdpipe.scheduler.Reporter`, which the run
reporter opens for the shots of a plan (:meth:`RunReporter.shots`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from rdpipe.scheduler import GateChanged, Reporter, ShotUpdate

if TYPE_CHECKING:
    from rdpipe.plan import Plan
    from rdpipe.prices import Currency, ShotCost

T = TypeVar("T")


def clips_word(count: int) -> str:
    """``1 clip``, ``2 clips``: for the sentences events and notes say."""
    return f"{count} clip" if count == 1 else f"{count} clips"


@dataclass(frozen=True)
class SubmitRecovered:
    """A submit an earlier run sent without recording the answer (it was killed meanwhile)."""

    shot_id: str
    resent: bool  # offline, where submits are free, it is sent again

    @property
    def message(self) -> str:
        then = (
            "it is submitted again (free offline)"
            if self.resent
            else "it may have been billed and will not be resent blindly"
        )
        return (
            f"shot {self.shot_id}: a submit was interrupted before its answer was recorded; {then}"
        )


@dataclass(frozen=True)
class PlanAnnounced:
    """What the run is about to do, before it sends anything.

    ``cost``: the expected cost and pre-charge of the jobs to generate (quota units) at the
    relay's prices, shown in ``currency``; ``None`` when the prices were not read (or nothing
    is generated). ``unpriced``: models to generate that the price list does not price.
    """

    pipeline: str
    generations: int
    billed_seconds: int
    resumed: int
    cached: int
    offline: bool
    cost: ShotCost | None = None
    currency: Currency | None = None
    unpriced: tuple[str, ...] = ()
    #: The generations by stage when the run has drafts or regenerations (``2 drafts``,
    #: ``1 final``, ``1 regenerated for vertical``); empty otherwise.
    stages: tuple[str, ...] = ()

    @property
    def idle(self) -> bool:
        """Whether the run generates and resumes nothing (its summary line says it all)."""
        return not self.generations and not self.resumed

    @property
    def money(self) -> str | None:
        """``expected $2.16, pre-charge $2.70`` (and the models not priced), or ``None``."""
        if self.cost is None or self.currency is None:
            return None
        show = self.currency.show
        said = f"expected {show(self.cost.expected)}, pre-charge {show(self.cost.precharge)}"
        if self.unpriced:
            from rdpipe.prepare.model_ids import shown_model

            said += f" without {', '.join(map(shown_model, self.unpriced))} (not priced)"
        return said

    @property
    def message(self) -> str:
        money = self.money
        if self.offline:
            seconds = f"{self.billed_seconds} s on the offline simulator, free"
            if money is not None:
                seconds += f"; at its prices: {money}"
        elif money is not None:
            seconds = (
                f"{self.billed_seconds} s submitted to RelayDance, {money}; failed tasks are "
                "refunded"
            )
        else:
            seconds = f"{self.billed_seconds} s submitted to RelayDance; failed tasks are refunded"
        if self.stages:
            seconds = f"{', '.join(self.stages)}; {seconds}"
        if self.offline:  # an earlier offline run's simulator is gone: nothing resumes
            again = f", {self.resumed} left by an earlier run to submit again" * bool(self.resumed)
            return (
                f"{self.pipeline}: {self.generations} to generate ({seconds}){again}, "
                f"{self.cached} cached"
            )
        return (
            f"{self.pipeline}: {self.generations} to generate ({seconds}), {self.resumed} to "
            f"resume, {self.cached} cached"
        )


@dataclass(frozen=True)
class RefetchStarted:
    """A finished task's clip is downloaded again (``reason`` says what was wrong on disk)."""

    label: str
    reason: str

    @property
    def message(self) -> str:
        return f"{self.label}: {self.reason}"


@dataclass(frozen=True)
class RefetchFailed:
    """A clip to download again did not arrive; ``status`` is the shot's final phase."""

    shot_id: str
    status: str
    reason: str | None

    @property
    def message(self) -> str:
        return f"{self.shot_id}: {self.status}: {self.reason}"


@dataclass(frozen=True)
class RunNote:
    """A sentence about the run as a whole, said after its shots (why no video was built)."""

    message: str


#: Every event a run reports (:class:`~rdpipe.scheduler.GateChanged`: the scheduler's bound on
#: requests in flight, adapted to the relay's concurrency gate).
RunEvent = SubmitRecovered | PlanAnnounced | RefetchStarted | RefetchFailed | RunNote | GateChanged


#: Hears a clip's transfer: bytes done so far, and the total when known (from worker threads).
TransferProgress = Callable[[int, int | None], None]


class TransferMeter(Protocol):
    """Measures the clips one step moves (pulls from the shared store, pushes, downloads)."""

    def clip(self, label: str) -> TransferProgress:
        """The progress callback of one clip's transfer, ``label`` naming it."""
        ...


class RunReporter(Protocol):
    """Receives what a run says: run-level events, and its shots' updates while they run."""

    def run_event(self, event: RunEvent) -> None: ...

    def shots(self, plan: Plan) -> AbstractContextManager[Reporter]:
        """The reporter of the plan's shots, open while they run (a live view, say)."""
        ...

    def transfers(
        self, title: str, total: int | None = None
    ) -> AbstractContextManager[TransferMeter]:
        """A meter of clip transfers, open while one step moves clips (``title`` says which:
        "pulling from the shared store"; ``total``: how many clips it will move, when known)."""
        ...


class CollectingRunReporter:
    """A :class:`RunReporter` that keeps every event and every shot update, for tests."""

    def __init__(self) -> None:
        self.events: list[RunEvent] = []
        self.updates: list[ShotUpdate] = []
        self.transferred: dict[tuple[str, str], int] = {}  # (title, label) -> bytes done
        self.totals: dict[str, int | None] = {}  # title -> clips the step said it would move

    def run_event(self, event: RunEvent) -> None:
        self.events.append(event)

    def update(self, update: ShotUpdate) -> None:
        self.updates.append(update)

    def shots(self, plan: Plan) -> AbstractContextManager[Reporter]:
        return nullcontext(self)

    def transfers(
        self, title: str, total: int | None = None
    ) -> AbstractContextManager[TransferMeter]:
        collected = self.transferred
        self.totals[title] = total

        class Meter:
            def clip(self, label: str) -> TransferProgress:
                def progress(done: int, total: int | None) -> None:
                    collected[(title, label)] = done

                return progress

        return nullcontext(Meter())


class AsyncRunner(Protocol):
    """Runs async work to its end from synchronous code; the CLI's adds its Ctrl-C watch."""

    def __call__(self, work: Callable[[], Awaitable[T]], /) -> T: ...


def run_in_event_loop(work: Callable[[], Awaitable[T]], /) -> T:
    """The plain :class:`AsyncRunner`: ``anyio.run``."""
    import anyio

    return anyio.run(work)
