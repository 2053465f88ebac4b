"""Moves planned jobs between the API, the run state and the clip store, concurrently.

The only place that opens task groups and limiters. Every shot is its own task; a limiter
bounds the generations in flight and another the downloads. A shot that continues from
another shot's last frame waits for it (the continuity links form a DAG); everything else runs
in parallel.

Money rules, in the order they happen for a new generation:

1. a submit *intent* is written durably before the POST;
2. the POST and the recording of its task id run shielded from cancellation, so Ctrl-C cannot
   strike between "paid" and "written down";
3. a submit whose outcome is unknown is recorded and reported, never resent (unless the user
   asks with ``--resubmit-unknown``);
4. a failed generation is not billed, so the shot's ``on_failure:`` policy for its class of
   failure decides what follows (:func:`rdpipe.failure_codes.next_step`): resubmit up to
   ``retries`` times, once without sound, fail, skip the shot or stop submitting; an input that
   was refused is never resubmitted (the same request would be refused again);
5. every submit and poll holds a slot of the run's :class:`~.gate.AdaptiveGate` while it is
   sent; a submit the relay's concurrency gate refused (429) created nothing: it is journalled
   as refused and sent again, and is no attempt of the shot.

The journal's commits and lookups and the clip store's file work block, so they run where
``blocking`` says (worker threads in a run); the intent and the task id are still written
inside the shielded section of rule 2, which waits for the thread to finish.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread

from rdpipe.catalog import Catalog, load_catalog
from rdpipe.client import (
    ConcurrencyLimitReached,
    GateUnavailable,
    NoAnswer,
    NotSent,
    RateLimited,
    RelayDanceError,
    RequestNotBuilt,
    ServerError,
    SubmitOutcomeUnknown,
    TaskNotFound,
    TaskState,
    TaskStatus,
)
from rdpipe.errors import RdpipeError
from rdpipe.failure_codes import (
    FailureClass,
    FailurePolicy,
    Step,
    classify,
    classify_failure,
    failure_text,
    next_step,
    policy_for,
)
from rdpipe.hints import Suggestion
from rdpipe.plan import Action, Job
from rdpipe.render import DRAFT
from rdpipe.request import GenerationRequest, LocalFile
from rdpipe.scheduler import notes
from rdpipe.scheduler.arrivals import HEAD_SIZE, not_a_video, what_was_sent
from rdpipe.scheduler.blocking import BlockingRunner, in_worker_thread, one_worker_thread
from rdpipe.scheduler.gate import AdaptiveGate, Sent
from rdpipe.scheduler.hosting import FATAL_ERRORS, HostingFailed, MediaHosting
from rdpipe.scheduler.options import FinishEstimate, SchedulerOptions
from rdpipe.scheduler.results import (
    SKIP_NOTE,
    STOP_NOTE,
    ClipProbe,
    ClipStored,
    FrameExtractor,
    GenerationApi,
    MediaIncomplete,
    Outcome,
    ShotResult,
    SubmitAllowed,
    TaskSubmitted,
    cached_result,
    picked_result,
    refused_result,
    shown_status,
)
from rdpipe.scheduler.updates import GateChanged, Phase, Reporter, ShotUpdate
from rdpipe.scheduler.waker import Waker
from rdpipe.state import (
    ClipRecord,
    ClipStore,
    IncomingClip,
    StateStore,
    StoredClip,
    TaskReissued,
)

_P = ParamSpec("_P")
_T = TypeVar("_T")
#: Errors that concern every shot alike: the run stops at the first one.
_FATAL = FATAL_ERRORS
#: A poll that met these is simply asked again later: a GET is safe to repeat. Not a request
#: that could not even be built (a key with a line break): no wait mends it.
_POLL_OUTAGE = (NotSent, NoAnswer, ServerError, RateLimited)
#: A submit answered so (after the client's own retries) provably created nothing: the relay's
#: gate unavailable (503) or a rate limit (429). Not an input refusal: the same request passes
#: once the relay does, so the shot is "not submitted" and a rerun sends it.
_CREATED_NOTHING = (GateUnavailable, RateLimited)
#: After this many gate answers (429) to one submit, and every 50th, its row says so.
_GATE_NOTED = frozenset({3, 10})


class RunAborted(RdpipeError):
    """An error that concerns every shot (a bad key, an empty balance): the run stopped."""

    def __init__(self, cause: RdpipeError, *, paid: int = 0) -> None:
        """``paid``: tasks submitted (by this run or an earlier one) and not yet downloaded."""
        self.cause = cause
        self.paid = paid
        first = "" if cause.hint is None else cause.hint.replace("{", "{{").replace("}", "}}") + " "
        if paid:
            tasks = "1 task" if paid == 1 else f"{paid} tasks"
            sentence = (
                f"{first}The {tasks} already submitted (paid for) are recorded: once RelayDance "
                "answers again, `{0}` resumes them without paying again and submits the shots "
                "not sent yet."
            )
            if paid == 1:
                sentence = sentence.replace("are recorded", "is recorded")
                sentence = sentence.replace("resumes them", "resumes it")
        else:
            sentence = f"{first}No task was left in flight; `{{0}}` starts the run again."
        super().__init__(
            f"the run stopped: {cause.message}", suggestion=Suggestion.of("run", sentence)
        )


class _ShotFailed(Exception):
    """Ends one shot's work with a result (internal control flow); ``outcome``: the phase's
    usual one (:meth:`Outcome.usual`) unless given."""

    def __init__(
        self,
        phase: Phase,
        message: str,
        task_id: str | None = None,
        *,
        outcome: Outcome | None = None,
        input_refused: bool = False,
        waits_on: str | None = None,
    ) -> None:
        super().__init__(message)
        self.phase = phase
        self.message = message
        self.task_id = task_id
        self.outcome = outcome or Outcome.usual(phase)
        self.input_refused = input_refused
        self.waits_on = waits_on


class _TaskLost(_ShotFailed):
    """The server says a task it accepted does not exist (internal control flow)."""

    def __init__(self, error: TaskNotFound, task_id: str, message: str) -> None:
        super().__init__(Phase.UNKNOWN, message, task_id)
        self.error = error


class _NotSubmitted(_ShotFailed):
    """Nothing is sent for the shot (internal control flow): skipped, not submitted."""

    def __init__(self, message: str, *, waits_on: str | None = None) -> None:
        super().__init__(Phase.SKIPPED, message, outcome=Outcome.NOT_SUBMITTED, waits_on=waits_on)


class _ClipProblem(Exception):
    """A download brought no usable clip; the text says what arrived (internal control flow)."""


class Scheduler:
    """Runs the jobs of one plan; create one per run.

    ``blocking`` runs its blocking calls (journal commits and lookups, the clip store's file
    work); by default the journal's calls run in one worker thread of their own and file work
    in anyio's worker threads. Tests on a virtual clock run them inline.
    """

    def __init__(
        self,
        *,
        api: GenerationApi,
        journal: StateStore,
        clips: ClipStore,
        reporter: Reporter,
        options: SchedulerOptions,
        probe: ClipProbe,
        extract_frame: FrameExtractor,
        rng: random.Random | None = None,
        waker: Waker | None = None,
        blocking: BlockingRunner | None = None,
        on_stored: ClipStored | None = None,
        on_submitted: TaskSubmitted | None = None,
        may_submit: SubmitAllowed | None = None,
        hosting: MediaHosting | None = None,
        on_gate: Callable[[GateChanged], None] | None = None,
    ) -> None:
        self._api = api
        self._journal = journal
        self._clips = clips
        self._reporter = reporter
        self._options = options
        self._probe = probe
        self._extract_frame = extract_frame
        self._on_stored = on_stored
        self._on_submitted = on_submitted
        self._may_submit = may_submit
        self._hosting = hosting
        self._rng = rng or random.Random()
        self._waker = waker or Waker()
        self._state_calls = blocking or one_worker_thread()
        self._file_calls = blocking or in_worker_thread
        self._task_slots = anyio.CapacityLimiter(options.tasks)
        # Requests in flight (submits and polls), adapted to the relay's concurrency gate.
        self._gate = AdaptiveGate(
            options.tasks, adaptive=options.adaptive_gate, on_change=on_gate, rng=self._rng
        )
        self._download_slots = anyio.CapacityLimiter(options.downloads)
        self._finished: dict[str, anyio.Event] = {}
        self._results: dict[str, ShotResult] = {}
        # (shot id, rendition) -> labels of its takes
        self._labels: dict[tuple[str, str], list[str]] = {}
        self._jobs: dict[str, Job] = {}
        self._submits: dict[str, int] = {}  # label -> POSTs that created (or may have) a task
        self._following: dict[str, str] = {}  # label -> its task not yet seen finished
        self._downloading: set[str] = set()  # labels whose finished task is being downloaded
        self._stopped_by: str | None = None  # why the run was stopped early, if it was
        self._submits_stopped: str | None = None  # why no new submits go out (on_failure: stop)
        self._stopped_on: str | None = None  # the shot refused in an earlier run that stopped it
        self._outage = False  # polls are failing to reach RelayDance (noted once)
        # Which model ids fix the sound (retry_without_audio): read when the run starts.
        self._catalog = Catalog(models={})

    @property
    def gate_rejections(self) -> int:
        """The 429 ``token_concurrency_limit_reached`` answers this run met (submits and polls)."""
        return self._gate.rejections

    async def run(self, jobs: Sequence[Job]) -> list[ShotResult]:
        """Run every job; return one result per job, in job order."""
        self._finished = {job.shot.label: anyio.Event() for job in jobs}
        for job in jobs:
            self._labels.setdefault((job.shot.id, job.shot.rendition), []).append(job.shot.label)
        self._jobs = {job.shot.label: job for job in jobs}
        self._catalog = await self._file_call(load_catalog)
        with anyio.CancelScope() as scope:
            self._scope = scope
            if self._options.run_deadline is not None:
                scope.deadline = anyio.current_time() + self._options.run_deadline
            async with anyio.create_task_group() as group:
                for job in jobs:
                    group.start_soon(self._run_job, job, name=f"shot {job.shot.label}")
        if scope.cancelled_caught and self._stopped_by is None:
            self._stopped_by = "the run's time limit (--timeout) passed"
        for job in jobs:
            if job.shot.label not in self._results:
                self._results[job.shot.label] = self._unfinished(job)
        return [self._results[job.shot.label] for job in jobs]

    def _unfinished(self, job: Job) -> ShotResult:
        """The result of a shot the run stopped before it ended: its paid task stays followed."""
        label = job.shot.label
        if self._stopped_by is None:
            return self._result(job, Phase.SKIPPED, message="not run")
        task_id = self._following.get(label)
        downloading = label in self._downloading
        message = notes.stopped_text(
            self._stopped_by,
            has_task=task_id is not None,
            downloading=downloading,
            submitted=label in self._submits,
        )
        if task_id is None:
            # Submitted before and not now: its earlier task failed (refunded).
            ended = Outcome.REFUNDED if label in self._submits else Outcome.NOT_SUBMITTED
            return self._result(job, Phase.SKIPPED, message=message, outcome=ended)
        return self._result(job, Phase.IN_FLIGHT, task_id=task_id, message=message)

    # One shot -------------------------------------------------------------------------------

    async def _run_job(self, job: Job) -> None:
        try:
            result = await self._outcome(job)
        except _ShotFailed as failure:
            result = self._result(
                job,
                failure.phase,
                task_id=failure.task_id,
                message=failure.message,
                outcome=failure.outcome,
                input_refused=failure.input_refused,
                waits_on=failure.waits_on,
            )
        except TaskReissued as error:  # another pipeline's submit got this task's id
            message = f"{error.message}; rerun to submit the shot anew"
            result = self._result(
                job, Phase.FAILED, task_id=error.task_id, message=message, outcome=Outcome.UNKNOWN
            )
        except _FATAL as error:
            failed = self._result(job, Phase.FAILED, message=error.message, outcome=Outcome.REFUSED)
            self._finish(job, failed)
            raise RunAborted(error, paid=len(self._following.keys() | self._downloading)) from error
        self._finish(job, result)
        if self._options.fail_fast and result.phase in (Phase.FAILED, Phase.UNKNOWN):
            if self._stopped_by is None:
                self._stopped_by = "stopped after the first failure (--fail-fast)"
            self._scope.cancel()

    def _result(
        self, job: Job, phase: Phase, *, outcome: Outcome | None = None, **fields: Any
    ) -> ShotResult:
        """The shot's result; ``outcome``: the phase's usual one unless given."""
        submits = self._submits.get(job.shot.label, 0)
        return ShotResult(
            job.shot.id,
            job.key,
            phase,
            take=job.shot.take,
            submits=submits,
            outcome=outcome or Outcome.usual(phase),
            rendition=job.shot.rendition,
            **fields,
        )

    def _finish(self, job: Job, result: ShotResult) -> None:
        self._results[job.shot.label] = result
        self._report(
            job,
            result.phase,
            task_id=result.task_id,
            message=result.message,
            clip=result.clip,
            unsent=shown_status(result) == Outcome.NOT_SUBMITTED.value,
        )
        self._finished[job.shot.label].set()

    async def _outcome(self, job: Job) -> ShotResult:
        if job.action is Action.REUSE:
            return await self._reuse(job)
        if job.action is Action.BLOCKED:
            raise _ShotFailed(Phase.UNKNOWN, job.reason)
        if job.action is Action.REFUSED:  # refused before: its on_failure, as if refused now
            if policy_for(job.shot, FailureClass.INPUT_REFUSED) is FailurePolicy.STOP:
                self._stop_submits(job, earlier=True)
            return refused_result(job)
        without_audio = False
        if job.action is Action.RESUME and job.task_id is not None:
            status = await self._resume(job, job.task_id)
            if status is not None:
                if status.state is TaskState.SUCCEEDED:
                    return await self._download(job, status)
                failed = job.shot.request
                retries = job.shot.retries
                step = self._after_failure(job, status, failed, retries_left=retries, attempts=1)
                without_audio = step is Step.RESUBMIT_WITHOUT_AUDIO
        if not self._options.submits:
            raise _ShotFailed(
                Phase.FAILED,
                f"{job.reason}; it has no clip to download (a run submits it)",
                job.task_id,
                outcome=Outcome.NOT_SUBMITTED,
            )
        self._check_submits(job)
        # The journal records the rendered request, the POST is the job's (the run's webhook
        # on it); a shot that continues another gets that shot's last frame in both.
        request, sent = job.shot.request, job.request
        if request.continues_from is not None:
            png = await self._last_frame(job, request.continues_from)
            request, sent = request.with_first_frame_png(png), sent.with_first_frame_png(png)
        if request.local_files:
            urls = await self._hosted_urls(job, request)
            request, sent = request.with_hosted(urls), sent.with_hosted(urls)
        if without_audio:
            request, sent = self._silenced(request), self._silenced(sent)
        return await self._generate(job, request, sent)

    def _check_submits(self, job: Job) -> None:
        """Raise :class:`_NotSubmitted` once a shot's ``on_failure: stop`` stopped submits."""
        if self._submits_stopped is not None:
            raise _NotSubmitted(self._submits_stopped, waits_on=self._stopped_on)

    def _stop_submits(self, job: Job, *, earlier: bool = False) -> None:
        """No new submits for the rest of the run: ``job``'s shot failed with ``on_failure:
        stop`` (the first such shot is the one named); ``earlier``: its input was refused in
        an earlier run and it is unchanged, so every run stops so until it is changed."""
        if self._submits_stopped is not None:
            return
        label = job.shot.label
        if earlier:
            self._stopped_on = label
            self._submits_stopped = (
                f"the run stopped submitting: shot {label!r}, refused in an earlier run, is "
                "unchanged (on_failure: stop)"
            )
        else:
            self._submits_stopped = (
                f"the run stopped submitting after shot {label!r} failed (on_failure: stop)"
            )

    def _silent_model(self, request: GenerationRequest) -> str | None:
        """The model without audio of ``request``'s model when its id fixes the sound
        (``seedance-1-5-pro-with-audio`` -> ``seedance-1-5-pro-no-audio``), by the catalog;
        ``None`` when its id does not fix the sound or the catalog knows no such sibling."""
        info = self._catalog.get(request.model)
        if info is None or info.audio is not True:
            return None
        siblings = [
            other.id
            for other in self._catalog.models.values()
            if other.family == info.family and other.audio is False
        ]
        return siblings[0] if len(siblings) == 1 else None

    def _can_silence(self, request: GenerationRequest) -> bool:
        """Whether ``request`` can be sent again without sound: it asks for sound, and its
        model lets ``generate_audio`` decide or has a sibling without audio."""
        if request.metadata.generate_audio is False:
            return False
        info = self._catalog.get(request.model)
        if info is None or info.audio is None:
            return True
        return info.audio and self._silent_model(request) is not None

    def _silenced(self, request: GenerationRequest) -> GenerationRequest:
        """``request`` without sound: on the model's sibling without audio when its id fixes
        the sound (the body validate accepts: no ``generate_audio``), else with
        ``generate_audio: false``, its other settings kept."""
        silent = self._silent_model(request)
        if silent is not None:
            return replace(request, model=silent)
        return _without_audio(request)

    def _fixed_audio(self, request: GenerationRequest, failure: FailureClass) -> bool:
        """A refused sound track on a model whose id fixes the sound, with no sibling without
        it, that the shot's ``retry_without_audio`` therefore retries as it was."""
        if failure is not FailureClass.OUTPUT_AUDIO or request.metadata.generate_audio is False:
            return False
        info = self._catalog.get(request.model)
        return info is not None and info.audio is True and not self._can_silence(request)

    @staticmethod
    def _stops(job: Job, status: TaskStatus) -> bool:
        """Whether the shot's ``on_failure:`` stops the run's submits for this failed task."""
        failure = classify(status.error_code, status.upstream_status)
        return policy_for(job.shot, failure) is FailurePolicy.STOP

    def _after_failure(
        self,
        job: Job,
        status: TaskStatus,
        failed: GenerationRequest,
        *,
        retries_left: int,
        attempts: int,
    ) -> Step:
        """What follows the failed task of the shot's attempt ``attempts`` (``failed``: the
        request it was), by the shot's ``on_failure:``: the step when it is resubmitted, else
        :class:`_ShotFailed` with the shot's result (and, for ``stop``, no more submits)."""
        failure = classify(status.error_code, status.upstream_status)
        audio = self._can_silence(failed)
        step = next_step(job.shot, failure, retries_left=retries_left, audio=audio)
        text = _failure_text(job, status, failed)
        if step in (Step.RESUBMIT, Step.RESUBMIT_WITHOUT_AUDIO):
            if self._submits_stopped is None:
                return step
            step, text = Step.FAIL, f"{text}; not resubmitted: {self._submits_stopped}"
        if attempts > 1:
            text += f"; {attempts} attempts failed, each refunded (not billed)"
        refused = failure is FailureClass.INPUT_REFUSED
        outcome = Outcome.REFUSED if refused else Outcome.REFUNDED
        if step is Step.SKIP:
            raise _ShotFailed(
                Phase.SKIPPED,
                text + SKIP_NOTE,
                status.task_id,
                outcome=Outcome.SKIPPED,
                input_refused=refused,
            )
        if step is Step.STOP:
            text += STOP_NOTE
            self._stop_submits(job)
        raise _ShotFailed(Phase.FAILED, text, status.task_id, outcome=outcome)

    async def _hosted_urls(self, job: Job, request: GenerationRequest) -> dict[LocalFile, str]:
        """The URLs of the request's local files, each hosted once for the whole run."""
        if self._hosting is None:
            raise _ShotFailed(
                Phase.FAILED,
                "its local reference files could not be sent: this run was built without a "
                "media host (a bug in rdpipe: please report it with this message)",
                outcome=Outcome.NOT_SUBMITTED,
            )

        noted: list[str] = []

        def note(text: str) -> None:
            noted.append(text)
            self._report(job, Phase.WAITING, message=text)

        try:
            urls = await self._hosting.urls(request, note)
        except HostingFailed as error:
            raise _ShotFailed(Phase.FAILED, error.message, outcome=Outcome.NOT_SUBMITTED) from error
        if noted:  # the last note ("Processing…") is over: waiting for a task slot now
            self._report(job, Phase.WAITING)
        return urls

    async def _resume(self, job: Job, task_id: str) -> TaskStatus | None:
        """Follow a task an earlier run submitted; ``None``: submit the shot anew instead.

        A task recorded for another API host is not polled on this one. A task the server does
        not know stays recorded as it was (another API key or server may know it): the shot is
        reported unknown, and submitted anew only where that is free (offline: the simulator's
        tasks end with its run, issue 10) or asked for (``--resubmit-unknown``, billed).
        """
        submitted_to = await self._submitted_to(task_id)
        asked = self._options.api_host
        if submitted_to is not None and asked is not None and submitted_to != asked:
            if not self._options.resubmit_unknown:
                raise _ShotFailed(
                    Phase.UNKNOWN, notes.elsewhere_text(task_id, submitted_to, asked), task_id
                )
            message = notes.elsewhere_resubmitted_text(task_id, submitted_to, asked)
            self._report(job, Phase.SUBMITTING, task_id=task_id, message=message)
            return None
        try:
            async with self._task_slots:
                return await self._follow(job, task_id)
        except _TaskLost as lost:
            if self._options.offline and not self._options.submits:
                await self._record_lost(job, task_id, lost.message)
                raise _ShotFailed(
                    Phase.FAILED,
                    f"the offline simulator no longer has task {task_id}: it keeps a task only "
                    "while the offline run that submitted it lasts, so the clip cannot be "
                    "downloaded again; the next offline run generates the shot again (free)",
                    task_id,
                    outcome=Outcome.UNKNOWN,
                ) from lost
            if self._options.resubmit_lost:
                message = (
                    f"task {task_id} ended with an earlier offline run; submitting again (free)"
                )
            elif self._options.resubmit_unknown and self._options.submits:
                message = notes.lost_resubmitted_text(task_id, lost.error, asked, submitted_to)
            else:
                raise
            await self._record_lost(job, task_id, message)
        self._report(job, Phase.SUBMITTING, task_id=task_id, message=message)
        return None

    async def _record_lost(self, job: Job, task_id: str, message: str) -> None:
        """Give up a task the server does not know: only where resubmitting is free or asked."""
        self._following.pop(job.shot.label, None)
        await self._record_status(
            job, task_id, state="failed", error_code="task_not_exist", error_message=message
        )

    async def _submitted_to(self, task_id: str) -> str | None:
        record = await self._state_call(self._journal.task, task_id)
        return record.api_host if record is not None else None

    async def _reuse(self, job: Job) -> ShotResult:
        if job.same_as is not None:
            await self._finished[job.same_as].wait()
            source = self._results[job.same_as]
            if not source.ok:
                raise _NotSubmitted(f"{job.same_as!r} with the same request did not finish")
            return replace(
                source,
                shot_id=job.shot.id,
                take=job.shot.take,
                phase=Phase.CACHED,
                submits=0,
                message=None,
            )
        state = await self._state_call(self._journal.lookup, job.key, job.shot.take)
        return cached_result(job, job.clip, state.clip)

    async def _generate(
        self, job: Job, request: GenerationRequest, sent: GenerationRequest
    ) -> ShotResult:
        """Submit the shot and follow its task; after a failed task, what its ``on_failure:``
        policy says (:meth:`_after_failure`): resubmit (up to ``retries`` times; once without
        sound, besides them, for a refused sound track) or end the shot."""
        retries_left = job.shot.retries
        attempt = 1
        refunded: list[str] = []  # what each failed attempt was, for the shot's message
        async with self._task_slots:
            while True:
                task_id = await self._submit(job, request, sent, attempt)
                status = await self._follow(job, task_id, attempt=attempt)
                if status.state is TaskState.SUCCEEDED:
                    break
                step = self._after_failure(
                    job, status, request, retries_left=retries_left, attempts=attempt
                )
                failure = classify(status.error_code, status.upstream_status)
                said = f"{failure.said} ({status.error_code or 'no code'})"
                failed_text = _failure_text(job, status, request)
                if step is Step.RESUBMIT_WITHOUT_AUDIO:
                    silent = self._silent_model(request)
                    request, sent = self._silenced(request), self._silenced(sent)
                    if silent is None:
                        again = "generating again without audio (not billed)"
                        refunded.append(f"{said}; generated again without audio")
                    else:  # the model id fixes the sound: its sibling without it
                        again = f"generating again with {silent}, the model without audio"
                        again += " (not billed; priced as that model)"
                        refunded.append(f"{said}; generated again with {silent} (no audio)")
                elif self._fixed_audio(request, failure):
                    retries_left -= 1
                    again = (
                        f"submitting again as it was (not billed): {request.model} always has "
                        "audio and no model of it without audio is known, so "
                        "retry_without_audio retries it as it is"
                    )
                    refunded.append(f"{said}; generated again as it was")
                else:
                    retries_left -= 1
                    again = "submitting again (not billed)"
                    refunded.append(f"{said}; generated again")
                attempt += 1
                self._report(
                    job,
                    Phase.SUBMITTING,
                    task_id=task_id,
                    attempt=attempt,
                    message=f"{failed_text}; {again}",
                )
        note = "; ".join(refunded) + " (refunded, not billed)" if refunded else None
        return await self._download(job, status, note=note)

    async def _submit(
        self, job: Job, request: GenerationRequest, sent: GenerationRequest, attempt: int
    ) -> str:
        """POST ``sent`` once; the journal records ``request`` (``sent`` without the webhook)."""
        self._check_submits(job)  # stopped while it waited for a task slot: never "submitting"
        self._report(job, Phase.SUBMITTING, attempt=attempt)
        if self._options.resubmit_unknown:
            await self._state_call(self._abandon_unknown, job)
        gated = 0  # the relay's concurrency gate's answers to this submit so far
        started = anyio.current_time()
        while True:
            if gated and anyio.current_time() - started >= self._options.shot_deadline:
                raise _NotSubmitted(notes.gate_refused_text(gated, self._options.shot_deadline))
            self._check_submits(job)
            if self._may_submit is not None and not self._may_submit(job):
                raise _NotSubmitted(
                    "its claim in the shared clip store lapsed (the store could "
                    "not be reached, or another run took the shot over), so another run may be "
                    "paying for it; rerun to fetch its clip"
                )
            async with self._gate.slot() as slot:
                # Submits may have stopped (on_failure: stop) while it waited for the slot.
                self._check_submits(job)
                answer = await self._submit_once(job, request, sent, slot)
            if isinstance(answer, str):
                task_id = answer
                break
            gated += 1
            if gated in _GATE_NOTED or gated % 50 == 0:  # the live view says why it waits
                message = (
                    f"the relay's concurrency gate refused this submit {gated} times (429 "
                    "token_concurrency_limit_reached); sending it again"
                )
                self._report(job, Phase.SUBMITTING, attempt=attempt, message=message)
            await self._gate.pause(gated, answer.retry_after)
        self._report(job, Phase.GENERATING, task_id=task_id, progress=0, attempt=attempt)
        return task_id

    async def _submit_once(
        self, job: Job, request: GenerationRequest, sent: GenerationRequest, slot: Sent
    ) -> str | ConcurrencyLimitReached:
        """Journal the intent and POST ``sent``, holding the gate's ``slot``; the new task's
        id, or the relay's concurrency gate's answer when it refused it (nothing was created:
        the intent is journalled as refused, and the submit is sent again)."""
        # A cancelled run must not slip into the shielded section below: check first.
        await anyio.lowlevel.checkpoint()
        with anyio.CancelScope(shield=True):
            # The journal's commits wait for the disk: in a worker thread, still shielded.
            intent = await self._state_call(
                self._journal.record_intent,
                key=job.key,
                shot_id=job.shot.id,
                take=job.shot.take,
                request=request,
                api_host=self._options.api_host,
                # The job's estimate is its model's; a retry on another (without audio) is
                # priced by the relay's bill.
                cost=job.cost if request.model == job.shot.request.model else None,
            )
            if self._submits_stopped is not None:  # stopped while the intent was written
                stopped = self._submits_stopped
                await self._state_call(self._journal.record_refused, intent, f"not sent: {stopped}")
                raise _NotSubmitted(stopped, waits_on=self._stopped_on)
            try:
                task_id = await self._api.submit(sent.body)
            except ConcurrencyLimitReached as error:
                self._gate.overloaded(slot)
                await self._state_call(self._journal.record_refused, intent, error.message)
                return error
            except SubmitOutcomeUnknown as error:
                await self._state_call(self._journal.record_unknown, intent, error.message)
                self._count_submit(job)  # it may have created a task, and may be billed
                if self._options.offline:  # the offline simulator bills nothing
                    then = "the next offline run submits it again (free)"
                else:
                    then = (
                        "rdpipe will not resend it: check your RelayDance dashboard, then "
                        "rerun with --resubmit-unknown to submit it again"
                    )
                raise _ShotFailed(Phase.UNKNOWN, f"{error.message.rstrip('.')}; {then}") from error
            except _FATAL as error:
                await self._state_call(self._journal.record_refused, intent, error.message)
                raise
            except _CREATED_NOTHING as error:  # the client's retries ran out: nothing created
                await self._state_call(self._journal.record_refused, intent, error.message)
                raise _NotSubmitted(
                    f"{error.message.rstrip('.')}, and still after the client's retries; "
                    "nothing was created (not billed): rerun to submit it"
                ) from error
            except RelayDanceError as error:
                await self._state_call(self._journal.record_refused, intent, error.message)
                raise _ShotFailed(
                    Phase.FAILED, f"refused by RelayDance: {error.message}", outcome=Outcome.REFUSED
                ) from error
            self._gate.succeeded(slot)
            await self._state_call(self._journal.record_submitted, intent, task_id)
            self._following[job.shot.label] = task_id
            self._count_submit(job)
            if self._on_submitted is not None:
                await self._on_submitted(job, task_id)
        return task_id

    def _abandon_unknown(self, job: Job) -> None:
        """Stop reporting the job's unknown submits, as ``--resubmit-unknown`` asks (blocks)."""
        for unknown in self._journal.lookup(job.key, job.shot.take).unknown:
            self._journal.abandon_unknown(unknown.intent_id, "resubmitted with --resubmit-unknown")

    async def _follow(self, job: Job, task_id: str, *, attempt: int = 1) -> TaskStatus:
        """Poll a task until it finishes, recording each new status.

        A poll that cannot reach RelayDance is asked again at the next delay until the shot's
        deadline: a GET is safe to repeat, and the task runs on whether or not it is watched.
        """
        self._following[job.shot.label] = task_id
        self._report(job, Phase.GENERATING, task_id=task_id, attempt=attempt)
        deadline = self._options.shot_deadline
        with anyio.move_on_after(deadline) as scope:
            last_state: TaskState | None = None
            polling = self._options.polling
            delays = polling.delays(self._rng)
            estimate = FinishEstimate(polling)
            delay = next(delays)
            while True:
                await self._waker.sleep(job.shot.label, delay)
                try:
                    status = await self._gate.call(partial(self._api.get_task, task_id))
                except TaskNotFound as error:
                    submitted_to = await self._submitted_to(task_id)
                    text = notes.lost_text(task_id, error, self._options.api_host, submitted_to)
                    raise _TaskLost(error, task_id, text) from error
                except RequestNotBuilt:
                    raise
                except _POLL_OUTAGE as error:
                    self._note_outage(job, task_id, error, attempt)
                    delay = next(delays)
                    continue
                if self._outage:  # said once: the outage is over
                    self._outage = False
                    self._report(job, Phase.GENERATING, task_id=task_id, notice=notes.OUTAGE_OVER)
                if status.state is TaskState.FAILED and self._stops(job, status):
                    # Before anything is awaited: no other shot's submit goes out from now on.
                    self._stop_submits(job)
                if status.state is not last_state:
                    # Only changes of state are written (a disk-synced commit each); progress
                    # ticks are shown, not stored.
                    last_state = status.state
                    await self._record_status(
                        job,
                        task_id,
                        state=status.state.value,
                        progress=status.progress,
                        error_code=status.error_code,
                        error_message=status.error_message,
                        seed=status.seed,
                        duration=status.duration,
                        settled_quota=status.settled_quota,
                    )
                if status.state.finished:
                    self._following.pop(job.shot.label, None)
                    return status
                self._report(
                    job,
                    Phase.GENERATING,
                    task_id=task_id,
                    progress=status.progress,
                    attempt=attempt,
                )
                estimate.add(anyio.current_time(), status.progress)
                delay = estimate.next_delay(next(delays))  # just after the expected end
        assert scope.cancelled_caught
        minutes = deadline / 60
        raise _ShotFailed(
            Phase.FAILED,
            f"task {task_id} gave no result within {minutes:g} min; it stays recorded, "
            "so rerunning picks it up without paying again",
            task_id,
            outcome=Outcome.UNKNOWN,
        )

    def _note_outage(self, job: Job, task_id: str, error: RelayDanceError, attempt: int) -> None:
        """Say once per outage (not once per shot or poll) that polls cannot reach RelayDance."""
        if self._outage:
            return
        self._outage = True
        message = notes.outage_text(error, self._options.shot_deadline / 60)
        self._report(job, Phase.GENERATING, task_id=task_id, attempt=attempt, notice=message)

    async def _download(
        self, job: Job, status: TaskStatus, *, note: str | None = None
    ) -> ShotResult:
        """Download a finished task's clip through the clip store and record it.

        The store names the file the download writes (:meth:`ClipStore.receive`) and moves it
        into its place (:meth:`ClipStore.adopt`); the result carries the clip it stored, and
        ``note`` as its message (what failed before it). The store's file work and the
        journal's commits run in worker threads.
        """
        task_id = status.task_id
        self._downloading.add(job.shot.label)
        self._following[job.shot.label] = task_id
        shot = job.shot
        incoming = await self._state_call(self._clips.receive, shot.id, shot.take, job.key, task_id)
        async with self._download_slots:
            await self._check_owner(job, task_id)
            self._report(job, Phase.DOWNLOADING, task_id=task_id)
            duration = await self._fetch_whole(incoming, status.video_url)
        stored, record = await self._file_call(self._store, job, incoming, duration, status.seed)
        if self._on_stored is not None:
            await self._on_stored(job, record)
        return self._result(
            job,
            Phase.DONE,
            task_id=task_id,
            clip=stored,
            seed=record.seed,
            duration=record.duration,
            message=note,
        )

    def _store(
        self, job: Job, incoming: IncomingClip, duration: float, seed: int | None
    ) -> tuple[StoredClip, ClipRecord]:
        """Adopt a download found whole into the clip store and record it (blocks).

        Downloaded again, a clip recorded for the task takes its place back with the same bytes.
        """
        task_id = incoming.task_id
        recorded = self._journal.lookup(job.key, job.shot.take).clips
        restores = next((clip.file for clip in recorded if clip.task_id == task_id), None)
        stored = self._clips.adopt(incoming, restores=restores)
        self._clips.note_whole(stored.sha256)
        record = self._journal.record_clip(task_id, stored.file, duration=duration, seed=seed)
        return stored, record

    async def _fetch_whole(self, incoming: IncomingClip, video_url: str | None) -> float:
        """Download the clip until it arrives whole: from its link, a fresh link, then the API.

        A clip is paid for, so one that arrives broken, short or as something else (a JSON or
        HTML page) is fetched again, never resubmitted (issue 11 §3); the API's own
        ``/content`` is the last resort, as for an expired link. Returns its duration.
        """
        task_id = incoming.task_id
        sources = [_LINK] if video_url else []
        sources += [_FRESH_LINK, _THROUGH_API]
        for source in sources:
            try:
                return await self._fetch_clip(incoming, source, video_url)
            except _ClipProblem as problem:
                await self._file_call(self._clips.discard, incoming)
                if source == sources[-1]:
                    tried = _tried(sources, task_id)
                    raise _ShotFailed(
                        Phase.FAILED,
                        f"the clip of task {task_id} {problem}; tried {tried}; rerun to try "
                        "again (it is paid for and recorded)",
                        task_id,
                        outcome=Outcome.UNKNOWN,
                    ) from problem
        raise AssertionError("unreachable: the last source returns or raises")

    async def _fetch_clip(
        self, incoming: IncomingClip, source: str, video_url: str | None
    ) -> float:
        """Download a clip to ``incoming`` and return its duration; its bytes say if it is one."""
        task_id, path = incoming.task_id, incoming.path
        try:
            if source == _THROUGH_API:
                clip = await self._api.download(task_id, path, through_api=True)
            else:
                link = video_url if source == _LINK else None
                clip = await self._api.download(task_id, path, video_url=link)
        except RdpipeError as error:
            reason = error.message.rstrip(".")
            raise _ClipProblem(f"could not be downloaded whole: {reason}") from error
        try:
            return await self._probe(path)
        except MediaIncomplete as error:
            sent = what_was_sent(clip.source, clip.size, clip.content_type)
            raise _ClipProblem(f"is incomplete: {sent}; {error.problem}") from error
        except RdpipeError as error:
            head = await self._file_call(_read_head, path)
            sent = not_a_video(clip.source, clip.size, clip.content_type, head, error.message)
            raise _ClipProblem(f"did not arrive: {sent}") from error

    async def _last_frame(self, job: Job, upstream_id: str) -> bytes:
        """Wait for the shot this one continues from; its last frame's PNG bytes."""
        self._report(job, Phase.WAITING, message=f"waiting for shot {upstream_id!r}")
        # The upstream rendition the key hashes in (plan.shot_keys): the same, else the
        # storyboard's, else the drafts of a shot awaiting a pick.
        labels = next(
            (
                self._labels[upstream_id, rendition]
                for rendition in (job.shot.rendition, "", DRAFT)
                if (upstream_id, rendition) in self._labels
            ),
            [],
        )
        for label in labels:
            await self._finished[label].wait()
        upstream = picked_result([self._results[label] for label in labels], self._pick(labels))
        if upstream is None or upstream.clip is None:
            raise _NotSubmitted(
                f"it starts from the last frame of shot {upstream_id!r}, which did not finish"
            )
        frame = upstream.clip.last_frame
        if not await anyio.to_thread.run_sync(frame.exists):
            await self._extract_frame(upstream.clip.path, frame)
        return await anyio.to_thread.run_sync(frame.read_bytes)

    async def _record_status(self, job: Job, task_id: str, **fields: Any) -> None:
        def record() -> None:
            self._owned(job, task_id)
            self._journal.record_status(task_id, **fields)

        await self._state_call(record)

    async def _check_owner(self, job: Job, task_id: str) -> None:
        """Raise :class:`TaskReissued` if ``task_id`` now names another shot's task."""
        await self._state_call(self._owned, job, task_id)

    def _owned(self, job: Job, task_id: str) -> None:
        """Raise :class:`TaskReissued` if ``task_id`` now names another shot's task (blocks).

        A server that hands out an id twice (issue 10) makes the id answer for the later task:
        its status and clip must not be taken for this shot's.
        """
        current = self._journal.task(task_id)
        if current is None or (current.key, current.take) != (job.key, job.shot.take):
            raise TaskReissued(task_id, job.shot.id)

    async def _state_call(self, call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """``call(*args, **kwargs)``, a journal commit or lookup (or a folder made), where the
        state's blocking calls run: in a run, one worker thread (the store serialises them)."""
        return await self._state_calls(partial(call, *args, **kwargs))

    async def _file_call(self, call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """``call(*args, **kwargs)``, work on clip files (hashing, fsyncing, reading), where
        blocking file work runs: in a run, anyio's worker threads, several at once."""
        return await self._file_calls(partial(call, *args, **kwargs))

    def _count_submit(self, job: Job) -> None:
        label = job.shot.label
        self._submits[label] = self._submits.get(label, 0) + 1

    def _pick(self, labels: Sequence[str]) -> int | None:
        return self._jobs[labels[0]].shot.pick if labels else None

    def _report(self, job: Job, phase: Phase, **fields: Any) -> None:
        shot = job.shot
        self._reporter.update(
            ShotUpdate(
                shot.id,
                phase,
                take=shot.take,
                takes=shot.takes,
                rendition=shot.rendition,
                **fields,
            )
        )


_LINK = "its link"
_FRESH_LINK = "a fresh link from the task"
_THROUGH_API = "GET /v1/videos/{task_id}/content"


def _tried(sources: Sequence[str], task_id: str) -> str:
    """``its link, a fresh link from the task and GET /v1/videos/task_…/content``."""
    named = [source.format(task_id=task_id) for source in sources]
    return ", ".join(named[:-1]) + f" and {named[-1]}"


def _failure_text(job: Job, status: TaskStatus, failed: GenerationRequest) -> str:
    """What a failed task of the shot said, ``failed`` being the request it was (with or
    without sound)."""
    failure = classify_failure(status.error_code)
    shot = replace(job.shot, request=failed)
    return failure_text(shot, failure, status.error_code, status.error_message)


def _without_audio(request: GenerationRequest) -> GenerationRequest:
    """``request`` with ``generate_audio: false``, its other settings kept."""
    metadata = request.metadata
    return request.with_settings(
        ratio=metadata.ratio, resolution=metadata.resolution, generate_audio=False
    )


def _read_head(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(HEAD_SIZE)
