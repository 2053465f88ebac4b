"""``assets``: the portraits a project registered in RelayDance's asset library."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from rdpipe.cli.app import app, run_command
from rdpipe.cli.context import CommandContext
from rdpipe.cli.pipeline_commands import JsonOption, OfflineOption


@app.command()
def assets(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH", help="A pipeline file, or the folder of the pipelines (default: here)."
        ),
    ] = Path("."),
    offline: OfflineOption = False,
    as_json: JsonOption = False,
) -> None:
    """List the portraits registered in the asset library (``asset: true`` references) and
    their state: Active (sent as asset://), Processing, or Failed with the audit's reason.
    Reads the run state only (with --offline, the offline previews'); sends nothing."""
    context = CommandContext.start()

    def action() -> None:
        import time

        from rich.table import Table
        from rich.text import Text

        from rdpipe.state import StatePaths, StateStore

        if not path.exists():
            raise typer.BadParameter(f"{path} does not exist", param_hint="PATH")
        folder = path.parent if path.is_file() else path
        # The folder's state, which every pipeline in it shares (any file name will do).
        database = StatePaths.for_pipeline(folder / "any.yaml", offline=offline).database
        records = []
        if database.is_file():
            with StateStore.open(database, pipeline="", clock=time.time, read_only=True) as state:
                records = state.portraits()
        if as_json:
            rows = [
                {"name": r.name, "file": r.file, "status": r.status, "uri": r.uri,
                 "reason": r.reason, "asset_id": r.asset_id, "media_host": r.host,
                 "registered_at": r.registered_at, "updated_at": r.updated_at}
                for r in records
            ]  # fmt: skip
            from rdpipe.cli.machine_output import Kind, document, dumps

            typer.echo(dumps(document(Kind.ASSETS, {"portraits": rows})))
            return
        if not records:
            context.out.print(
                f"No portraits registered from {folder}: a reference with `asset: true` is "
                "registered by the first `rdpipe run` that sends it.",
                markup=False,
            )
            return
        table = Table(title=Text(f"Portraits registered from {folder}"), title_justify="left")
        for column in ("name", "file", "status", "asset URI or reason", "registered"):
            table.add_column(column, overflow="fold")
        for record in records:
            detail = record.uri if record.status.lower() == "active" else record.reason
            detail = detail or "(waiting for the audit)"
            when = datetime.fromtimestamp(record.registered_at).strftime("%Y-%m-%d %H:%M")
            table.add_row(
                Text(record.name), Text(record.file), Text(record.status), Text(detail or ""),
                when,
            )  # fmt: skip
        context.out.print(table)

    run_command(action, context, as_json=as_json)
