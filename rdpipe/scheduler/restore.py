"""Obtaining clips made before without submitting: from the shared clip store, or from the task
that made them on the server (issue 13 §1).

Each job is a :class:`~rdpipe.plan.Job` whose action is ``restore``: its
:class:`~rdpipe.plan.KnownClip` names the task and the clip's SHA-256. A clip arrives through
the clip store (:meth:`~rdpipe.state.ClipStore.receive`), its hash is checked against the one
known before it is kept (a clip with other bytes is not the clip the lock file names), its media
is checked, and the state records it as that task's clip (:meth:`StateStore.record_restored`),
so the lock file written after names the same task, clip, seed and duration. Nothing is ever
submitted here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import anyio
import anyio.to_thread

from rdpipe.client import RelayDanceError, TaskNotFound, TaskState
from rdpipe.errors import RdpipeError
from rdpipe.plan import Job, KnownClip, known_clip
from rdpipe.remote import RemoteClipCorrupt, RemoteClipMissing, RemoteError, SharedClipStore
from rdpipe.scheduler.results import GenerationApi
from rdpipe.state import ClipFile, ClipRecord, ClipStore, IncomingClip, StateStore, hash_file

#: Bytes done and the total (if known) of one clip's transfer; called from worker threads.
Progress = Callable[[int, int | None], None]
#: The progress callback of a job's clip (a bar per clip), or none.
ProgressFor = Callable[[Job], Progress | None]


def _no_progress(job: Job) -> Progress | None:
    return None


@dataclass(frozen=True)
class Restored:
    """What became of one job: the clip kept, or why it could not be obtained."""

    job: Job
    record: ClipRecord | None = None
    problem: str | None = None
    store_damaged: bool = False  # the shared store's copy was found damaged (moved aside)


async def restore_from_shared(
    jobs: Sequence[Job],
    *,
    shared: SharedClipStore,
    clips: ClipStore,
    journal: StateStore,
    limit: int = 8,
    progress: ProgressFor = _no_progress,
) -> list[Restored]:
    """Pull each job's clip from the shared store, ``limit`` at once; one result per job.
    ``progress`` gives each job's progress callback (bytes)."""

    async def fetch(job: Job, incoming: IncomingClip) -> None:
        def pull() -> None:
            shared.pull(known_clip(job).sha256, incoming.path, progress=progress(job))

        try:
            await anyio.to_thread.run_sync(pull)
        except RemoteClipMissing:
            raise _Unavailable("not in the shared store") from None

    return await _restore_all(jobs, fetch, clips=clips, journal=journal, limit=limit,
                              api_host=None)  # fmt: skip


async def restore_from_server(
    jobs: Sequence[Job],
    *,
    api: GenerationApi,
    clips: ClipStore,
    journal: StateStore,
    limit: int = 8,
    progress: ProgressFor = _no_progress,
) -> list[Restored]:
    """Download each job's clip again from its finished task, ``limit`` at once: a fresh link
    from ``GET /v1/videos/{id}``, else ``GET /v1/videos/{id}/content``. One result per job;
    ``progress`` gives each job's progress callback (bytes)."""

    async def fetch(job: Job, incoming: IncomingClip) -> None:
        task_id = known_clip(job).task_id
        status = await api.get_task(task_id)
        if status.state is not TaskState.SUCCEEDED:
            raise _Unavailable(f"task {task_id} is {status.state.value} on the server")
        await api.download(
            task_id, incoming.path, video_url=status.video_url, on_progress=progress(job)
        )

    return await _restore_all(jobs, fetch, clips=clips, journal=journal, limit=limit,
                              api_host=api.api_host)  # fmt: skip


async def unavailable_on_server(
    jobs: Sequence[Job], *, api: GenerationApi, limit: int = 8
) -> dict[str, str]:
    """Ask the server about each job's known task, ``limit`` at once, downloading nothing:
    why the clip of each job whose task is gone or unfinished cannot be had, by shot label."""
    problems: dict[str, str] = {}
    limiter = anyio.CapacityLimiter(max(1, limit))

    async def ask(job: Job) -> None:
        task_id = known_clip(job).task_id
        async with limiter:
            try:
                status = await api.get_task(task_id)
            except TaskNotFound:
                problems[job.shot.label] = f"task {task_id} expired on the server"
                return
            except RelayDanceError as error:
                problems[job.shot.label] = f"the server could not be asked ({error.message})"
                return
        if status.state is not TaskState.SUCCEEDED:
            problems[job.shot.label] = f"task {task_id} is {status.state.value} on the server"

    async with anyio.create_task_group() as group:
        for job in jobs:
            group.start_soon(ask, job)
    return problems


class _Unavailable(Exception):
    """The clip cannot be obtained from this source; the message says why."""


