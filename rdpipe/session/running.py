"""``run_pipeline``: one run of a pipeline end to end, below the command line.

The steps, in order:

1. Open the session for a run (:func:`~rdpipe.session.session.open_session`): refuse output
   paths the run could not write at its end, hold the run guard, open the state, recover the
   submits a killed run left unanswered, clear its partial downloads, plan against the state;
   an online plan that sends anything needs a usable API key, checked here, before any read.
2. Report the recovered submits, refuse a plan over the seconds budget or with a local file
   that has nowhere to go; when it generates, read the relay's prices and the account's
   balance once (:mod:`.pricing`), refuse a plan over a cost budget or the balance
   (:mod:`.money`), set each job's estimated cost; announce the plan, with its expected cost
   and pre-charge.
3. Open the shots' reporter, the API (the RelayDance client, the offline simulator, or a
   stand-in when nothing is to be sent) and, with ``--listen``, the webhook receiver, whose URL
   for each take becomes the callback of the request sent (:meth:`~rdpipe.plan.Job.with_webhook`).
4. Generate: the scheduler runs the plan's jobs, rewriting the manifest as shots progress (a
   plan that sends nothing is settled from the state alone); the lock file is written at the
   end, also when the run is stopped.
5. Join the picked takes into the storyboard video, unless a shot has no clip and
   ``--partial`` was not given, or no shot has one (a note says so).
6. Write the final manifest, once, naming the video if one was built. An error in steps 5
   and 6 comes with the run's summary (:class:`~.summary.RunUnfinished`).

The async part (steps 3 to 6) goes through the caller's :class:`~.events.AsyncRunner`: the
command line watches for Ctrl-C there. Its blocking work (loading PyAV, finding ffmpeg, the
manifest and lock file, reading the state) runs in worker threads, so 64 shots at once never
wait for the disk on the event loop. Nothing here prints; the reporter hears every event.

A run with nothing to do (it sends nothing, has no ``--listen``, and its video is current)
takes steps 3 to 6 without an event loop (:func:`_settle_without_loop`): the same reports,
lock file, manifest and summary, without importing asyncio or starting a loop (about 40 ms of
a no-op rerun). Any other run takes the async part.
"""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

import anyio
import anyio.to_thread

from rdpipe.errors import ExitCode, RdpipeError
from rdpipe.hints import Suggestion
from rdpipe.model.budget import seconds_of
from rdpipe.plan import Action, Job, Plan
from rdpipe.prepare.pipeline import PreparedPipeline
from rdpipe.progress_steps import step_listener
from rdpipe.redaction import NO_SECRETS, Redactor
from rdpipe.scheduler import (
    OFFLINE_POLLING,
    PollSchedule,
    Reporter,
    SchedulerOptions,
    ShotResult,
    ShotUpdate,
)
from rdpipe.send_record import SendRecord
from rdpipe.session.assembly import (
    BuiltVideo,
    assemble_deliverables,
    current_videos,
    shots_left_out,
    shots_without_clip,
)
from rdpipe.session.connections import api_host_of, open_api, open_webhooks
from rdpipe.session.events import (
    AsyncRunner,
    PlanAnnounced,
    RunNote,
    RunReporter,
    SubmitRecovered,
    run_in_event_loop,
)
from rdpipe.session.hosting import check_hosting, media_hosting
from rdpipe.session.latest_write import writing_latest
from rdpipe.session.locked import check_locked
from rdpipe.session.manifest import ManifestBuilder, ManifestReporter, TakeView, views_of
from rdpipe.session.model_check import check_run_models
from rdpipe.session.money import check_balance, check_costs, cost_limits
from rdpipe.session.pricing import (
    PriceReading,
    Prices,
    PricesUnavailable,
    Reading,
    priced,
    read_prices,
)
from rdpipe.session.records import record_manifest, session_bills, write_lock_file
from rdpipe.session.reproduce import restore_known_clips
from rdpipe.session.session import Access, PipelineSession, open_session
from rdpipe.session.settings import RunSettings
from rdpipe.session.summary import RunSummary, RunUnfinished
from rdpipe.session.team import TeamRun, join_team

