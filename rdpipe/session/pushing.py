"""What a run pushes to the shared clip store, and what it says when a push fails (issue 13 §2).

Each clip is pushed the moment the scheduler has stored and recorded it (:func:`clip_pusher`).
Clips of the plan the store's index lacks (a push a stopped run did not finish, a store set up
after the clips were made) are pushed before the run generates anything (:func:`unpushed`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rdpipe.plan import Action, Job
from rdpipe.remote import IndexEntry
from rdpipe.scheduler import ClipStored
from rdpipe.session.events import RunNote, RunReporter
from rdpipe.session.session import PipelineSession
from rdpipe.state import ClipRecord

if TYPE_CHECKING:
    from rdpipe.scheduler.pushes import PushFailed


def index_entry(job: Job, record: ClipRecord) -> IndexEntry:
    """The shared store's index entry for ``job``'s recorded clip."""
    return IndexEntry(
        key=job.key,
        take=job.shot.take,
        sha256=record.sha256,
        size=record.size,
        task_id=record.task_id,
        seed=record.seed,
        duration=record.duration,
        model=job.shot.model,
        shot_id=job.shot.id,
    )


def unpushed(session: PipelineSession) -> list[tuple[Path, IndexEntry]]:
    """The plan's clips (reused, with their records) that the store's index does not name."""
    if session.shared is None or session.sources is None:
        return []
    indexed = session.sources.shared
    pending = []
    for job in session.plan.jobs:
        if job.action is not Action.REUSE or job.clip is None:
            continue
        entry = indexed.get((job.key, job.shot.take))
        if entry is not None and entry.sha256 == job.clip.sha256:
            continue
        record = session.store.lookup(job.key, job.shot.take).clip
        if record is not None and record.sha256 == job.clip.sha256:
            pending.append((job.clip.path, index_entry(job, record)))
    return pending


def push_failed(reporter: RunReporter, pipeline: str) -> PushFailed:
    """What to do when a push fails: say so, the clip kept here and how to push it later."""

    def say(entry: IndexEntry, reason: str) -> None:
        reporter.run_event(
            RunNote(
                f"shot {entry.shot_id}: its clip is kept here but was not pushed to the shared "
                f"store ({reason.rstrip('.')}); the next run, or `rdpipe push {pipeline}`, "
                "pushes it"
            )
        )

    return say


def clip_pusher(session: PipelineSession, reporter: RunReporter) -> ClipStored | None:
    """The scheduler's hook that pushes each clip as it is stored; ``None`` without a store."""
    shared = session.shared
    if shared is None:
        return None
    from rdpipe.scheduler.pushes import push_clip

    on_failure = push_failed(reporter, session.prepared.loaded.shown_as)
    clips = session.clips

    async def push(job: Job, record: ClipRecord) -> None:
        await push_clip(shared, clips.resolve(record.path), index_entry(job, record), on_failure)

    return push
