"""``assemble`` below the command line: the storyboard video again, from the clips on disk.

It submits nothing. A clip found cut short or damaged on disk is downloaded again from its task,
which was paid for (GETs only; issue 11 §3), holding the run guard meanwhile so that a run of the
same pipeline does not download at the same time.
"""

from __future__ import annotations

from collections.abc import Mapping

from rdpipe.errors import RdpipeError
from rdpipe.hints import Command, Suggestion
from rdpipe.plan import Job, Plan
from rdpipe.prepare.pipeline import PreparedPipeline
from rdpipe.progress_steps import step_listener
from rdpipe.redaction import Redactor
from rdpipe.scheduler import ShotResult
from rdpipe.send_record import SendRecord
from rdpipe.session.assembly import BuiltVideo, assemble_deliverables, shots_without_clip
from rdpipe.session.connections import api_host_of, open_api
from rdpipe.session.events import (
    AsyncRunner,
    RefetchFailed,
    RefetchStarted,
    RunReporter,
    run_in_event_loop,
)
from rdpipe.session.manifest import views_of
from rdpipe.session.records import record_manifest, session_bills, write_lock_file
from rdpipe.session.refetch import clip_damage, finished_resumes, refetch_clips
from rdpipe.session.session import Access, PipelineSession, open_session
from rdpipe.session.settings import RunSettings


class NoClipYet(RdpipeError):
    """Shots the video cannot be built without: never generated, or their clip on disk is
    damaged and could not be downloaded again (``damaged`` says how, by shot id); ``every``:
    no shot of the pipeline has one (then ``--partial`` is not suggested); ``preview``: the
    offline preview has made a video (its ``assemble --offline`` is suggested too)."""

    def __init__(
        self,
        missing: list[str],
        damaged: Mapping[str, str],
        *,
        offline: bool,
        every: bool = False,
        preview: bool = False,
    ) -> None:
        self.missing = missing
        new = [shot for shot in missing if shot not in damaged]
        parts = [f"no clip yet for {', '.join(new)}"] if new else []
        parts += [
            f"the clip of {shot} is not whole and could not be downloaded again: {damaged[shot]}"
            for shot in missing
            if shot in damaged
        ]
        free = " (free)" if offline else ""
        if every:  # no shot has a clip: --partial would have nothing to join
            suggestion = Suggestion.of("run", f"Run `{{0}}` first{free}.")
        else:
            suggestion = Suggestion(
                f"Run `{{0}}` first{free}, or `{{1}}` to leave them out.",
                (Command("run"), Command("assemble", options=("--partial",))),
            )
        if preview:  # an offline run made its own clips: those are not the paid ones
            suggestion = Suggestion(
                suggestion.sentence
                + f" The offline preview has its own clips: `{{{len(suggestion.commands)}}}` "
                "builds its video (free).",
                (*suggestion.commands, Command("assemble", options=("--offline",))),
            )
        super().__init__("; ".join(parts), suggestion=suggestion)


def rebuild_video(
    prepared: PreparedPipeline,
    settings: RunSettings,
    *,
    reporter: RunReporter,
    environ: Mapping[str, str],
    redactor: Redactor,
    run_async: AsyncRunner = run_in_event_loop,
) -> tuple[BuiltVideo, ...]:
    """Build every deliverable's video from the clips on disk (from the drafts when a drafted
    shot awaits a pick, :attr:`~.session.PipelineSession.drafts`); returns them, in file
    order.

    Steps: plan against the state; download again the clips of finished tasks found missing or
    damaged (then plan again and rewrite the lock file); settle every shot from the state; join
    the picked takes; write the manifest. ``settings.partial`` leaves out shots without a clip,
    else they raise :class:`NoClipYet`. ``environ`` holds the API key and where ffmpeg is.
    """
    sends = SendRecord()
    with sends.marking():  # a problem after a download is not "nothing was sent"
        with open_session(prepared, settings, access=Access.REBUILD, redactor=redactor) as opened:
            session = opened
            refetched = finished_resumes(session.plan, session.store)
            if refetched:
                session = _refetch(session, refetched, reporter, environ, sends, run_async)
            results = session.settle()
            bills = session_bills(session, views_of(results, session.plan))
            damaged = {
                job.shot.id: clip_damage(job, opened.store, opened.clips) for job in refetched
            }
        missing = shots_without_clip(prepared, results, drafts=session.drafts)
        if missing and not settings.partial:
            every = len(missing) == len(prepared.loaded.pipeline.shots)
            preview = not settings.offline and _preview_made(prepared)
            raise NoClipYet(
                missing, damaged, offline=settings.offline, every=every, preview=preview
            )
        workspace = session.workspace
        verdicts = session.clips.verdicts
        drafts = session.drafts
        built = run_async(
            lambda: assemble_deliverables(prepared, results, workspace, verdicts=verdicts,
                                          environ=environ, progress=step_listener(reporter),
                                          drafts=drafts)
        )  # fmt: skip
        views = views_of(results, session.plan)
        record_manifest(prepared, session.plan, views, workspace, running=False,
                        redactor=redactor, video=built[0].path, bills=bills,
                        deliverables=[(each.name, each.path) for each in built])  # fmt: skip
        return built


def _refetch(
    session: PipelineSession,
    jobs: list[Job],
    reporter: RunReporter,
    environ: Mapping[str, str],
    sends: SendRecord,
    run_async: AsyncRunner,
) -> PipelineSession:
    """Download again the clips of ``jobs`` (finished tasks); the session planned after it."""
    workspace, settings = session.workspace, session.settings
    for job in jobs:
        reporter.run_event(RefetchStarted(job.shot.label, job.reason))

    async def download() -> list[ShotResult]:
        with reporter.shots(Plan(session.plan.pipeline, jobs)) as shots:
            async with open_api(settings, workspace, environ, sends=sends) as api:
                return await refetch_clips(
                    jobs,
                    session.clips,
                    api=api,
                    store=session.store,
                    reporter=shots,
                    offline=workspace.offline,
                    api_host=api_host_of(api, settings),
                )

    with session.guard.acquire():  # in the state folder the session made
        session.clips.remove_stale_downloads()  # a killed run's
        results = run_async(download)
    for result in results:
        if not result.ok:
            reporter.run_event(RefetchFailed(result.shot_id, result.phase.value, result.message))
    session = session.replanned()
    write_lock_file(session.plan, session.store, session.clips.verdicts, workspace,
                    session.lock_entries)  # fmt: skip
    return session


def _preview_made(prepared: PreparedPipeline) -> bool:
    """Whether an offline run of ``prepared`` has written its manifest (its clips exist)."""
    from rdpipe.session.workspace import Workspace

    return Workspace.for_pipeline(prepared.loaded, offline=True).manifest.exists()
