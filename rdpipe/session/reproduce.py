"""Before a run pays for anything, the clips made before are obtained (issue 13 §1 and §2).

A shot whose key the state does not know but the lock file or the shared clip store does is
planned ``restore`` (:mod:`.sources`). Here its clip is obtained, trying in turn this disk,
the shared clip store and the task that made it on the server; the state records each one as
that task's clip, so the plan made again reuses it and the lock file keeps its bytes. A shot
whose clip could not be obtained anywhere is planned again as a new generation, with the
reasons (``locked clip unavailable: task … expired on the server, not in the shared store``).

Then the clips of the plan that the shared store does not hold yet (a push a stopped run did
not finish, a store set up after the clips were made) are pushed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from rdpipe.plan import Action, Job, Plan, known_clip
from rdpipe.send_record import SendRecord
from rdpipe.session.events import (
    AsyncRunner,
    RunNote,
    RunReporter,
    clips_word,
    run_in_event_loop,
)
from rdpipe.session.session import PipelineSession
from rdpipe.session.settings import RunSettings
from rdpipe.session.workspace import Workspace

if TYPE_CHECKING:
    from rdpipe.scheduler.restore import Restored


#: Why a locked clip on the server was not downloaded: no key (a run with one would, for free).
NEEDS_KEY = "downloading it from the server needs RELAYDANCE_API_KEY"


@dataclass
class _Outcome:
    """What became of the jobs to restore: where each clip came from, or why not."""

    restored: Counter[str] = field(default_factory=Counter)  # source -> clips
    problems: dict[str, list[str]] = field(default_factory=dict)  # label -> reasons, in order
    damaged_in_store: list[str] = field(default_factory=list)  # labels
    pulled: set[str] = field(default_factory=set)  # sha256s pulled from the shared store

    def note(self, job: Job, problem: str) -> None:
        self.problems.setdefault(job.shot.label, []).append(problem)


def restore_known_clips(
    session: PipelineSession,
    *,
    reporter: RunReporter,
    environ: Mapping[str, str],
    sends: SendRecord,
    run_async: AsyncRunner,
) -> PipelineSession:
    """Obtain the clip of every job planned ``restore``; the session planned again after.

    Clips on this disk are recorded at once (blocking, no event loop); the others are fetched
    through ``run_async`` (the shared store, then the server, which needs the API key only
    then). A note tells the reporter how many came from where, and one per shot that could not
    be obtained, with why.
    """
    jobs = [job for job in session.plan.jobs if job.action is Action.RESTORE]
    if not jobs:
        return session
    from rdpipe.scheduler.restore import restore_local

    outcome = _Outcome()
    elsewhere: list[Job] = []
    for job in jobs:
        if known_clip(job).source != "local":
            elsewhere.append(job)
            continue
        result = restore_local(job, clips=session.clips, journal=session.store)
        if result.problem is None:
            outcome.restored["this disk"] += 1
        else:
            outcome.note(job, result.problem)
            elsewhere.append(job)
    if elsewhere:
        run_async(lambda: _restore_elsewhere(session, elsewhere, outcome, reporter, environ, sends))
    _report(outcome, reporter, jobs)
    unavailable = {
        (job.key, job.shot.take): "; ".join(reversed(outcome.problems[job.shot.label]))
        for job in jobs
        if job.shot.label in outcome.problems and not _was_restored(job, outcome)
    }
    pulled = session.in_store | outcome.pulled
    return replace(session.replanned(unavailable), in_store=pulled)


async def _restore_elsewhere(
    session: PipelineSession,
    jobs: Sequence[Job],
    outcome: _Outcome,
    reporter: RunReporter,
    environ: Mapping[str, str],
    sends: SendRecord,
) -> None:
    """The shared store first, then the server, for each job not restored yet."""
    from rdpipe.scheduler.restore import restore_from_server, restore_from_shared

    pending = list(jobs)
    shared = session.shared
    if shared is None:
        for job in pending:
            outcome.note(job, "no shared clip store is set")
    else:
        with reporter.transfers("pulling from the shared store", total=len(pending)) as meter:
            results = await restore_from_shared(
                pending, shared=shared, clips=session.clips, journal=session.store,
                progress=lambda job: meter.clip(job.shot.label),
            )  # fmt: skip
        pending = _left(results, outcome, "the shared store")
    if not pending:
        return
    from rdpipe.client import MissingApiKey
    from rdpipe.session.connections import open_api

    try:
        async with open_api(session.settings, session.workspace, environ, sends=sends) as api:
            with reporter.transfers("downloading from the server", total=len(pending)) as meter:
                results = await restore_from_server(
                    pending, api=api, clips=session.clips, journal=session.store,
                    progress=lambda job: meter.clip(job.shot.label),
                )  # fmt: skip
    except MissingApiKey:
        for job in pending:
            outcome.note(job, NEEDS_KEY)
        return
    _left(results, outcome, "the server")


def _left(results: Sequence[Restored], outcome: _Outcome, source: str) -> list[Job]:
    """The jobs of ``results`` still without a clip (their problems noted); counts the rest."""
    left = []
    for result in results:
        if result.store_damaged:
            outcome.damaged_in_store.append(result.job.shot.label)
        if result.problem is None:
            outcome.restored[source] += 1
            if result.record is not None and source == "the shared store":
                outcome.pulled.add(result.record.sha256)
            outcome.problems.pop(result.job.shot.label, None)
        else:
            outcome.note(result.job, result.problem)
            left.append(result.job)
    return left


def _was_restored(job: Job, outcome: _Outcome) -> bool:
    return job.shot.label not in outcome.problems


def _report(outcome: _Outcome, reporter: RunReporter, jobs: Sequence[Job]) -> None:
    if outcome.damaged_in_store:
        reporter.run_event(
            RunNote(
                "the shared store's copy of the clip of "
                f"{', '.join(outcome.damaged_in_store)} was damaged: it was moved aside to "
                "damaged/ in the store, and the next push of a good copy (this run's, or "
                "a push) restores it"
            )
        )
    if outcome.restored:
        sources = ", ".join(f"{count} from {where}" for where, count in outcome.restored.items())
        total = sum(outcome.restored.values())
        were = "was" if total == 1 else "were"
        reporter.run_event(
            RunNote(f"{clips_word(total)} made before {were} restored ({sources}); no charge")
        )
    for job in jobs:
        problems = outcome.problems.get(job.shot.label)
        if problems:
            reporter.run_event(
                RunNote(
                    f"shot {job.shot.label}: locked clip unavailable: "
                    f"{'; '.join(reversed(problems))}"
                )
            )


def unavailable_locked_clips(
    plan: Plan, settings: RunSettings, workspace: Workspace, environ: Mapping[str, str]
) -> dict[tuple[str, int], str] | None:
    """For ``status``: ask the server about the task of each shot whose locked clip would be
    downloaded from it (GETs only); why each that cannot be had cannot, by key and take.
    ``None`` when the server was not asked (no API key set)."""
    jobs = [
        job
        for job in plan.jobs
        if job.action is Action.RESTORE and job.known and job.known.source == "server"
    ]
    if not jobs:
        return {}
    from rdpipe.client import MissingApiKey
    from rdpipe.scheduler.restore import unavailable_on_server
    from rdpipe.session.connections import open_api

    async def ask() -> dict[str, str]:
        async with open_api(settings, workspace, environ, sends=SendRecord()) as api:
            return await unavailable_on_server(jobs, api=api)

    try:
        problems = run_in_event_loop(ask)
    except MissingApiKey:
        return None
    shared = "not in the shared store" if settings.remote else "no shared clip store is set"
    return {
        (job.key, job.shot.take): f"{problems[job.shot.label]}; {shared}"
        for job in jobs
        if job.shot.label in problems
    }
