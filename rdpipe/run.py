"""``rdpipe run`` end to end: validate, plan against the run state, generate, record, assemble.

It wires the layers together and owns the decisions that need more than one of them: where a
run's files live (``Workspace``), what the state says about each shot (``decide``), the budget
guard, the manifest and the lock file. The scheduler does the concurrent work.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rdpipe.errors import ExitCode, RdpipeError
from rdpipe.load.loader import LoadedPipeline
from rdpipe.manifest import (
    ManifestBuilder,
    ManifestReporter,
    TakeView,
    views_of,
    write_manifest,
)
from rdpipe.plan import Action, Plan, decide, plan_run
from rdpipe.scheduler import (
    GenerationApi,
    Phase,
    PollSchedule,
    Reporter,
    SchedulerOptions,
    ShotResult,
    ShotUpdate,
    Waker,
)
from rdpipe.state import (
    ClipStore,
    LockFile,
    MediaVerdicts,
    ShotState,
    StatePaths,
    StateStore,
    lock_shot,
)
from rdpipe.validate import PreparedPipeline

#: Polling while webhooks are expected: slow, a backstop for deliveries that never come.
WEBHOOK_BACKSTOP = PollSchedule(first=30.0, cap=120.0)


class BudgetExceeded(RdpipeError):
    """The run would bill more seconds than the budget allows; nothing was submitted."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, seconds: int, budget: int, source: str) -> None:
        super().__init__(
            f"this run would bill {seconds} s of generation, above the budget of {budget} s "
            f"({source}); nothing was submitted",
            hint="Raise the budget, or run fewer shots (rdpipe plan shows what each costs).",
        )


