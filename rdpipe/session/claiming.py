"""The run's claims on the shots it would pay for, in the shared clip store (issue 13 §4).

Claimed after the budget check and before the plan is announced: a shot another machine's run
is generating is waited for (a note says who and until when) and restored from the store, so
the plan announced bills only what this run will submit. The claims are kept alive while the
run goes on and released when it ends (:mod:`rdpipe.scheduler.claims`).

Known limit: the waiting comes first, so this run's own new shots start once the shots it waits
for have arrived.
"""

from __future__ import annotations

import hashlib
import socket
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from rdpipe.plan import Action, Job
from rdpipe.session.events import AsyncRunner, RunNote, RunReporter, clips_word
from rdpipe.session.session import PipelineSession
from rdpipe.session.sources import known_from_index
from rdpipe.session.workspace import Workspace

if TYPE_CHECKING:
    from rdpipe.remote import Claim, HeldBy, IndexEntry


def run_owner(workspace: Workspace) -> str:
    """Who this run is, in its claims: this machine and this pipeline's state folder, so that
    a restart after a crash takes its own claims over at once."""
    folder = str(workspace.state.state_dir.resolve())
    return f"{socket.gethostname()}:{hashlib.sha256(folder.encode()).hexdigest()[:16]}"


def claim_new_shots(
    session: PipelineSession, *, reporter: RunReporter, run_async: AsyncRunner
) -> tuple[PipelineSession, list[Claim]]:
    """Claim every shot the plan generates; wait for those other runs hold (restored from the
    store as they arrive). Returns the session planned again, and the claims held."""
    shared = session.shared
    jobs = [job for job in session.plan.jobs if job.action is Action.GENERATE]
    if shared is None or not shared.supports_claims or not jobs:
        return session, []
    owner = run_owner(session.workspace)

    def waiting(job: Job, held: HeldBy) -> None:
        now = time.time()
        reporter.run_event(
            RunNote(
                f"shot {job.shot.label}: the run on {held.host} claimed it {now - held.since:.0f} "
                "s ago; waiting for its clip instead of paying again (taken over if that run "
                f"stops for {shared.claim_timeout:.0f} s)"
            )
        )

    async def claim() -> tuple[list[Claim], int]:
        from rdpipe.remote import RemoteError
        from rdpipe.scheduler.claims import claim_or_wait
        from rdpipe.scheduler.restore import restore_from_shared
        from rdpipe.session.shared import StoreUnusable

        try:
            claimed = await claim_or_wait(jobs, shared, owner, clock=time.time, on_wait=waiting)
        except RemoteError as error:  # here, before a task group wraps it
            raise StoreUnusable(shared.url, "claim the shots to generate", error) from error
        arrived = [_with_entry(job, entry) for job, entry in claimed.arrived]
        restored = await restore_from_shared(
            arrived, shared=shared, clips=session.clips, journal=session.store
        )
        for result in restored:
            if result.problem is not None:
                reporter.run_event(
                    RunNote(
                        f"shot {result.job.shot.label}: another run made its clip, but it could "
                        f"not be fetched from the shared store ({result.problem}); generating it"
                    )
                )
        return claimed.claims, sum(result.problem is None for result in restored)

    claims, arrived = run_async(claim)
    try:
        followed = _follow_taken_over(session, jobs, claims, reporter)
        if arrived:
            fetched = clips_word(arrived)
            reporter.run_event(RunNote(f"{fetched} made by another run fetched; no charge"))
        if arrived or followed:
            session = session.replanned()
    except BaseException:
        from rdpipe.scheduler.claims import release_all

        release_all(shared, claims, clock=time.time)
        raise
    return session, claims


def _follow_taken_over(
    session: PipelineSession, jobs: list[Job], claims: list[Claim], reporter: RunReporter
) -> int:
    """Record, as tasks to follow, those a stopped run noted on the claims this run took over
    (its paid task may still finish: following it is free); how many."""
    by_key = {(job.key, job.shot.take): job for job in jobs}
    followed = 0
    for claim in claims:
        task_id = claim.taken_from_task
        job = by_key.get((claim.key, claim.take))
        if task_id is None or job is None or session.store.task(task_id) is not None:
            continue  # nothing noted, or a task this state knows (this machine's own run)
        session.store.record_taken_over(
            key=job.key, shot_id=job.shot.id, take=job.shot.take, request=job.shot.request,
            task_id=task_id,
        )  # fmt: skip
        reporter.run_event(
            RunNote(
                f"shot {job.shot.label}: the run that claimed it before stopped or gave it up; "
                f"following the task it paid for, {task_id} (no new charge)"
            )
        )
        followed += 1
    return followed


def _with_entry(job: Job, entry: IndexEntry) -> Job:
    """``job`` knowing the clip the store's index names for it (it was just found there)."""
    return replace(job, known=known_from_index(entry))
