"""``rdpipe assemble``: rebuild the storyboard video from the clips on disk.

It sends nothing, except to download again a paid clip it finds damaged on disk (GETs only,
never a submit; issue 11 §3).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Annotated

import typer

from rdpipe.cli.app import app, make_console, run_command
from rdpipe.cli.pipeline_commands import (
    AllowOutside,
    FileArgument,
    OfflineOption,
    SetOption,
    prepare,
)

if TYPE_CHECKING:
    from rdpipe.plan import Plan
    from rdpipe.run import Workspace
    from rdpipe.scheduler import ShotResult
    from rdpipe.state import StateStore
    from rdpipe.validate import PreparedPipeline


@app.command("assemble")
def assemble_command(
    file: FileArgument,
    sets: SetOption = None,
    allow_outside: AllowOutside = False,
    offline: OfflineOption = False,
    partial: Annotated[
        bool, typer.Option("--partial", help="Skip shots that have no clip yet.")
    ] = False,
) -> None:
    """Rebuild the storyboard video from the clips on disk; submits nothing.

    A clip found cut short or damaged is downloaded again from its (paid) task.
    """

    def action() -> None:
        import anyio

        from rdpipe.manifest import views_of
        from rdpipe.refetch import clip_damage, finished_resumes, whole_clip_store
        from rdpipe.run import (
            RunSettings,
            Workspace,
            plan_with_state,
            record_manifest,
            settle_without_api,
        )
        from rdpipe.state import StateStore
        from rdpipe.storyboard import assemble_video, shots_without_clip

        prepared = prepare(file, sets, allow_outside)
        workspace = Workspace.for_pipeline(prepared.loaded, offline=offline)
        with StateStore.open(
            workspace.state.database, pipeline=workspace.state.pipeline, clock=time.time
        ) as store:
            clips = whole_clip_store(workspace.output_dir)
            plan = plan_with_state(prepared, store, clips, RunSettings())
            refetched = finished_resumes(plan, store)
            if refetched:
                plan = _refetch(prepared, plan, workspace, store)
            results = settle_without_api(plan, store)
            damaged = {job.shot.id: clip_damage(job, store, clips) for job in refetched}
        missing = shots_without_clip(prepared, results)
        if missing and not partial:
            raise _no_clip_error(missing, damaged, offline=offline)
        output = anyio.run(
            lambda: assemble_video(prepared, results, workspace, environ=dict(os.environ))
        )
        views = views_of(results, plan)
        record_manifest(prepared, plan, views, workspace, running=False, video=output)
        make_console().print(f"{prepared.name}: {output}", markup=False)

    run_command(action)


def _no_clip_error(missing: list[str], damaged: dict[str, str], *, offline: bool) -> Exception:
    """Shots the video cannot be built without: never generated, or their clip on disk is
    damaged and could not be downloaded again (``damaged`` says how)."""
    from rdpipe.errors import RdpipeError

    new = [shot for shot in missing if shot not in damaged]
    parts = [f"no clip yet for {', '.join(new)}"] if new else []
    parts += [
        f"the clip of {shot} is not whole and could not be downloaded again: {damaged[shot]}"
        for shot in missing
        if shot in damaged
    ]
    run = "`rdpipe run --offline` first (free)" if offline else "`rdpipe run` first"
    return RdpipeError("; ".join(parts), hint=f"Run {run}, or pass --partial to leave them out.")


def _refetch(
    prepared: PreparedPipeline, plan: Plan, workspace: Workspace, store: StateStore
) -> Plan:
    """Download again the clips of finished tasks found missing or damaged; the plan after.

    Holds the run guard (a run of the same pipeline may not download at the same time) and
    rewrites the lock file, which names the clips now on disk.
    """
    import anyio

    from rdpipe.cli.run_session import api_host_of, open_api, open_reporter
    from rdpipe.plan import Plan
    from rdpipe.refetch import finished_resumes, refetch_clips, whole_clip_store
    from rdpipe.run import RunSettings, plan_with_state, write_lock_file
    from rdpipe.state import ClipStore, RunGuard, prepare_state_dir

    console = make_console()
    jobs = finished_resumes(plan, store)
    settings = RunSettings(offline=workspace.offline)
    for job in jobs:
        console.print(f"{job.shot.label}: {job.reason}", markup=False, highlight=False)

    async def main() -> list[ShotResult]:
        with open_reporter(console, Plan(plan.pipeline, jobs), as_json=False) as reporter:
            async with open_api(settings, workspace, dict(os.environ), needed=True) as api:
                return await refetch_clips(
                    jobs,
                    workspace.output_dir,
                    api=api,
                    store=store,
                    reporter=reporter,
                    offline=workspace.offline,
                    api_host=api_host_of(api, settings),
                )

    prepare_state_dir(workspace.state.state_dir)
    with RunGuard(workspace.state.state_dir, workspace.state.pipeline).acquire():
        ClipStore(workspace.output_dir).remove_stale_downloads()  # a killed run's
        results = anyio.run(main)
    for result in results:
        if not result.ok:
            console.print(f"{result.shot_id}: {result.phase.value}: {result.message}",
                          style="red", markup=False)  # fmt: skip
    plan = plan_with_state(prepared, store, whole_clip_store(workspace.output_dir), RunSettings())
    write_lock_file(plan, store, workspace)
    return plan
