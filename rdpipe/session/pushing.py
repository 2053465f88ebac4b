"""What a run pushes to the shared clip store, and what it says when a push fails (issue 13 §2).

Each clip is pushed the moment the scheduler has stored and recorded it (:func:`clip_pusher`).
Clips of the plan never pushed to this store from this machine (a push a stopped run did not
finish, a store set up after the clips were made) are pushed before the run generates
anything (:func:`unpushed`); :class:`~rdpipe.state.PushedClips` remembers what was pushed, so a
run that changes nothing does not look at the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rdpipe.plan import Action, Job
from rdpipe.scheduler import ClipStored
from rdpipe.session.bills import lock_costs, take_cost
from rdpipe.session.events import RunNote, RunReporter
from rdpipe.session.session import PipelineSession
from rdpipe.state import ClipRecord, PushedClips, TakeCost

if TYPE_CHECKING:
    from rdpipe.remote import IndexEntry


def index_entry(
    job: Job, record: ClipRecord, locked: Mapping[str, TakeCost] | None = None
) -> IndexEntry:
    """The shared store's index entry for ``job``'s recorded clip, with its cost as its lock
    entry has it (``locked``: the lock file's costs by task id), else as the state recorded it."""
    from rdpipe.remote import IndexEntry

    cost = (locked or {}).get(record.task_id) or take_cost(record)
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
        cost=cost,
    )


def recorded_clips(session: PipelineSession) -> list[tuple[Path, IndexEntry]]:
    """Every clip of the plan (reused, with its record), with the entry that indexes it."""
    clips = []
    locked = lock_costs(session.lock_entries or ())
    for job in session.plan.jobs:
        if job.action is not Action.REUSE or job.clip is None:
            continue
        record = session.store.lookup(job.key, job.shot.take).clip
        if record is not None and record.sha256 == job.clip.sha256:
            clips.append((job.clip.path, index_entry(job, record, locked)))
    return clips


def unpushed(session: PipelineSession, pushed: PushedClips) -> list[tuple[Path, IndexEntry]]:
    """The plan's clips never pushed to the session's store from this machine, less those this
    command pulled from it."""
    if session.shared is None:
        return []
    url = session.shared.url
    return [
        (path, entry)
        for path, entry in recorded_clips(session)
        if (url, entry.sha256) not in pushed and entry.sha256 not in session.in_store
    ]


@dataclass
class PushNotes:
    """Remembers each clip pushed and counts the uploads; says so when a push fails, and how
    to push it later (one note per reason, naming the shots)."""

    reporter: RunReporter
    pushed_clips: PushedClips
    store: str
    pipeline: str  # the pipeline file, as the user wrote it
    uploaded: int = 0

    def pushed(self, entry: IndexEntry, uploaded: bool) -> None:
        self.pushed_clips.note(self.store, entry.sha256)
        self.uploaded += uploaded

    def failed(self, entry: IndexEntry, reason: str) -> None:
        self.reporter.run_event(
            RunNote(
                f"shot {entry.shot_id}: its clip is kept here but was not pushed to the shared "
                f"store: {reason.rstrip('.')}. The next run, or `rdpipe push {self.pipeline}`, "
                "pushes it"
            )
        )


def clip_pusher(session: PipelineSession, notes: PushNotes | None) -> ClipStored | None:
    """The scheduler's hook that pushes each clip as it is stored; ``None`` without a store."""
    shared = session.shared
    if shared is None or notes is None:
        return None
    from rdpipe.scheduler.pushes import push_clip

    clips = session.clips
    locked = lock_costs(session.lock_entries or ())

    async def push(job: Job, record: ClipRecord) -> None:
        entry = index_entry(job, record, locked)
        await push_clip(shared, clips.resolve(record.path), entry, notes)

    return push


def push_notes(session: PipelineSession, reporter: RunReporter) -> PushNotes | None:
    """The push watcher of a run with a shared store; ``None`` without one."""
    if session.shared is None:
        return None
    pushed = PushedClips(session.workspace.state.state_dir)
    pipeline = session.prepared.loaded.shown_as
    return PushNotes(reporter, pushed, session.shared.url, pipeline)
