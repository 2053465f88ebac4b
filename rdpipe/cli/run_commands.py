"""``run``, ``status`` and ``assemble``: generating clips and building the storyboard video."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer

from rdpipe.cli.app import app, make_console, run_command
from rdpipe.cli.pipeline_commands import (
    AllowOutside,
    FileArgument,
    JsonOption,
    OfflineOption,
    SetOption,
    prepare,
)
from rdpipe.redaction import redact, redact_optional

if TYPE_CHECKING:
    from rich.console import Console

    from rdpipe.plan import Plan
    from rdpipe.run import RunSettings, RunSummary, Workspace
    from rdpipe.validate import PreparedPipeline


@app.command()
def run(
    file: FileArgument,
    sets: SetOption = None,
    allow_outside: AllowOutside = False,
    offline: OfflineOption = False,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-j", min=1, max=256, help="Tasks in flight.")
    ] = None,
    max_seconds: Annotated[
        int | None,
        typer.Option("--max-seconds", min=0, help="Refuse to bill more generation seconds."),
    ] = None,
    force: Annotated[
        list[str] | None,
        typer.Option("--force", help="Regenerate this shot even if cached. Repeatable."),
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Stop at the first failed shot.")
    ] = False,
    partial: Annotated[
        bool, typer.Option("--partial", help="Build the video from the shots that succeeded.")
    ] = False,
    resubmit_unknown: Annotated[
        bool,
        typer.Option(
            "--resubmit-unknown",
            help="Submit again shots whose earlier submit had an unknown outcome (may pay twice).",
        ),
    ] = False,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to wait for another run of this pipeline.")
    ] = 0.0,
    poll_interval: Annotated[
        float | None,
        typer.Option(
            "--poll-interval",
            min=0.05,
            help="Seconds before the first status poll of a task (backs off to 4x). "
            "Default 7.5, or 0.3 with --offline.",
        ),
    ] = None,
    shot_timeout: Annotated[
        float,
        typer.Option("--shot-timeout", min=1, help="Minutes to wait for one generation."),
    ] = 30.0,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=1, help="Minutes for the whole run (default: no limit)."),
    ] = None,
    listen: Annotated[
        str | None,
        typer.Option(
            "--listen",
            help="Receive RelayDance's webhooks on HOST:PORT: finished shots are picked up at "
            "once, and polling slows to a backstop.",
            metavar="HOST:PORT",
        ),
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="The URL at which RelayDance reaches --listen (default: http://HOST:PORT).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Generate every shot that has no clip yet, then join the clips into one video."""
    from rdpipe.run import RunSettings
    from rdpipe.state import StatePaths

    settings = RunSettings(
        offline=offline,
        concurrency=concurrency,
        max_seconds=max_seconds,
        force=tuple(force or ()),
        fail_fast=fail_fast,
        partial=partial,
        resubmit_unknown=resubmit_unknown,
        wait_for_other_run=wait,
        poll_interval=poll_interval,
        listen=listen,
        public_url=public_url,
        shot_timeout=shot_timeout * 60,
        run_timeout=None if timeout is None else timeout * 60,
    )

    def action() -> int:
        prepared = prepare(file, sets, allow_outside)
        summary = perform_run(prepared, settings, as_json=as_json)
        return int(summary.exit_code)

    code = run_command(action, state_dir=StatePaths.for_pipeline(file.absolute()).state_dir)
    raise typer.Exit(code)


def perform_run(prepared: PreparedPipeline, settings: RunSettings, *, as_json: bool) -> RunSummary:
    """Hold the run guard, plan against the state, generate, record and assemble."""
    from rdpipe.cli.file_problems import check_run_paths
    from rdpipe.refetch import whole_clip_store
    from rdpipe.run import Workspace, check_budget, plan_with_state
    from rdpipe.state import RunGuard, StateStore, prepare_state_dir

    console = make_console(stderr=as_json)
    workspace = Workspace.for_pipeline(prepared.loaded, offline=settings.offline)
    prepare_state_dir(workspace.state.state_dir)
    # The lock file, manifest and video are written last: a folder in their way stops us now.
    check_run_paths(
        [workspace.state.lock_file, workspace.manifest, workspace.video], [workspace.output_dir]
    )
    guard = RunGuard(workspace.state.state_dir, workspace.state.pipeline)
    with guard.acquire(wait=settings.wait_for_other_run):
        store = StateStore.open(
            workspace.state.database, pipeline=workspace.state.pipeline, clock=time.time
        )
        with store:
            for intent in store.recover_interrupted():
                then = (
                    "it is submitted again (free offline)"
                    if settings.offline
                    else "it may have been billed and will not be resent blindly"
                )
                console.print(
                    f"[yellow]shot {intent.shot_id}: a submit was interrupted before its answer "
                    f"was recorded; {then}[/]"
                )
            clips = whole_clip_store(workspace.output_dir)
            clips.remove_stale_downloads()  # a killed run's; no download is under way now
            plan = plan_with_state(prepared, store, clips, settings)
            check_budget(plan, prepared, settings)
            _announce(console, plan, settings)
            summary = _execute(prepared, plan, workspace, store, settings, as_json, console)
    _finish(console, summary, as_json)
    return summary