async def _restore_all(
    jobs: Sequence[Job],
    fetch: Callable[[Job, IncomingClip], Awaitable[None]],
    *,
    clips: ClipStore,
    journal: StateStore,
    limit: int,
    api_host: str | None,
) -> list[Restored]:
    results: list[Restored | None] = [None] * len(jobs)
    limiter = anyio.CapacityLimiter(max(1, limit))

    async def one(index: int, job: Job) -> None:
        async with limiter:
            results[index] = await _restore(job, fetch, clips, journal, api_host)

    async with anyio.create_task_group() as group:
        for index, job in enumerate(jobs):
            group.start_soon(one, index, job)
    return [result for result in results if result is not None]


async def _restore(
    job: Job,
    fetch: Callable[[Job, IncomingClip], Awaitable[None]],
    clips: ClipStore,
    journal: StateStore,
    api_host: str | None,
) -> Restored:
    known = known_clip(job)
    shot = job.shot
    incoming = await anyio.to_thread.run_sync(
        clips.receive, shot.id, shot.take, job.key, known.task_id
    )
    try:
        await fetch(job, incoming)
    except TaskNotFound:
        await anyio.to_thread.run_sync(clips.discard, incoming)
        return Restored(job, problem=f"task {known.task_id} expired on the server")
    except RemoteClipCorrupt as error:
        await anyio.to_thread.run_sync(clips.discard, incoming)
        return Restored(job, problem=error.reason, store_damaged=error.store_damaged)
    except (_Unavailable, RelayDanceError, RemoteError, OSError, ValueError) as error:
        await anyio.to_thread.run_sync(clips.discard, incoming)
        return Restored(job, problem=_in_words(error))
    keep = _Keeper(job, known, clips, journal, api_host)
    return await anyio.to_thread.run_sync(keep, incoming)


@dataclass(frozen=True)
class _Keeper:
    """Checks an arrived clip against what is known of it, then stores and records it."""

    job: Job
    known: KnownClip
    clips: ClipStore
    journal: StateStore
    api_host: str | None

    def __call__(self, incoming: IncomingClip) -> Restored:
        known, clips = self.known, self.clips
        size = incoming.path.stat().st_size
        sha256 = hash_file(incoming.path)
        if sha256 != known.sha256:
            clips.discard(incoming)
            return Restored(
                self.job,
                problem=f"the clip of task {known.task_id} has other bytes than the locked one "
                f"(sha256 {sha256[:12]}…, locked {known.sha256[:12]}…)",
            )
        restores = _recorded_place(clips, known, size)
        stored = clips.adopt(incoming, restores=restores)
        check = clips.verify(stored.file)
        if not check.ok:
            return Restored(self.job, problem=check.detail)
        return _recorded(self.job, stored.file, self.journal, self.api_host)


def restore_local(job: Job, *, clips: ClipStore, journal: StateStore) -> Restored:
    """Record the clip the lock file names, found on this disk with its hash (blocking)."""
    known = known_clip(job)
    place = _recorded_place(clips, known, 0)
    if place is None:
        return Restored(job, problem="the lock file names no place for its clip")
    try:
        size = clips.resolve(place.path).stat().st_size
    except OSError as error:
        return Restored(job, problem=f"{place.path}: {error.strerror}")
    check = clips.verify(ClipFile(place.path, size, known.sha256))
    if not check.ok:
        return Restored(job, problem=check.detail)
    return _recorded(job, check.clip.file, journal, None)


def _recorded(job: Job, clip: ClipFile, journal: StateStore, api_host: str | None) -> Restored:
    """Record ``clip`` as the clip of the job's known task (its seed and duration too)."""
    known, shot = known_clip(job), job.shot
    record = journal.record_restored(
        key=job.key,
        shot_id=shot.id,
        take=shot.take,
        request=shot.request,
        task_id=known.task_id,
        clip=clip,
        seed=known.seed,
        duration=known.duration,
        api_host=api_host,
        cost=known.cost,
    )
    return Restored(job, record=record)


def _in_words(error: Exception) -> str:
    """One clause for a failure, for inside a sentence: an rdpipe error's message (its hint
    left out), a system error's own words and file."""
    if isinstance(error, RemoteError):
        return error.reason
    if isinstance(error, RdpipeError):
        return error.message.rstrip(".")
    if isinstance(error, OSError) and error.strerror:
        where = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror.lower()}{where}"
    return str(error)


def _recorded_place(clips: ClipStore, known: KnownClip, size: int) -> ClipFile | None:
    """Where the lock file puts the clip, when it names a place inside the store."""
    if known.path is None:
        return None
    try:
        clips.resolve(known.path)
    except ValueError:
        return None  # a hand-edited lock naming a place outside the store: use the usual one
    return ClipFile(known.path, size, known.sha256)
