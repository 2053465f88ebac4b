"""What a run returns: each shot's result, the counts the summary line gives, and the video;
and the error that still carries them when the run stopped after its shots had run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from rdpipe.errors import ExitCode
from rdpipe.plan import Plan
from rdpipe.scheduler import Outcome, Phase, ShotResult
from rdpipe.scheduler.results import shown_status


@dataclass(frozen=True)
class RunSummary:
    """The outcome of a run: per-shot results (in plan order), counts, and the video if built."""

    pipeline: str
    results: list[ShotResult]
    plan: Plan
    output: Path | None = None
    #: Every deliverable's video built, by name, in file order (``output`` is the first).
    deliverables: tuple[tuple[str, Path], ...] = ()

    @property
    def submitted(self) -> int:
        """New POSTs this run sent (each created a task, or may have)."""
        return sum(result.submits for result in self.results)

    @property
    def resumed(self) -> int:
        """Shots finished from a task an earlier run paid for (followed or downloaded again)."""
        return sum(r.phase is Phase.DONE and r.submits == 0 for r in self.results)

    @property
    def reused(self) -> int:
        return sum(result.phase is Phase.CACHED for result in self.results)

    @property
    def failed(self) -> int:
        """Shots that ended without a clip and failed; not those their ``on_failure: skip``
        left out (:attr:`skipped`), nor those with nothing sent (:attr:`not_submitted`)."""
        return sum(
            result.phase in (Phase.FAILED, Phase.SKIPPED)
            and not _unsent(result)
            and result.outcome is not Outcome.SKIPPED
            for result in self.results
        )

    @property
    def skipped(self) -> int:
        """Shots their ``on_failure: skip`` left out of the video."""
        return sum(result.outcome is Outcome.SKIPPED for result in self.results)

    @property
    def not_submitted(self) -> int:
        """Shots skipped with nothing sent: the run stopped submitting (``on_failure: stop``,
        ``--fail-fast``, a lapsed claim) or the shot of the same request did not finish."""
        return sum(_unsent(result) for result in self.results)

    @property
    def unknown(self) -> int:
        """Shots whose task (or submit) this run could not account for; not resubmitted."""
        return sum(result.phase is Phase.UNKNOWN for result in self.results)

    @property
    def in_flight(self) -> int:
        """Shots stopped early while their paid task runs on; the next run follows them."""
        return sum(result.phase is Phase.IN_FLIGHT for result in self.results)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if all(result.ok for result in self.results) else ExitCode.FAILED

    def outcomes(self) -> dict[str, int]:
        """How many shots (takes) ended with each :class:`Outcome`, every code present."""
        return {
            outcome.value: sum(result.outcome is outcome for result in self.results)
            for outcome in Outcome
        }

    def told(self) -> list[ShotResult]:
        """The results the summary says something of, in plan order: every one without its
        clip, and every one that has a note (a clip generated again without audio)."""
        return [result for result in self.results if not result.ok or result.message]

    def counts(self) -> str:
        """``4 submitted, 0 resumed, 0 reused, 1 failed, 1 skipped, 2 not submitted, 3 in
        flight`` (zero extras left out)."""
        text = (
            f"{self.submitted} submitted, {self.resumed} resumed, {self.reused} reused, "
            f"{self.failed} failed"
        )
        extras = (
            (self.skipped, "skipped"),
            (self.not_submitted, "not submitted"),
            (self.unknown, "unknown"),
            (self.in_flight, "in flight"),
        )
        for count, name in extras:
            text += f", {count} {name}" if count else ""
        return text


def _unsent(result: ShotResult) -> bool:
    """Skipped with nothing sent for it (shown ``not submitted``)."""
    return shown_status(result) == Outcome.NOT_SUBMITTED.value


class RunUnfinished(ExceptionGroup[Exception]):
    """The errors that stopped a run after its shots had run (building the video, writing the
    manifest), with the run's :class:`RunSummary` (``output`` is the video if it was built).

    It adds nothing to what the errors say: the command line shows the summary (``--json``
    ends with its object, as always once shots ran), then reports them as ever.
    """

    summary: RunSummary

    def __new__(cls, summary: RunSummary, errors: Sequence[Exception]) -> Self:
        group = super().__new__(cls, _UNFINISHED, errors)
        group.summary = summary
        return group

    def __init__(self, summary: RunSummary, errors: Sequence[Exception]) -> None:
        super().__init__(_UNFINISHED, errors)


_UNFINISHED = "the run stopped after its shots had run"


def unfinished_summary(error: BaseException) -> RunSummary | None:
    """The summary a :class:`RunUnfinished` in ``error`` (or in the groups wrapping it) carries;
    ``None`` when the run stopped before its shots were done."""
    if isinstance(error, RunUnfinished):
        return error.summary
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = unfinished_summary(inner)
            if found is not None:
                return found
    return None
