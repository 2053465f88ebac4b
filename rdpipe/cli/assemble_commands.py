"""``rdpipe assemble``: rebuild the storyboard video from the clips on disk.

It sends nothing, except to download again a paid clip it finds damaged on disk (GETs only,
never a submit; issue 11 §3). The work is :func:`rdpipe.session.rebuild.rebuild_video`.
"""

from __future__ import annotations

import os
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
    """Rebuild the storyboard video from the clips on disk; submits nothing.

    A clip found cut short or damaged is downloaded again from its (paid) task.
    """
    from rdpipe.redaction import Redactor

    environ = dict(os.environ)
    redactor = Redactor.from_environ(environ)

    def action() -> None:
        from rdpipe.cli.run_session import ConsoleRunReporter
        from rdpipe.session.rebuild import rebuild_video
        from rdpipe.session.settings import RunSettings

        console = make_console()
        prepared = prepare(file, sets, allow_outside)
        output = rebuild_video(
            prepared,
            RunSettings(offline=offline, partial=partial),
            reporter=ConsoleRunReporter(console, redactor),
            environ=environ,
            redactor=redactor,
        )
        console.print(f"{prepared.name}: {output}", markup=False)

    run_command(action, redactor=redactor)
