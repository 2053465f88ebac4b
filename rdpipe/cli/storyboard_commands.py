"""``rdpipe assemble``: rebuild the storyboard video from the clips on disk, offline."""

from __future__ import annotations

import os
import time
from typing import Annotated

import typer

from rdpipe.cli.app import app, make_console, run_command
from rdpipe.cli.pipeline_commands import (
    AllowOutside,
    FileArgument,
    OfflineOption,
    SetOption,
    prepare,
)


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
    """Rebuild the storyboard video from the clips on disk; sends nothing to the API."""

    def action() -> None:
        import anyio

        from rdpipe.manifest import views_of
        from rdpipe.run import (
            RunSettings,
            Workspace,
            plan_with_state,
            record_manifest,
            settle_without_api,
        )
        from rdpipe.state import ClipStore, StateStore
        from rdpipe.storyboard import assemble_video, shots_without_clip

        prepared = prepare(file, sets, allow_outside)
        workspace = Workspace.for_pipeline(prepared.loaded, offline=offline)
        with StateStore.open(
            workspace.state.database, pipeline=workspace.state.pipeline, clock=time.time
        ) as store:
            plan = plan_with_state(prepared, store, ClipStore(workspace.output_dir), RunSettings())
            results = settle_without_api(plan, store)
        missing = shots_without_clip(prepared, results)
        if missing and not partial:
            from rdpipe.errors import RdpipeError

            raise RdpipeError(
                f"no clip yet for {', '.join(missing)}",
                hint="Run `rdpipe run` first, or pass --partial to leave them out.",
            )
        output = anyio.run(
            lambda: assemble_video(prepared, results, workspace, environ=dict(os.environ))
        )
        views = views_of(results, plan)
        record_manifest(prepared, plan, views, workspace, running=False, video=output)
        make_console().print(f"{prepared.name}: {output}", markup=False)

    run_command(action)
