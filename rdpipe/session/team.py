"""A run's part in a team's shared clip store: push what is missing, claim what it will pay for,
push each new clip, keep the claims alive, release them (issue 13 §2 and §4).

Without a store (or offline) each step is nothing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio.to_thread

from rdpipe.plan import Job
from rdpipe.scheduler import ClipStored, SubmitAllowed, TaskSubmitted
from rdpipe.session.claiming import claim_new_shots
from rdpipe.session.events import AsyncRunner, RunNote, RunReporter, clips_word
from rdpipe.session.pushing import PushNotes, clip_pusher, push_notes, unpushed
from rdpipe.session.session import PipelineSession

if TYPE_CHECKING:
    from rdpipe.remote import Claim, SharedClipStore
    from rdpipe.scheduler.claims import ClaimWatch


#: Seconds a submit waits for its task id to be noted on its claim in the store.
NOTE_TIMEOUT = 10.0


@dataclass(frozen=True)
class TeamRun:
    """What a run holds in the shared store while it runs: how it notes pushes, its claims."""

    shared: SharedClipStore | None = None
    notes: PushNotes | None = None
    watch: ClaimWatch | None = None  # the claims held, and whether each is still this run's

    @property
    def claims(self) -> tuple[Claim, ...]:
        return () if self.watch is None else self.watch.claims

    def may_submit(self) -> SubmitAllowed | None:
        """The scheduler's check before each submit: never pay under a claim another run may
        have taken over (its heartbeats found it taken, or could not reach the store for the
        claim timeout); ``None`` without claims."""
        watch = self.watch
        if watch is None or not watch.claims:
            return None
        return lambda job: watch.may_submit(job.key, job.shot.take)

    def on_stored(self, session: PipelineSession) -> ClipStored | None:
        """The scheduler's hook pushing each clip as it is stored (``None``: no store)."""
        return clip_pusher(session, self.notes)

    def on_submitted(self) -> TaskSubmitted | None:
        """The scheduler's hook noting each task submitted on its shot's claim, so that a run
        taking the claim over after this one stopped follows the task instead of paying."""
        shared = self.shared
        if shared is None or not self.claims:
            return None
        by_key = {(claim.key, claim.take): claim for claim in self.claims}

        async def note(job: Job, task_id: str) -> None:
            claim = by_key.get((job.key, job.shot.take))
            if claim is None:
                return
            from rdpipe.remote import RemoteError

            def write() -> None:
                with suppress(RemoteError):  # a missed note: a taker pays again, as before
                    shared.note_task(claim, task_id, time.time())

            # The submit path waits for this: a store that hangs must not hold it for long.
            with anyio.move_on_after(NOTE_TIMEOUT):
                await anyio.to_thread.run_sync(write, abandon_on_cancel=True)

        return note

    @asynccontextmanager
    async def claims_alive(self) -> AsyncIterator[None]:
        """Within the block, the claims are kept alive (heartbeats)."""
        if self.shared is None or self.watch is None:
            yield
            return
        from rdpipe.scheduler.claims import keeping_alive

        async with keeping_alive(self.shared, self.watch):
            yield

    @contextmanager
    def releasing(self) -> Iterator[None]:
        """When the block ends, however it ends, the claims are released (blocking)."""
        try:
            yield
        finally:
            if self.shared is not None and self.claims:
                from rdpipe.scheduler.claims import release_all

                release_all(self.shared, self.claims, clock=time.time)


def join_team(
    session: PipelineSession, *, reporter: RunReporter, run_async: AsyncRunner
) -> tuple[PipelineSession, TeamRun]:
    """Push the plan's clips the store lacks, then claim the shots the run will generate
    (waiting for those other runs hold). Returns the session planned again and the run's part."""
    shared = session.shared
    notes = push_notes(session, reporter)
    if shared is None or notes is None:
        return session, TeamRun()
    for sha256 in session.in_store:  # pulled from the store: it has them
        notes.pushed_clips.note(shared.url, sha256)
    pending = unpushed(session, notes.pushed_clips)
    if pending:
        from rdpipe.scheduler.pushes import push_clips

        async def push() -> int:
            with reporter.transfers("pushing to the shared store", total=len(pending)) as meter:
                return await push_clips(
                    shared, pending, notes, progress=lambda entry: meter.clip(entry.shot_id)
                )

        run_async(push)
        if notes.uploaded:
            uploaded = clips_word(notes.uploaded)
            reporter.run_event(RunNote(f"{uploaded} uploaded to the shared store"))
    session, claims = claim_new_shots(session, reporter=reporter, run_async=run_async)
    from rdpipe.scheduler.claims import ClaimWatch

    return session, TeamRun(shared, notes, ClaimWatch(claims, shared.claim_timeout, time.time))
