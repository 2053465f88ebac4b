"""``rdpipe status``: what a run would do with each shot, and why, without running it."""

from __future__ import annotations

import json
import time
from typing import Any

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

_LABEL = {
    "reuse": "cached",
    "resume": "in flight",
    "blocked": "unknown",
    "refused": "refused",
    "generate": "to generate",
}


@app.command()
def status(
    file: FileArgument,
    sets: SetOption = None,
    allow_outside: AllowOutside = False,
    offline: OfflineOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show each shot: cached, in flight, failed, unknown, or to be generated, and why."""

    def action() -> None:
        from rich.table import Table

        from rdpipe.refetch import whole_clip_store
        from rdpipe.run import RunSettings, Workspace, plan_with_state
        from rdpipe.state import RunGuard, StateStore

        prepared = prepare(file, sets, allow_outside)
        workspace = Workspace.for_pipeline(prepared.loaded, offline=offline)
        settings = RunSettings(offline=offline)
        rows: list[dict[str, Any]] = []
        if workspace.state.database.exists():
            # Read-only: status writes nothing, so it works on a read-only checkout.
            with StateStore.open(
                workspace.state.database,
                pipeline=workspace.state.pipeline,
                clock=time.time,
                read_only=True,
            ) as store:
                clips = whole_clip_store(workspace.output_dir)
                running = RunGuard(workspace.state.state_dir, workspace.state.pipeline).held()
                plan = plan_with_state(prepared, store, clips, settings, run_in_progress=running)
        else:
            from rdpipe.plan import plan_run

            plan = plan_run(prepared.name, prepared.shots)
        for job in plan.jobs:
            rows.append(
                {
                    "id": job.shot.id,
                    "take": job.shot.take,
                    "label": job.shot.label,
                    "status": "failed" if job.failed_before else _LABEL[job.action.value],
                    "reason": job.reason,
                    "task_id": job.task_id,
                    "clip": job.clip,
                    "key": job.key,
                }
            )
        if as_json:
            document = {"pipeline": prepared.name, "shots": rows,
                        "billed_seconds": plan.billed_seconds}  # fmt: skip
            typer.echo(json.dumps(document, indent=2))
            return
        table = Table(title=f"{prepared.name}: {plan.billed_seconds} s to bill on the next run")
        for column in ("shot", "status", "why"):
            table.add_column(column)
        for row in rows:
            table.add_row(row["label"], row["status"], row["reason"])
        make_console().print(table)

    run_command(action)
