"""One pipeline's run state, opened for one command: the guard, the state, the clips and the plan.

Every command that reads a run's state opens it here, in one of three ways (:class:`Access`):
``run`` holds the run guard throughout, ``assemble`` takes it only while it downloads a clip
again, and ``status`` reads a copy of the state (:func:`read_plan`, which also answers before
any run wrote a state). ``review`` opens no session: it reads the manifest the workspace names.

``status`` writes nothing to the run state and takes no guard, so it works on a read-only
checkout. Checking the recorded clips does add to the clip caches in the output folder's
``.cache/`` (each clip's digest by file state, each content's media verdict), as any command
that checks clips does: keeping them spares the next command hashing and decoding the clips
again. Where the folder cannot be written, they are kept in memory for the command.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from rdpipe.errors import ExitCode, RdpipeError
from rdpipe.plan import (
    Action,
    Decision,
    Plan,
    StateLookup,
    decide,
    plan_run,
)
from rdpipe.prepare.pipeline import PreparedPipeline
from rdpipe.redaction import NO_SECRETS, Redactor
from rdpipe.scheduler import Outcome, Phase, ShotResult
from rdpipe.scheduler.notes import offline_resubmit_reason
from rdpipe.scheduler.results import cached_result, refused_result
from rdpipe.session.refetch import whole_clip_store
from rdpipe.session.settings import RunSettings
from rdpipe.session.shared import clip_sources, open_remote
from rdpipe.session.sources import ClipSources
from rdpipe.session.workspace import Workspace
from rdpipe.state import (
    ClipStore,
    IntentRecord,
    RunGuard,
    ShotLock,
    StateStore,
    prepare_state_dir,
)

if TYPE_CHECKING:
    from rdpipe.remote import SharedClipStore

#: How a job the plan does not run ends, settled from the state: blocked by an unknown submit;
#: any other is not submitted (a refused one: :func:`refused_result`).
_SETTLED = {Action.BLOCKED: (Phase.UNKNOWN, Outcome.UNKNOWN)}


class Access(StrEnum):
    """How a command uses the run state."""

    RUN = "run"  # holds the run guard; writes; recovers interrupted submits, clears downloads
    REBUILD = "rebuild"  # writes; takes the guard only to download clips again (assemble)
    READ = "read"  # reads a copy of an existing state, never writes it; asks about the guard


class UnknownShot(RdpipeError):
    """``--force`` named a shot the pipeline does not have."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, name: str, known: Sequence[str]) -> None:
        super().__init__(f"--force {name}: no such shot; the shots are {', '.join(known)}")


@dataclass(frozen=True)
class PipelineSession:
    """A pipeline's state held open for a command, and the plan made from it.

    ``clips`` counts only clips whose media is whole. ``recovered``: submits an earlier run was
    killed in the middle of, found as this session opened (``Access.RUN`` only).
    """

    prepared: PreparedPipeline
    settings: RunSettings
    workspace: Workspace
    guard: RunGuard
    store: StateStore
    clips: ClipStore
    plan: Plan
    recovered: tuple[IntentRecord, ...] = ()
    sources: ClipSources | None = None
    shared: SharedClipStore | None = None
    in_store: frozenset[str] = frozenset()  # sha256s this command pulled from the shared store

    @property
    def drafts(self) -> bool:
        """Whether the deliverables of this run are its drafts (``<stem>.draft.mp4``, built
        from the draft takes): ``run --drafts``, or a drafted shot still awaits a pick (it has
        no final to build from). Otherwise they are the finals."""
        return self.settings.drafts or bool(self.prepared.awaiting_pick)

    @property
    def lock_entries(self) -> tuple[ShotLock, ...] | None:
        """The lock file's entries (read once per command); ``None`` offline (no lock file)."""
        return None if self.sources is None else self.sources.lock_entries

    def replanned(
        self, unavailable: Mapping[tuple[str, int], str] | None = None
    ) -> PipelineSession:
        """This session planned again, from the state and the clips on disk now.

        ``unavailable``: why the known clips of these keys and takes could not be obtained in
        this run; the plan generates them and says so.
        """
        sources = self.sources
        if sources is not None and unavailable:
            sources = sources.with_unavailable(unavailable)
        lookup = _state_lookup(
            self.store, self.clips, self.settings, sources=sources, run_in_progress=False
        )
        plan = plan_with_state(self.prepared, self.settings, lookup, sources)
        return replace(self, plan=plan, sources=sources)

    def settle(self) -> list[ShotResult]:
        """The plan's results from the state alone, sending nothing: one per job, in order.

        A job with a clip (its own, or the one of the same request earlier in the plan) is
        cached; one blocked by an unknown submit is unknown, a refused one failed (skipped with
        ``on_failure: skip``, left out of the video), and any other
        skipped, with the plan's reason as its message.
        """
        clips = {job.key: job.clip for job in self.plan.jobs if job.clip}
        results: list[ShotResult] = []
        for job in self.plan.jobs:
            clip = clips.get(job.key)
            if clip is not None:
                record = self.store.lookup(job.key, job.shot.take).clip
                results.append(cached_result(job, clip, record))
                continue
            if job.action is Action.REFUSED:  # by its on_failure: failed, or skipped
                results.append(refused_result(job))
                continue
            phase, outcome = _SETTLED.get(job.action, (Phase.SKIPPED, Outcome.NOT_SUBMITTED))
            results.append(
                ShotResult(job.shot.id, job.key, phase, task_id=job.task_id, message=job.reason,
                           take=job.shot.take, outcome=outcome, rendition=job.shot.rendition)
            )  # fmt: skip
        return results