#: Polling while webhooks are expected: slow, a backstop for deliveries that never come.
WEBHOOK_BACKSTOP = PollSchedule(first=30.0, cap=120.0)


class BudgetExceeded(RdpipeError):
    """The run would bill more seconds than the budget allows; nothing was submitted."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, seconds: int, budget: int, source: str) -> None:
        super().__init__(
            f"this run would bill {seconds} s of generation, above the budget of {budget} s "
            f"({source}); nothing was submitted",
            suggestion=Suggestion.of(
                "plan", "Raise the budget, or run fewer shots (`{0}` shows what each costs)."
            ),
        )


def run_pipeline(
    prepared: PreparedPipeline,
    settings: RunSettings,
    *,
    reporter: RunReporter,
    environ: Mapping[str, str],
    redactor: Redactor = NO_SECRETS,
    run_async: AsyncRunner = run_in_event_loop,
) -> RunSummary:
    """Run ``prepared`` as ``settings`` ask, from the plan to the video (the steps above).

    ``environ`` holds the API key and base URL and where ffmpeg is; ``redactor`` (the
    command's) takes its secrets out of what the state and the manifest keep. Raises
    :class:`BudgetExceeded` before anything is sent, :class:`~rdpipe.state.RunBusy` when
    another run holds the guard; an error after a request went out comes wrapped in
    :class:`~rdpipe.send_record.StoppedAfterSending`.
    """
    with open_session(prepared, settings, access=Access.RUN, redactor=redactor) as session:
        for intent in session.recovered:
            reporter.run_event(SubmitRecovered(intent.shot_id, resent=settings.offline))
        check_api_key_set(session, environ)  # before any read, note or plan line
        sends = SendRecord()
        with sends.marking():
            session = _with_known_clips(session, reporter, environ, sends, run_async)
            check_budget(session.plan, prepared, settings)  # the seconds: before any read
            check_hosting(session, environ)
            reading = _read_money(session, reporter, environ, sends, run_async)
            check_run_models(session, reading.models, note=_noting(reporter))
            check_budget(session.plan, prepared, settings, reading.prices)
            _check_balance(session.plan, reading, reporter)
            session, team = join_team(session, reporter=reporter, run_async=run_async)
            with team.releasing():
                session = replace(session, plan=priced(session.plan, reading.prices))
                if isinstance(reading.prices, Prices):  # the run's charges: in its currency
                    session.store.use_currency(reading.prices.currency)
                reporter.run_event(_announcement(session.plan, settings, reading.prices))
                settled = None if session.plan.needs_api else session.settle()  # reads the state
                if settled is not None:
                    summary = _settle_without_loop(session, settled, reporter, redactor)
                    if summary is not None:
                        return summary
                ready = session
                return run_async(
                    lambda: _run(ready, settled, reporter, environ, redactor, sends, team)
                )


def check_api_key_set(session: PipelineSession, environ: Mapping[str, str]) -> None:
    """Step 1b: an online run that sends anything (a submit or a poll) refuses to start without
    a usable ``RELAYDANCE_API_KEY`` (and base URL), before it reads prices or models or says
    its plan. Raises :class:`~rdpipe.client.config.MissingApiKey`, ``InvalidApiKey`` or
    ``InvalidBaseUrl`` (exit 2); offline, or with nothing to send, checks nothing."""
    if session.settings.offline or not session.plan.needs_api:
        return
    from rdpipe.client import ClientConfig

    ClientConfig.from_environ(environ)


def _with_known_clips(
    session: PipelineSession,
    reporter: RunReporter,
    environ: Mapping[str, str],
    sends: SendRecord,
    run_async: AsyncRunner,
) -> PipelineSession:
    """Step 2a: the clips made before, obtained (:mod:`.reproduce`); with ``--locked``, the
    run refused before any request for a shot the lock file lacks, and after fetching for one
    whose locked clip could not be obtained (:mod:`.locked`)."""
    locked = session.settings.locked
    lock_name = session.workspace.state.lock_file.name
    shown = shlex.quote(session.prepared.loaded.shown_as)
    if session.sources is not None and session.plan.needs_api:
        session.sources.check_lock()  # before the first request (a no-op run reads it at its end)
    if locked:
        check_locked(session.plan, session.sources, shown, lock_name, fetched=False)
    session = restore_known_clips(
        session, reporter=reporter, environ=environ, sends=sends, run_async=run_async
    )
    if locked:
        check_locked(session.plan, session.sources, shown, lock_name, fetched=True)
    return session


def check_budget(
    plan: Plan,
    prepared: PreparedPipeline,
    settings: RunSettings,
    prices: PriceReading | None = None,
) -> None:
    """Refuse a run whose billed seconds exceed --max-seconds or the file's ``budget:``
    (:class:`BudgetExceeded`); with ``prices``, also one whose expected cost or pre-charge
    exceeds --max-cost or the file's ``budget: {cost: ...}``, or whose cost budget cannot be
    checked (:func:`~rdpipe.session.money.check_costs`)."""
    limits = [
        (settings.max_seconds, "--max-seconds"),
        (seconds_of(prepared.loaded.pipeline.budget), f"budget: in {prepared.loaded.shown_as}"),
    ]
    for budget, source in limits:
        if budget is not None and plan.billed_seconds > budget:
            raise BudgetExceeded(plan.billed_seconds, budget, source)
    if prices is not None:
        check_costs(plan, cost_limits(prepared, settings), prices)


def _read_money(
    session: PipelineSession,
    reporter: RunReporter,
    environ: Mapping[str, str],
    sends: SendRecord,
    run_async: AsyncRunner,
) -> Reading:
    """Step 2b: the relay's prices, the account's balance and the served model ids,
    read once through one client, when the plan generates (:mod:`.pricing`); a note when the
    prices could not be read."""
    if not session.plan.generations:
        return Reading(None)
    reading = read_prices(
        session.settings, session.workspace, environ, sends=sends, run_async=run_async,
        balance=True, models=True,
    )  # fmt: skip
    if isinstance(reading.prices, PricesUnavailable):
        reporter.run_event(RunNote(reading.prices.message))
    return reading


def _noting(reporter: RunReporter) -> Callable[[str], None]:
    """A note for the run's reporter (:class:`RunNote`)."""
    return lambda message: reporter.run_event(RunNote(message))


def _check_balance(plan: Plan, reading: Reading, reporter: RunReporter) -> None:
    """Step 2c: refuse a run the balance cannot cover; a note when it could not be read."""
    note = check_balance(plan, reading)
    if note is not None:
        reporter.run_event(RunNote(note))


def scheduler_options(
    prepared: PreparedPipeline, settings: RunSettings, *, api_host: str | None
) -> SchedulerOptions:
    """How the scheduler runs this plan: the pipeline's concurrency, as the settings adjust it.

    Polling: ``--poll-interval`` if given, a slow backstop when webhooks wake the shots, else
    the scheduler's default (the simulator's quick one offline).
    """
    defaults = SchedulerOptions()
    polling = OFFLINE_POLLING if settings.offline else defaults.polling
    if settings.poll_interval is not None:
        polling = PollSchedule.every(settings.poll_interval)
    elif settings.listen is not None:
        polling = WEBHOOK_BACKSTOP  # callbacks wake shots; polling only catches lost ones
    concurrency = prepared.loaded.pipeline.concurrency
    return SchedulerOptions(
        tasks=settings.concurrency or concurrency.tasks,
        downloads=concurrency.downloads,
        polling=polling,
        shot_deadline=settings.shot_timeout,
        run_deadline=settings.run_timeout,
        fail_fast=settings.fail_fast,
        resubmit_unknown=settings.resubmits_unknown,
        resubmit_lost=settings.offline,  # the simulator forgets its tasks when a run ends
        api_host=api_host,
    )


def _announcement(plan: Plan, settings: RunSettings, prices: PriceReading | None) -> PlanAnnounced:
    costs = prices.costs(plan) if isinstance(prices, Prices) else None
    return PlanAnnounced(
        pipeline=plan.pipeline,
        generations=plan.generations,
        billed_seconds=plan.billed_seconds,
        resumed=sum(job.action is Action.RESUME for job in plan.jobs),
        cached=sum(job.action is Action.REUSE for job in plan.jobs),
        offline=settings.offline,
        cost=None if costs is None else costs.total,
        currency=prices.currency if isinstance(prices, Prices) else None,
        unpriced=() if costs is None else costs.unpriced,
        stages=_stage_counts(plan),
    )


def _stage_counts(plan: Plan) -> tuple[str, ...]:
    """``2 drafts``, ``1 final``, ``1 regenerated for vertical``: the generations of each stage
    that has any, when the plan has drafts or regenerations (issue 17); else ``()``."""
    if not plan.staged:
        return ()
    counts = []
    for stage in plan.stages:
        count = stage.generations
        if not count:
            continue
        if stage.deliverable is not None:
            counts.append(f"{count} {stage.title}")
        else:
            counts.append(f"{count} {stage.name if count > 1 else stage.name[:-1]}")
    return tuple(counts)


async def _run(
    session: PipelineSession,
    settled: list[ShotResult] | None,
    reporter: RunReporter,
    environ: Mapping[str, str],
    redactor: Redactor,
    sends: SendRecord,
    team: TeamRun,
) -> RunSummary:
    """Steps 3 to 6: generate, assemble, and write the final manifest (also on failure).

    ``settled``: the plan's results from the state, for a plan that sends nothing. An error
    after the shots ran comes as :class:`RunUnfinished`, with the run's summary. ``team``:
    the run's claims in the shared store, kept alive while the shots are generated, and the
    hook pushing each new clip there.
    """
    builder = ManifestBuilder(session.prepared, session.plan, redactor)
    async with team.claims_alive():
        results = await _generate(session, settled, reporter, environ, builder, redactor, sends,
                                  team)  # fmt: skip
    output: Path | None = None
    built: tuple[BuiltVideo, ...] = ()
    failure: Exception | None = None
    try:
        try:
            built = await _build_video(session, results, reporter, environ)
            output = built[0].path if built else None
        finally:
            final = partial(_write_final_manifest, session, results, output, redactor, builder,
                            built)  # fmt: skip
            with anyio.CancelScope(shield=True):  # written also when the run is stopped
                await anyio.to_thread.run_sync(final)
    except Exception as error:
        failure = error
    return _summary(session, results, output, failure, built)


def _settle_without_loop(
    session: PipelineSession,
    results: list[ShotResult],
    reporter: RunReporter,
    redactor: Redactor,
) -> RunSummary | None:
    """Steps 3 to 6 of a plan that sends nothing, settled as ``results``, blocking, with no
    event loop: what the async part does for it, in the same order (shots reported, lock file,
    final manifest).

    ``None``, having reported and written nothing, unless there is no ``--listen`` and the video
    is current for ``results`` (every shot has a clip, or ``--partial`` and one has): the async
    part then runs the whole of it.
    """
    plan, settings = session.plan, session.settings
    if settings.listen is not None:
        return None
    drafts = session.drafts
    if shots_without_clip(session.prepared, results, drafts=drafts) and not settings.partial:
        return None  # the async part says why no video is built
    built = current_videos(session.prepared, results, session.workspace, drafts=drafts)
    if not built:
        return None
    video = built[0].path
    with reporter.shots(plan) as shots:
        _report_settled(plan, shots, results)
        write_lock_file(plan, session.store, session.clips.verdicts, session.workspace,
                        session.lock_entries)  # fmt: skip
    failure: Exception | None = None
    try:
        _write_final_manifest(session, results, video, redactor, built=built)
    except Exception as error:
        failure = error
    return _summary(session, results, video, failure, built)


def _write_final_manifest(
    session: PipelineSession,
    results: Sequence[ShotResult],
    video: Path | None,
    redactor: Redactor,
    builder: ManifestBuilder | None = None,
    built: Sequence[BuiltVideo] = (),
) -> None:
    """Step 6: the manifest of the finished run, naming ``video`` if built, and ``built``,
    every deliverable's video (blocking)."""
    views = views_of(results, session.plan)
    record_manifest(session.prepared, session.plan, views, session.workspace, running=False,
                    redactor=redactor, video=video, builder=builder,
                    bills=session_bills(session, views),
                    deliverables=[(each.name, each.path) for each in built])  # fmt: skip


def _summary(
    session: PipelineSession,
    results: list[ShotResult],
    video: Path | None,
    failure: Exception | None,
    built: Sequence[BuiltVideo] = (),
) -> RunSummary:
    """The run's summary; raised in :class:`RunUnfinished` with ``failure`` if there is one.
    ``built``: every deliverable's video (``video`` is the first)."""
    deliverables = tuple((each.name, each.path) for each in built)
    summary = RunSummary(session.prepared.name, results, session.plan, video, deliverables)
    if failure is not None:
        raise RunUnfinished(summary, [failure])
    return summary


async def _build_video(
    session: PipelineSession,
    results: Sequence[ShotResult],
    reporter: RunReporter,
    environ: Mapping[str, str],
) -> tuple[BuiltVideo, ...]:
    """Step 5: every deliverable's video, joined from the picked takes (a note for each clip a
    deliverable lacks); none, and a note saying why, when a
    shot has no clip and ``--partial`` was not given, or when no shot has one. A shot its
    ``on_failure: skip`` left out is left out of the video as ``--partial`` would (a note
    says so)."""
    prepared = session.prepared
    without = shots_without_clip(prepared, results, drafts=session.drafts)
    left_out = shots_left_out(prepared, results, drafts=session.drafts)  # on_failure: skip
    missing = [shot for shot in without if shot not in left_out]
    if missing and not session.settings.partial:
        reporter.run_event(RunNote(
            f"video not built: no finished take for {', '.join(missing)}; deal with the "
            "reasons above and rerun (nothing paid for is lost), or pass --partial to build "
            "from the shots that did"
        ))  # fmt: skip
        return ()
    if len(without) == len(prepared.loaded.pipeline.shots):  # nothing to join
        reporter.run_event(RunNote(
            "video not built: no shot has a finished take; deal with the reasons above and "
            "rerun (nothing paid for is lost)"
        ))  # fmt: skip
        return ()
    if left_out:
        reporter.run_event(RunNote(
            f"the video leaves out {', '.join(left_out)} (on_failure: skip)"
        ))  # fmt: skip
    verdicts = session.clips.verdicts
    built = await assemble_deliverables(
        prepared, results, session.workspace, verdicts=verdicts, environ=environ,
        progress=step_listener(reporter), drafts=session.drafts,
    )  # fmt: skip
    for note in dict.fromkeys(note for each in built for note in each.notes):
        reporter.run_event(RunNote(note))
    return built


async def _generate(
    session: PipelineSession,
    settled: list[ShotResult] | None,
    reporter: RunReporter,
    environ: Mapping[str, str],
    builder: ManifestBuilder,
    redactor: Redactor,
    sends: SendRecord,
    team: TeamRun,
) -> list[ShotResult]:
    """Step 3 and 4: every job's result, in plan order (``settled``, when the plan sends
    nothing); the lock file is written after. ``team`` hears of each task submitted and each
    clip stored (the shared store's claims and pushes)."""
    plan, settings, workspace = session.plan, session.settings, session.workspace
    downloads = session.prepared.loaded.pipeline.concurrency.downloads  # sizes the client's pool
    with reporter.shots(plan) as shots:
        if settled is not None:
            async with open_webhooks(settings, plan):
                _report_settled(plan, shots, settled)
                await _write_lock_file(session)
                return settled
        async with (
            open_api(settings, workspace, environ, sends=sends, downloads=downloads) as api,
            open_webhooks(settings, plan) as (waker, callback_url),
            writing_latest(partial(_write_progress, session, builder, redactor)) as write_progress,
        ):
            ffmpeg = await anyio.to_thread.run_sync(_load_generation, environ)
            from rdpipe.assemble import extract_last_frame, probe_whole_duration  # loaded above
            from rdpipe.scheduler.scheduler import Scheduler

            async def extract(clip: Path, dest: Path) -> Path:
                return await extract_last_frame(clip, dest, ffmpeg=ffmpeg)

            def progress(takes: Mapping[str, TakeView], running: bool) -> None:
                write_progress((dict(takes), running))  # in a worker thread, the newest only

            jobs = with_webhooks(plan.jobs, callback_url)
            interval = max(1.0, len(plan.jobs) / 200)
            offline = settings.offline
            hosting = media_hosting(
                api,
                session.prepared,
                session.store,
                plan.jobs,
                store=session.shared,
                transfers=downloads,
                poll=settings.poll_interval or (OFFLINE_POLLING.first if offline else None),
                offline=offline,
            )
            scheduler = Scheduler(
                api=api,
                journal=session.store,
                clips=session.clips,
                reporter=ManifestReporter(shots, progress, interval=interval),
                options=scheduler_options(
                    session.prepared, settings, api_host=api_host_of(api, settings)
                ),
                probe=probe_whole_duration,
                extract_frame=extract,
                waker=waker,
                on_stored=team.on_stored(session),
                on_submitted=team.on_submitted(),
                may_submit=team.may_submit(),
                hosting=hosting,
                on_gate=reporter.run_event,
            )
            try:
                return await scheduler.run(jobs)
            finally:
                await _write_lock_file(session)


def with_webhooks(jobs: Sequence[Job], callback_url: Callable[[str], str] | None) -> list[Job]:
    """The jobs to run: each with the run's webhook for its take (``--listen``), if any.

    The webhook is the ``callback_url`` sent, over one the file writes; the journal and the
    cache key keep the rendered request (:class:`~rdpipe.plan.Job`).
    """
    if callback_url is None:
        return list(jobs)
    return [job.with_webhook(callback_url(job.shot.label)) for job in jobs]


def _report_settled(plan: Plan, shots: Reporter, results: Sequence[ShotResult]) -> None:
    """Tell ``shots`` each result settled from the state (one per job, in plan order)."""
    for job, result in zip(plan.jobs, results, strict=True):
        shots.update(
            ShotUpdate(job.shot.id, result.phase, task_id=result.task_id, message=result.message,
                       clip=result.clip, take=job.shot.take, takes=job.shot.takes,
                       rendition=job.shot.rendition)
        )  # fmt: skip


def _load_generation(environ: Mapping[str, str]) -> str:
    """Import the scheduler and the assembly stage (PyAV with it) and find ffmpeg, for a run
    that sends requests: all read files (blocking)."""
    importlib.import_module("rdpipe.assemble")
    importlib.import_module("rdpipe.scheduler.scheduler")
    from rdpipe.ffmpeg_path import find_ffmpeg

    return find_ffmpeg(environ)


def _write_progress(
    session: PipelineSession,
    builder: ManifestBuilder,
    redactor: Redactor,
    version: tuple[Mapping[str, TakeView], bool],
) -> None:
    """Rewrite the manifest as the run goes on: ``version`` is the takes by label and whether
    the run still runs (blocking)."""
    takes, running = version
    record_manifest(session.prepared, session.plan, takes, session.workspace, running=running,
                    redactor=redactor, builder=builder)  # fmt: skip


async def _write_lock_file(session: PipelineSession) -> None:
    """Rewrite the lock file in a worker thread, also when the run is being stopped."""

    def lock() -> None:  # the lock file may be read here first: in the worker thread too
        write_lock_file(session.plan, session.store, session.clips.verdicts, session.workspace,
                        session.lock_entries)  # fmt: skip

    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(lock)
