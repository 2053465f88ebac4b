"""What the scheduler needs from outside (its ports) and what it gives back (its results).

Kept apart from the scheduler itself so that code reading results (the manifest, the
storyboard, a fully cached rerun) does not import the HTTP client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rdpipe.errors import RdpipeError
from rdpipe.failure_codes import FailureClass, FailurePolicy, policy_for
from rdpipe.scheduler.updates import Phase

if TYPE_CHECKING:
    from rdpipe.client import DownloadedClip, TaskStatus
    from rdpipe.plan import Job
    from rdpipe.state import ClipRecord, StoredClip


class GenerationApi(Protocol):
    """The part of the RelayDance client a run uses."""

    @property
    def api_host(self) -> str | None:
        """``host[:port]`` the requests go to, recorded with each submit; ``None``: no API."""

    async def submit(self, body: bytes) -> str:
        """POST one request body (JSON, already serialised) and return the new task's id."""

    async def get_task(self, task_id: str) -> TaskStatus: ...

    async def download(
        self,
        task_id: str,
        dest: Path,
        *,
        video_url: str | None = None,
        through_api: bool = False,
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> DownloadedClip: ...


#: Writes the last frame of a clip as a PNG at the given path (the assembly stage does this).
FrameExtractor = Callable[[Path, Path], Awaitable[Path]]
#: Measures a clip's duration in seconds; raises RdpipeError when the file is not a whole video
#: (:class:`MediaIncomplete` when it is a video with parts missing).
ClipProbe = Callable[[Path], Awaitable[float]]
#: Hears of each clip the moment it is stored and recorded (the session pushes it to the shared
#: clip store); it must not raise: a clip kept locally is the run's result whatever it does.
ClipStored = Callable[["Job", "ClipRecord"], Awaitable[None]]
#: Hears of each task the moment its submit is recorded (the session notes it on the shot's
#: claim in the shared store, for a run that may take the claim over); it must not raise.
TaskSubmitted = Callable[["Job", str], Awaitable[None]]
#: Asked before each submit whether the run may still pay for the job (its claim in the shared
#: store is still its own); a job it may not is skipped, not submitted.
SubmitAllowed = Callable[["Job"], bool]


class MediaIncomplete(RdpipeError):
    """A downloaded video lacks part of its media (issue 11 §3); ``problem`` says what."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"the video is incomplete: {problem}")


class Outcome(StrEnum):
    """What became of a shot (of one take), in one word for the summary and ``--json``.

    - ``succeeded``: it has its clip (generated, resumed or cached);
    - ``refused``: RelayDance refused its input or its submit; nothing was billed, and the same
      request is not sent again unchanged;
    - ``refunded``: its generation failed (moderation of the output, an upstream failure, an
      expired task) and was refunded; not billed;
    - ``unknown``: it has no clip, and its task may be billed: a submit with no answer, a task
      still running or not seen finished, a finished task whose clip did not arrive; a rerun
      resolves it without paying again;
    - ``not submitted``: nothing was sent for it (the run stopped, the shot it continues did
      not finish, its files could not be sent);
    - ``skipped``: its ``on_failure:`` policy left it out of the video.
    """

    SUCCEEDED = "succeeded"
    REFUSED = "refused"
    REFUNDED = "refunded"
    UNKNOWN = "unknown"
    NOT_SUBMITTED = "not submitted"
    SKIPPED = "skipped"

    @classmethod
    def usual(cls, phase: Phase) -> Outcome:
        """The outcome a shot ending in ``phase`` has unless more is known: a failed shot is
        taken as refunded, a skipped one as not submitted."""
        return _USUAL[phase]


_USUAL = {
    Phase.DONE: Outcome.SUCCEEDED,
    Phase.CACHED: Outcome.SUCCEEDED,
    Phase.FAILED: Outcome.REFUNDED,
    Phase.UNKNOWN: Outcome.UNKNOWN,
    Phase.IN_FLIGHT: Outcome.UNKNOWN,
    Phase.SKIPPED: Outcome.NOT_SUBMITTED,
    Phase.WAITING: Outcome.NOT_SUBMITTED,
    Phase.SUBMITTING: Outcome.UNKNOWN,
    Phase.GENERATING: Outcome.UNKNOWN,
    Phase.DOWNLOADING: Outcome.UNKNOWN,
}


@dataclass(frozen=True)
class ShotResult:
    """How one shot ended; ``clip`` is the clip it has in the store (done or cached).

    ``outcome``: what became of it in one word (:class:`Outcome`); ``message`` says more.
    """

    shot_id: str
    key: str
    phase: Phase
    task_id: str | None = None
    clip: StoredClip | None = None
    message: str | None = None
    seed: int | None = None
    duration: float | None = None
    submits: int = 0  # billed-or-maybe-billed POSTs this run made for the shot
    take: int = 1
    outcome: Outcome = field(kw_only=True)
    #: Which clip of the shot this is (:attr:`rdpipe.render.RenderedShot.rendition`): ``""``
    #: the storyboard's, ``"draft"`` a draft take, else the deliverable it was regenerated for.
    rendition: str = field(default="", kw_only=True)
    #: Its input was refused (in this run or an earlier one): a rerun does not send it again
    #: unchanged, whatever its ``on_failure:`` made of it (failed or skipped).
    input_refused: bool = field(default=False, kw_only=True)
    #: Not submitted because the shot of this label, refused in an earlier run and unchanged,
    #: stops every run's submits (``on_failure: {input_refused: stop}``).
    waits_on: str | None = field(default=None, kw_only=True)

    @property
    def ok(self) -> bool:
        return self.phase in (Phase.DONE, Phase.CACHED)


def cached_result(job: Job, clip: StoredClip | None, record: ClipRecord | None) -> ShotResult:
    """The result of a job whose clip is already in the store (``clip``, as the plan verified
    it): cached, with the task, seed and duration the journal recorded with it (``record``)."""
    return ShotResult(
        job.shot.id,
        job.key,
        Phase.CACHED,
        task_id=record.task_id if record else None,
        clip=clip,
        seed=record.seed if record else None,
        duration=record.duration if record else None,
        take=job.shot.take,
        outcome=Outcome.SUCCEEDED,
        rendition=job.shot.rendition,
    )


#: Added to a shot's message when its ``on_failure:`` left it out of the video, or stopped submits.
SKIP_NOTE = "; left out of the video (on_failure: skip)"
STOP_NOTE = "; no new submits for the rest of the run (on_failure: stop)"


def refused_result(job: Job) -> ShotResult:
    """The result of a job the plan found refused before (``Action.REFUSED``: the same request's
    input was refused; it is not sent again), by the shot's ``on_failure: {input_refused: ...}``:
    skipped (outcome skipped, left out of the video) for ``skip``, else failed (refused), its
    message saying so for ``stop`` (the scheduler stops its submits)."""
    policy = policy_for(job.shot, FailureClass.INPUT_REFUSED)
    phase, outcome, message = Phase.FAILED, Outcome.REFUSED, job.reason
    if policy is FailurePolicy.SKIP:
        phase, outcome, message = Phase.SKIPPED, Outcome.SKIPPED, message + SKIP_NOTE
    elif policy is FailurePolicy.STOP:
        message += STOP_NOTE
    return ShotResult(
        job.shot.id,
        job.key,
        phase,
        task_id=job.task_id,
        message=message,
        take=job.shot.take,
        outcome=outcome,
        rendition=job.shot.rendition,
        input_refused=True,
    )


def shown_status(result: ShotResult) -> str:
    """The status word a result is shown with (summary lines, ``--json``): its phase, except
    ``not submitted`` for a shot skipped with nothing sent (``skipped`` is ``on_failure: skip``'s
    word)."""
    if result.phase is Phase.SKIPPED and result.outcome is Outcome.NOT_SUBMITTED:
        return Outcome.NOT_SUBMITTED.value
    return result.phase.value


def picked_result(takes: Sequence[ShotResult], pick: int | None) -> ShotResult | None:
    """The take a shot uses: ``pick`` if it finished, else the first take that did."""
    finished = [result for result in takes if result.ok]
    if pick is not None:
        return next((result for result in finished if result.take == pick), None)
    return finished[0] if finished else None
