"""``rdpipe run`` end to end: validate, plan against the run state, generate, record, assemble.

It wires the layers together and owns the decisions that need more than one of them: where a
run's files live (``Workspace``), what the state says about each shot (``decide``), the budget
guard, the manifest and the lock file. The scheduler does the concurrent work.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdpipe.errors import ExitCode, RdpipeError
from rdpipe.plan import Action, Decision, Plan, plan_run
from rdpipe.scheduler import (
    Phase,
    PollSchedule,
    Reporter,
    Scheduler,
    SchedulerOptions,
    ShotResult,
)
from rdpipe.scheduler.scheduler import GenerationApi
from rdpipe.state import (
    ClipStore,
    LockFile,
    StatePaths,
    StateStore,
    lock_shot,
    redact_request,
)
from rdpipe.validate import PreparedPipeline


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
    def for_pipeline(cls, prepared: PreparedPipeline, *, offline: bool) -> Workspace:
        path = prepared.loaded.path
        relative = Path(prepared.loaded.pipeline.output.path)
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
    assemble: bool = True
    poll_interval: float | None = None  # first poll delay in seconds; None: the default
    shot_timeout: float = 30 * 60.0  # seconds one generation may take
    run_timeout: float | None = None  # seconds the whole run may take


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
        return sum(result.submits for result in self.results)

    @property
    def reused(self) -> int:
        return sum(result.phase is Phase.CACHED for result in self.results)

    @property
    def failed(self) -> int:
        return sum(not result.ok for result in self.results)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.failed == 0 else ExitCode.FAILED

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` summary object."""
        return {
            "output": str(self.output) if self.output else None,
            "shots": [
                {
                    "id": result.shot_id,
                    "status": result.phase.value,
                    "task_id": result.task_id,
                    "clip": str(self.workspace.output_dir / result.clip) if result.clip else None,
                    "cached": result.phase is Phase.CACHED,
                    "message": result.message,
                }
                for result in self.results
            ],
            "submitted": self.submitted,
            "reused": self.reused,
            "failed": self.failed,
        }


def decide(
    store: StateStore, clips: ClipStore, key: str, *, resubmit_unknown: bool
) -> Decision | None:
    """What the run state says about one key: reuse, resume, block or retry."""
    state = store.lookup(key, 1)
    for clip in state.clips:
        if clips.verify(clip.file).ok:
            return Decision(Action.REUSE, f"cached clip {clip.path}", clip=clip.path)
    if state.succeeded:
        task = state.succeeded[0]
        return Decision(
            Action.RESUME,
            f"task {task.task_id} finished; its clip is missing, downloading it again",
            task_id=task.task_id,
        )
    if state.in_flight:
        task = state.in_flight[0]
        return Decision(
            Action.RESUME,
            f"task {task.task_id} was submitted earlier; following it (no new charge)",
            task_id=task.task_id,
        )
    if state.unknown and not resubmit_unknown:
        intent = state.unknown[0]
        return Decision(
            Action.BLOCKED,
            f"an earlier submit's outcome is unknown ({intent.reason or 'no answer'}); it may have "
            "been billed, so it is not resent: check your RelayDance dashboard, then rerun with "
            "--resubmit-unknown",
        )
    if state.failed:
        task = state.failed[0]
        reason = task.error_message or "no reason given"
        if task.error_code:
            reason += f" ({task.error_code})"
        return Decision(
            Action.GENERATE,
            f"the last attempt failed: {reason}; trying again",
            failed_before=True,
        )
    return None