@contextmanager
def open_session(
    prepared: PreparedPipeline,
    settings: RunSettings,
    *,
    access: Access = Access.RUN,
    redactor: Redactor = NO_SECRETS,
) -> Iterator[PipelineSession]:
    """Open the pipeline's state as ``access`` says, plan against it, and close it after.

    ``Access.RUN`` first refuses paths the run could not write at its end (an ``OSError``
    naming the path), then waits up to ``settings.wait_for_other_run`` seconds for the run
    guard (:class:`~rdpipe.state.RunBusy` after that). ``Access.READ`` needs an existing
    state database. ``redactor`` takes the command's secrets out of what the state stores.
    Raises :class:`UnknownShot` when ``--force`` names no shot of the pipeline. With
    ``settings.drafts`` (``run --drafts``) the session's pipeline is its draft stage
    (:meth:`~rdpipe.prepare.pipeline.PreparedPipeline.draft_stage`): nothing else is planned.
    """
    prepared = prepared.draft_stage() if settings.drafts else prepared
    workspace = Workspace.for_pipeline(prepared.loaded, offline=settings.offline)
    paths = workspace.state
    guard = RunGuard(paths)
    with ExitStack() as stack:
        if access is Access.RUN:
            workspace.check_writable(prepared)  # a file where .rdpipe/ goes, too
        if access is not Access.READ:  # the folders it writes in, each made with its .gitignore
            prepare_state_dir(paths.state_dir)
            workspace.make_folders()
        if access is Access.RUN:
            stack.enter_context(guard.acquire(wait=settings.wait_for_other_run))
        store = stack.enter_context(
            StateStore.open(paths.database, pipeline=paths.pipeline, clock=time.time,
                            read_only=access is Access.READ, redactor=redactor)
        )  # fmt: skip
        recovered = tuple(store.recover_interrupted()) if access is Access.RUN else ()
        clips = whole_clip_store(workspace.output_dir)
        if access is Access.RUN:
            clips.remove_stale_downloads()  # a killed run's; no download is under way now
        running = access is Access.READ and guard.held()
        shared = open_remote(settings)
        sources = clip_sources(prepared, workspace, clips, shared)
        lookup = _state_lookup(store, clips, settings, sources=sources, run_in_progress=running)
        plan = plan_with_state(prepared, settings, lookup, sources)
        yield PipelineSession(
            prepared, settings, workspace, guard, store, clips, plan, recovered, sources, shared
        )


def read_plan(
    prepared: PreparedPipeline,
    settings: RunSettings,
    unavailable: Mapping[tuple[str, int], str] | None = None,
) -> Plan:
    """The plan as ``status`` shows it: from a copy of the state, if any, never written.

    Before any run wrote a state there is none to read: every shot is restored from where
    the lock file or the shared store say its clip is, or generated. The clips recorded are
    checked through the clip store, which keeps its caches (see above). ``unavailable``: why
    the known clips of these keys and takes cannot be had (the server was asked).
    """
    prepared = prepared.draft_stage() if settings.drafts else prepared
    workspace = Workspace.for_pipeline(prepared.loaded, offline=settings.offline)
    if not workspace.state.database.exists():
        clips = whole_clip_store(workspace.output_dir)
        sources = clip_sources(prepared, workspace, clips, open_remote(settings))
        if sources is not None and unavailable:
            sources = sources.with_unavailable(unavailable)
        lookup = None if sources is None else sources.decide
        return plan_with_state(prepared, settings, lookup, sources)
    with open_session(prepared, settings, access=Access.READ) as session:
        return session.replanned(unavailable).plan if unavailable else session.plan


def plan_with_state(
    prepared: PreparedPipeline,
    settings: RunSettings,
    lookup: StateLookup | None,
    sources: ClipSources | None = None,
) -> Plan:
    """The plan of this run: every shot's action given what ``lookup`` says of its state; a
    new shot that ``sources``' lock file names in an earlier version says so.

    Raises :class:`UnknownShot` when ``settings.force`` names a shot the pipeline lacks.
    """
    ids = [shot.id for shot in prepared.loaded.pipeline.shots]  # one per shot, not per take
    for name in settings.force:
        if name not in ids:
            raise UnknownShot(name, ids)
    force = {name: True for name in settings.force}
    plan = plan_run(prepared.name, prepared.shots, lookup=lookup, force=force)
    return plan if sources is None else sources.note_changes(plan)


def _state_lookup(
    store: StateStore,
    clips: ClipStore,
    settings: RunSettings,
    *,
    sources: ClipSources | None,
    run_in_progress: bool,
) -> StateLookup:
    """What :func:`~rdpipe.plan.decide` says of each key and take, for the planner to ask; and
    what ``sources`` (the lock file, the shared store) know, where that is a clip to have
    without paying: when the state knows nothing, when its last attempt failed, or when the
    lock file names a take of a task this state never knew (a teammate's re-roll, committed:
    the lock file wins over an older clip here)."""

    def lookup(key: str, take: int) -> Decision | None:
        known = decide(
            store,
            clips,
            key,
            take,
            resubmit_unknown=settings.resubmits_unknown,
            run_in_progress=run_in_progress,
        )
        if settings.offline and known is not None and known.action is Action.RESUME:
            # The built-in simulator keeps tasks only while its run lasts: none is followed.
            known = replace(known, reason=offline_resubmit_reason(known.task_id))
        if sources is None:
            return known
        if known is None:
            return sources.decide(key, take)
        if known.action is Action.GENERATE or _lock_names_another_task(known, key, take):
            elsewhere = sources.decide(key, take)
            if elsewhere is not None and elsewhere.action is Action.RESTORE:
                return elsewhere
        return known

    def _lock_names_another_task(known: Decision, key: str, take: int) -> bool:
        if known.action is not Action.REUSE or sources is None:
            return False
        locked = sources.locked.get((key, take))
        return locked is not None and store.task(locked.take.task_id) is None

    return lookup