class UnknownShot(RdpipeError):
    """``--force`` named a shot the pipeline does not have."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, name: str, known: Sequence[str]) -> None:
        super().__init__(f"--force {name}: no such shot; the shots are {', '.join(known)}")


@dataclass(frozen=True)
class Workspace:
    """Where one pipeline's run writes: outputs, clips, state. Offline runs get their own.

    Offline previews never mix with paid clips: they live in ``<output dir>/offline/`` with a
    separate state database, and write no lock file.
    """

    pipeline_file: Path
    output_dir: Path
    video: Path
    state: StatePaths
    offline: bool

    @classmethod
    def for_pipeline(cls, loaded: LoadedPipeline, *, offline: bool) -> Workspace:
        path = loaded.path
        relative = Path(loaded.pipeline.output.path)
        output_dir = (path.parent / relative).parent
        state = StatePaths.for_pipeline(path)
        if offline:
            output_dir = output_dir / "offline"
            offline_dir = state.state_dir / "offline"
            state = StatePaths(
                pipeline=state.pipeline,
                state_dir=offline_dir,
                database=offline_dir / "state.db",
                run_lock=offline_dir / f"{state.pipeline}.run.lock",
                lock_file=offline_dir / f"{state.pipeline}.rdpipe.lock",
            )
        return cls(path, output_dir, output_dir / relative.name, state, offline)

    @property
    def manifest(self) -> Path:
        return self.output_dir / "manifest.json"


@dataclass(frozen=True)
class RunSettings:
    """What the user asked of this run, beyond the pipeline file."""

    offline: bool = False
    concurrency: int | None = None
    max_seconds: int | None = None
    force: tuple[str, ...] = ()
    fail_fast: bool = False
    partial: bool = False
    resubmit_unknown: bool = False
    wait_for_other_run: float = 0.0
    poll_interval: float | None = None  # first poll delay in seconds; None: the default
    listen: str | None = None  # HOST:PORT of the webhook receiver
    public_url: str | None = None  # how RelayDance reaches the receiver
    shot_timeout: float = 30 * 60.0  # seconds one generation may take
    run_timeout: float | None = None  # seconds the whole run may take

    @property
    def resubmits_unknown(self) -> bool:
        """Whether a submit of unknown outcome is sent again: asked for, or free (offline)."""
        return self.resubmit_unknown or self.offline


@dataclass
class RunSummary:
    """The outcome of a run: per-shot results, counts and the video, if one was made."""

    pipeline: str
    workspace: Workspace
    results: list[ShotResult]
    plan: Plan
    output: Path | None = None
    notes: list[str] = field(default_factory=list)

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
        """Shots that ended without a clip: failed, or skipped because of another's failure."""
        return sum(result.phase in (Phase.FAILED, Phase.SKIPPED) for result in self.results)

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

    def counts(self) -> str:
        """``4 submitted, 0 resumed, 0 reused, 1 failed, 3 in flight`` (zero extras left out)."""
        text = (
            f"{self.submitted} submitted, {self.resumed} resumed, {self.reused} reused, "
            f"{self.failed} failed"
        )
        for count, name in ((self.unknown, "unknown"), (self.in_flight, "in flight")):
            text += f", {count} {name}" if count else ""
        return text

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` summary object."""
        return {
            "output": str(self.output) if self.output else None,
            "shots": [
                {
                    "id": result.shot_id,
                    "take": result.take,
                    "status": result.phase.value,
                    "task_id": result.task_id,
                    "clip": str(self.workspace.output_dir / result.clip) if result.clip else None,
                    "cached": result.phase is Phase.CACHED,
                    "message": result.message,
                }
                for result in self.results
            ],
            "submitted": self.submitted,
            "resumed": self.resumed,
            "reused": self.reused,
            "failed": self.failed,
            "unknown": self.unknown,
            "in_flight": self.in_flight,
        }


def plan_with_state(
    prepared: PreparedPipeline,
    store: StateStore,
    clips: ClipStore,
    settings: RunSettings,
    *,
    run_in_progress: bool = False,
) -> Plan:
    """The plan of this run: every shot's action given what the state knows."""
    ids = [shot.id for shot in prepared.shots]
    for name in settings.force:
        if name not in ids:
            raise UnknownShot(name, ids)
    return plan_run(
        prepared.name,
        prepared.shots,
        lookup=lambda key, take: decide(
            store,
            clips,
            key,
            take,
            resubmit_unknown=settings.resubmits_unknown,
            run_in_progress=run_in_progress,
        ),
        force={name: True for name in settings.force},
    )


def check_budget(plan: Plan, prepared: PreparedPipeline, settings: RunSettings) -> None:
    """Refuse a run whose billed seconds exceed --max-seconds or the file's budget."""
    limits = [
        (settings.max_seconds, "--max-seconds"),
        (prepared.loaded.pipeline.budget, f"budget: in {prepared.loaded.shown_as}"),
    ]
    for budget, source in limits:
        if budget is not None and plan.billed_seconds > budget:
            raise BudgetExceeded(plan.billed_seconds, budget, source)


def scheduler_options(
    prepared: PreparedPipeline, settings: RunSettings, base: SchedulerOptions
) -> SchedulerOptions:
    concurrency = prepared.loaded.pipeline.concurrency
    tasks = settings.concurrency or concurrency.tasks
    polling = base.polling
    if settings.poll_interval is not None:
        polling = PollSchedule.every(settings.poll_interval)
    elif settings.listen is not None:
        polling = WEBHOOK_BACKSTOP  # callbacks wake shots; polling only catches lost ones
    return SchedulerOptions(
        tasks=tasks,
        downloads=concurrency.downloads,
        polling=polling,
        shot_deadline=settings.shot_timeout,
        run_deadline=settings.run_timeout,
        fail_fast=settings.fail_fast,
        resubmit_unknown=settings.resubmits_unknown,
        resubmit_lost=settings.offline,  # the simulator forgets its tasks when a run ends
    )


async def execute(
    prepared: PreparedPipeline,
    plan: Plan,
    workspace: Workspace,
    *,
    api: GenerationApi,
    store: StateStore,
    reporter: Reporter,
    options: SchedulerOptions,
    environ: Mapping[str, str],
    rng: random.Random | None = None,
    waker: Waker | None = None,
    callback_url: Callable[[str], str] | None = None,
) -> list[ShotResult]:
    """Run the plan's jobs with the scheduler, then record the lock file and manifest.

    A plan with nothing to send (every shot cached or blocked) is settled from the state
    alone, without loading the scheduler, the HTTP client or ffmpeg.
    """
    if not plan.needs_api:
        results = settle_without_api(plan, store)
        for job, result in zip(plan.jobs, results, strict=True):
            reporter.update(
                ShotUpdate(job.shot.id, result.phase, task_id=result.task_id,
                           message=result.message, clip=result.clip,
                           take=job.shot.take, takes=job.shot.takes)
            )  # fmt: skip
        write_lock_file(plan, store, workspace)
        record_manifest(prepared, plan, views_of(results, plan), workspace, running=False)
        return results
    from rdpipe.assemble import extract_last_frame, probe_whole_duration
    from rdpipe.ffmpeg_path import find_ffmpeg
    from rdpipe.scheduler.scheduler import Scheduler

    ffmpeg = find_ffmpeg(environ)

    async def extract(clip: Path, dest: Path) -> Path:
        return await extract_last_frame(clip, dest, ffmpeg=ffmpeg)

    builder = ManifestBuilder(prepared, plan)

    def progress(takes: Mapping[str, TakeView], running: bool) -> None:
        record_manifest(prepared, plan, takes, workspace, running=running, builder=builder)

    scheduler = Scheduler(
        api=api,
        journal=store,
        clips=ClipStore(workspace.output_dir),
        reporter=ManifestReporter(reporter, progress, interval=max(1.0, len(plan.jobs) / 200)),
        options=options,
        probe=probe_whole_duration,
        extract_frame=extract,
        rng=rng,
        waker=waker,
        callback_url=callback_url,
    )
    try:
        results = await scheduler.run(plan.jobs)
    finally:
        write_lock_file(plan, store, workspace)
    views = views_of(results, plan)
    record_manifest(prepared, plan, views, workspace, running=False, builder=builder)
    return results


def record_manifest(
    prepared: PreparedPipeline,
    plan: Plan,
    takes: Mapping[str, TakeView],
    workspace: Workspace,
    *,
    running: bool,
    video: Path | None = None,
    builder: ManifestBuilder | None = None,
) -> None:
    """Write ``manifest.json`` for the current state of the run."""
    sheet = workspace.video.with_suffix(".contact.png")
    document = (builder or ManifestBuilder(prepared, plan)).document(
        takes,
        video=workspace.video.name if video is not None else None,
        contact_sheet=sheet.name if video is not None and sheet.exists() else None,
        running=running,
        now=time.time(),
    )
    write_manifest(workspace.manifest, document)


def write_lock_file(plan: Plan, store: StateStore, workspace: Workspace) -> None:
    """Rewrite the committed lock file (not for offline previews): one entry per finished shot."""
    if workspace.offline:
        return
    states: dict[str, list[ShotState]] = {}
    verdicts = MediaVerdicts(workspace.output_dir / ".cache" / "media.json")
    for job in plan.jobs:
        state = store.lookup(job.key, job.shot.take)
        # Only verified clips: not one whose media was found incomplete (issue 11 §3).
        whole = tuple(c for c in state.clips if (v := verdicts.recall(c.sha256)) is None or v.whole)
        states.setdefault(job.shot.id, []).append(replace(state, clips=whole))
    entries = [entry for shot_id, taken in states.items() if (entry := lock_shot(shot_id, taken))]
    LockFile(workspace.state.lock_file).write(entries)


def settle_without_api(plan: Plan, store: StateStore) -> list[ShotResult]:
    """Results of a plan that sends nothing: cached clips, and blocked or missing shots."""
    clips = {job.key: job.clip for job in plan.jobs if job.clip}
    results: list[ShotResult] = []
    for job in plan.jobs:
        take = job.shot.take
        clip = clips.get(job.key)
        if clip is None:
            phase = {Action.BLOCKED: Phase.UNKNOWN, Action.REFUSED: Phase.FAILED}.get(
                job.action, Phase.SKIPPED
            )
            results.append(
                ShotResult(
                    job.shot.id, job.key, phase, task_id=job.task_id, message=job.reason, take=take
                )
            )
            continue
        record = store.lookup(job.key, take).clip
        results.append(
            ShotResult(
                job.shot.id,
                job.key,
                Phase.CACHED,
                task_id=record.task_id if record else None,
                clip=clip,
                seed=record.seed if record else None,
                duration=record.duration if record else None,
                take=take,
            )
        )
    return results