def _announce(console: Console, plan: Plan, settings: RunSettings) -> None:
    from rdpipe.plan import Action

    reused = sum(job.action is Action.REUSE for job in plan.jobs)
    resumed = sum(job.action is Action.RESUME for job in plan.jobs)
    if not plan.generations and not resumed:
        return  # nothing to do: the summary line at the end says it all (issue 12)
    seconds = (
        f"{plan.billed_seconds} s on the offline simulator, free"
        if settings.offline
        else f"{plan.billed_seconds} s submitted to RelayDance; failed tasks are refunded"
    )
    console.print(
        f"{plan.pipeline}: {plan.generations} to generate ({seconds}), {resumed} to resume, "
        f"{reused} cached",
        markup=False,
    )


def _execute(
    prepared: PreparedPipeline,
    plan: Plan,
    workspace: Workspace,
    store: object,
    settings: RunSettings,
    as_json: bool,
    console: Console,
) -> RunSummary:
    from dataclasses import replace

    import anyio

    from rdpipe.cli.run_session import (
        api_host_of,
        interruptible,
        open_api,
        open_reporter,
        open_webhooks,
    )
    from rdpipe.manifest import views_of
    from rdpipe.run import RunSummary, execute, record_manifest, scheduler_options
    from rdpipe.scheduler import OFFLINE_POLLING, SchedulerOptions
    from rdpipe.state import StateStore
    from rdpipe.storyboard import assemble_video, shots_without_clip

    assert isinstance(store, StateStore)
    environ = dict(os.environ)
    base = SchedulerOptions(polling=OFFLINE_POLLING) if settings.offline else SchedulerOptions()
    options = scheduler_options(prepared, settings, base)
    needs_api = plan.needs_api

    async def main() -> RunSummary:
        with open_reporter(console, plan, as_json) as reporter:
            async with (
                open_api(settings, workspace, environ, needed=needs_api) as api,
                open_webhooks(settings, plan) as (waker, callback_url),
            ):
                results = await execute(
                    prepared,
                    plan,
                    workspace,
                    api=api,
                    store=store,
                    reporter=reporter,
                    options=replace(options, api_host=api_host_of(api, settings)),
                    environ=environ,
                    waker=waker,
                    callback_url=callback_url,
                )
        summary = RunSummary(prepared.name, workspace, results, plan)
        missing = shots_without_clip(prepared, results)
        if missing and not settings.partial:
            summary.notes.append(
                f"video not built: no finished take for {', '.join(missing)}; deal with the "
                "reasons above and rerun (nothing paid for is lost), or pass --partial to build "
                "from the shots that did"
            )
        else:
            summary.output = await assemble_video(prepared, results, workspace, environ=environ)
            views = views_of(results, plan)
            record_manifest(prepared, plan, views, workspace, running=False, video=summary.output)
        return summary

    async def until_interrupted() -> RunSummary:
        # Ctrl-C is watched from start to end (simulator start-up, generation, assembly alike).
        return await interruptible(main(), console)

    return anyio.run(until_interrupted)


def _finish(console: Console, summary: RunSummary, as_json: bool) -> None:
    for note in summary.notes:
        console.print(note, style="yellow", markup=False)
    for result in summary.results:
        if not result.ok:
            console.print(
                f"{result.shot_id}: {result.phase.value}: {redact_optional(result.message)}",
                style="red",
                markup=False,
            )
    if as_json:
        sys.stdout.write(redact(json.dumps(summary.to_json(), ensure_ascii=False)) + "\n")
        return
    where = f" -> {summary.output}" if summary.output else ""
    console.print(f"{summary.pipeline}: {summary.counts()}{where}", markup=False)
