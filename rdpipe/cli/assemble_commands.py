"""``rdpipe assemble``: rebuild the storyboard video, every deliverable's, from the clips on
disk.

It sends nothing, except to download again a paid clip it finds damaged on disk (GETs only,
never a submit; issue 11 §3). The work is :func:`rdpipe.session.rebuild.rebuild_video`.
"""

from __future__ import annotations

from rdpipe.cli.app import app, run_command
from rdpipe.cli.context import CommandContext
from rdpipe.cli.pipeline_commands import (
    AllowOutside,
    FileArgument,
    OfflineOption,
    PartialOption,
    SetOption,
    prepare,
)
from rdpipe.hints import Invocation


@app.command("assemble")
def assemble_command(
    file: FileArgument,
    sets: SetOption = None,
    allow_outside: AllowOutside = False,
    offline: OfflineOption = False,
    partial: PartialOption = False,
) -> None:
    """Rebuild the storyboard video (every deliverable's) from the clips on disk; submits
    nothing.

    A clip found cut short or damaged is downloaded again from its (paid) task.
    """
    context = CommandContext.start()

    def action() -> None:
        from rdpipe.cli.run_session import ConsoleRunReporter
        from rdpipe.session.rebuild import rebuild_video
        from rdpipe.session.settings import RunSettings

        prepared = prepare(file, sets, allow_outside, warnings_to=context.err)
        built = rebuild_video(
            prepared,
            RunSettings(offline=offline, partial=partial),
            reporter=ConsoleRunReporter(
                context.out, context.redactor, quiet=getattr(context, "verbosity", 0) < 0
            ),
            environ=context.environ,
            redactor=context.redactor,
        )
        for note in dict.fromkeys(note for each in built for note in each.notes):
            context.out.print(note)
        for each in built:  # one line per deliverable, in file order
            context.out.print(f"{prepared.name}: {each.path}")

    invocation = Invocation.start(
        file, offline=offline, sets=sets, allow_outside_files=allow_outside
    )
    run_command(action, context, invocation=invocation)
