"""Only whole clips count (issue 11 §3): the media check of recorded clips, and fetching again.

``rdpipe run`` and ``rdpipe assemble`` plan with a clip store that checks each recorded clip's
media once per content (:func:`whole_clip_store`). A clip found cut short or damaged on disk
(a full disk, an interrupted copy) is downloaded again from the task that made it: a fresh
link from ``GET /v1/videos/{id}``, else ``/v1/videos/{id}/content``. It was paid for, so it is
never resubmitted; ``assemble`` does this download itself with :func:`refetch_clips`, sending
GETs only.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

import anyio.to_thread

from rdpipe.plan import Action, Job, Plan
from rdpipe.scheduler import GenerationApi, PollSchedule, Reporter, SchedulerOptions, ShotResult
from rdpipe.state import ClipStore, StateStore

#: A finished task answers its first poll: ask at once, backing off only if it somehow runs.
_FINISHED_POLLING = PollSchedule(first=0.01, factor=2.0, cap=30.0)


def check_media(path: Path) -> str | None:
    """What the clip at ``path`` lacks, or ``None`` when whole (PyAV is loaded on first use)."""
    from rdpipe.assemble import media_gap

    return media_gap(path)


def whole_clip_store(output_dir: Path) -> ClipStore:
    """The clip store of a run's outputs, counting only clips whose media is whole."""
    return ClipStore(output_dir, media_check=check_media)


def clip_damage(job: Job, store: StateStore, clips: ClipStore) -> str:
    """What is wrong with the recorded clip of a job to download again (``… is incomplete: …``)."""
    for clip in store.lookup(job.key, job.shot.take).clips:
        check = clips.verify(clip.file)
        if not check.ok:
            return check.detail
    return "its clip is missing"


def finished_resumes(plan: Plan, store: StateStore) -> list[Job]:
    """Jobs whose task finished but whose clip is missing or damaged: to download again."""
    return [
        job
        for job in plan.jobs
        if job.action is Action.RESUME
        and any(
            task.task_id == job.task_id for task in store.lookup(job.key, job.shot.take).succeeded
        )
    ]


async def refetch_clips(
    jobs: Sequence[Job],
    clips: ClipStore,
    *,
    api: GenerationApi,
    store: StateStore,
    reporter: Reporter,
    offline: bool = False,
    api_host: str | None = None,
) -> list[ShotResult]:
    """Download the clips of finished tasks again into ``clips``, never submitting; one result
    per job.

    ``offline``: the API is a new simulator, which has none of an earlier run's tasks.
    ``api_host``: where ``api`` sends requests; a task submitted elsewhere is not asked there.
    """
    await anyio.to_thread.run_sync(_load_downloading)
    from rdpipe.assemble import probe_whole_duration  # loaded above
    from rdpipe.scheduler.scheduler import Scheduler

    async def no_frames(clip: Path, dest: Path) -> Path:
        raise AssertionError("a finished task needs no continuity frame")

    scheduler = Scheduler(
        api=api,
        journal=store,
        clips=clips,
        reporter=reporter,
        options=SchedulerOptions(
            polling=_FINISHED_POLLING, submits=False, offline=offline, api_host=api_host
        ),
        probe=probe_whole_duration,
        extract_frame=no_frames,
    )
    return await scheduler.run(jobs)


def _load_downloading() -> None:
    """Import the scheduler and the media probe (PyAV with it): they read files (blocking)."""
    importlib.import_module("rdpipe.assemble")
    importlib.import_module("rdpipe.scheduler.scheduler")