def plan_with_state(
    prepared: PreparedPipeline,
    store: StateStore,
    clips: ClipStore,
    settings: RunSettings,
) -> Plan:
    """The plan of this run: every shot's action given what the state knows."""
    ids = [shot.id for shot in prepared.shots]
    for name in settings.force:
        if name not in ids:
            raise UnknownShot(name, ids)
    return plan_run(
        prepared.name,
        prepared.shots,
        lookup=lambda key: decide(store, clips, key, resubmit_unknown=settings.resubmit_unknown),
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
    return SchedulerOptions(
        tasks=tasks,
        downloads=concurrency.downloads,
        polling=polling,
        shot_deadline=settings.shot_timeout,
        run_deadline=settings.run_timeout,
        fail_fast=settings.fail_fast,
        resubmit_unknown=settings.resubmit_unknown,
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
) -> list[ShotResult]:
    """Run the plan's jobs with the scheduler, then record the lock file and manifest."""
    from rdpipe.assemble import extract_last_frame, probe_duration
    from rdpipe.ffmpeg_path import find_ffmpeg

    ffmpeg = find_ffmpeg(environ)

    async def extract(clip: Path, dest: Path) -> Path:
        return await extract_last_frame(clip, dest, ffmpeg=ffmpeg)

    scheduler = Scheduler(
        api=api,
        journal=store,
        clips=ClipStore(workspace.output_dir),
        reporter=reporter,
        options=options,
        probe=probe_duration,
        extract_frame=extract,
        rng=rng,
    )
    try:
        results = await scheduler.run(plan.jobs)
    finally:
        write_lock_file(prepared, plan, store, workspace)
    write_manifest(prepared, plan, results, workspace)
    return results


def write_lock_file(
    prepared: PreparedPipeline, plan: Plan, store: StateStore, workspace: Workspace
) -> None:
    """Rewrite the committed lock file (not for offline previews): one entry per finished shot."""
    if workspace.offline:
        return
    entries = []
    for job in plan.jobs:
        entry = lock_shot(job.shot.id, [store.lookup(job.key, 1)])
        if entry is not None:
            entries.append(entry)
    LockFile(workspace.state.lock_file).write(entries)


def write_manifest(
    prepared: PreparedPipeline, plan: Plan, results: Sequence[ShotResult], workspace: Workspace
) -> None:
    """``manifest.json``: each shot's request (data URLs reduced to hashes), task, clip, hashes."""
    shots = []
    for job, result in zip(plan.jobs, results, strict=True):
        request = json.loads(redact_request(json.dumps(job.shot.request)))
        shots.append(
            {
                "id": job.shot.id,
                "key": job.key,
                "status": result.phase.value,
                "task_id": result.task_id,
                "clip": result.clip,
                "seed": result.seed,
                "duration": result.duration,
                "message": result.message,
                "request": request,
            }
        )
    document = {"pipeline": prepared.name, "version": 1, "shots": shots}
    workspace.output_dir.mkdir(parents=True, exist_ok=True)
    _write_json(workspace.manifest, document)


def _write_json(path: Path, document: Any) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    os.replace(temporary, path)


def _target_format(prepared: PreparedPipeline) -> Any:
    """The storyboard's frame size from the file's ratio and resolution, when both are known."""
    import re

    from rdpipe.assemble import TargetFormat

    pipeline = prepared.loaded.pipeline
    ratio = pipeline.defaults.ratio
    resolution: str | None = pipeline.defaults.resolution
    if resolution is None:
        found = re.search(r"-(480p|720p|1080p)$", pipeline.defaults.model or pipeline.model or "")
        resolution = found.group(1) if found else None
    if ratio is None or ratio == "adaptive" or resolution is None:
        return None
    return TargetFormat.from_ratio(ratio, resolution)


async def assemble_video(
    prepared: PreparedPipeline,
    results: Sequence[ShotResult],
    workspace: Workspace,
    *,
    environ: Mapping[str, str],
) -> Path:
    """Join the finished clips, in storyboard order, into the storyboard video."""
    from rdpipe.assemble import ClipInput, assemble
    from rdpipe.ffmpeg_path import find_ffmpeg

    shots = {shot.id: shot for shot in prepared.loaded.pipeline.shots}
    rendered = {shot.id: shot for shot in prepared.shots}
    clips = [
        ClipInput(
            shot_id=result.shot_id,
            path=workspace.output_dir / result.clip,
            prompt=str(rendered[result.shot_id].request["prompt"]),
            caption=rendered[result.shot_id].caption,
            trim=shots[result.shot_id].trim,
        )
        for result in results
        if result.ok and result.clip is not None
    ]
    if not clips:
        raise RdpipeError("no clip to assemble: no shot has finished yet")
    target = _target_format(prepared)
    stamp = workspace.output_dir / ".cache" / f"{workspace.video.name}.inputs"
    fingerprint = _assembly_fingerprint(clips, prepared, target)
    if _up_to_date(workspace.video, stamp, fingerprint):
        return workspace.video
    outcome = await assemble(
        clips,
        prepared.loaded.pipeline.output,
        output=workspace.video,
        cache_dir=workspace.output_dir / ".cache",
        ffmpeg=find_ffmpeg(environ),
        target=target,
        base_dir=prepared.loaded.root,
    )
    video = outcome.output.stat()
    stamp.write_text(f"{fingerprint} {video.st_size} {video.st_mtime_ns}\n", encoding="utf-8")
    return outcome.output


def _assembly_fingerprint(clips: Sequence[Any], prepared: PreparedPipeline, target: Any) -> str:
    """A digest of everything the video is made from: clip files, their order and the spec."""
    import hashlib

    parts: list[Any] = [prepared.loaded.pipeline.output.model_dump(mode="json"), repr(target)]
    for clip in clips:
        info = clip.path.stat()
        parts.append(
            [clip.shot_id, str(clip.path), info.st_size, info.st_mtime_ns, clip.caption,
             clip.prompt, clip.trim.model_dump() if clip.trim else None]
        )  # fmt: skip
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _up_to_date(video: Path, stamp: Path, fingerprint: str) -> bool:
    """Whether ``video`` was built from exactly these inputs and is untouched since."""
    try:
        recorded = stamp.read_text(encoding="utf-8").split()
        info = video.stat()
    except OSError:
        return False
    return recorded == [fingerprint, str(info.st_size), str(info.st_mtime_ns)]


def cached_results(plan: Plan, store: StateStore) -> list[ShotResult]:
    """Results for the shots whose clips are on disk, for assembling without the API."""
    results: list[ShotResult] = []
    clips = {job.key: job.clip for job in plan.jobs if job.clip}
    for job in plan.jobs:
        clip = clips.get(job.key)
        if clip is None:
            continue
        record = store.lookup(job.key, 1).clip
        results.append(
            ShotResult(
                job.shot.id,
                job.key,
                Phase.CACHED,
                task_id=record.task_id if record else None,
                clip=clip,
                seed=record.seed if record else None,
                duration=record.duration if record else None,
            )
        )
    return results
