"""``push`` and ``pull``: clips between this machine and the team's shared clip store."""

from __future__ import annotations

from rdpipe.cli.app import app, run_command
from rdpipe.cli.context import CommandContext
from rdpipe.cli.pipeline_commands import (
    AllowOutside,
    FileArgument,
    RemoteOption,
    SetOption,
    prepare,
    remote_setting,
)
from rdpipe.hints import Invocation


@app.command()
def push(
    file: FileArgument,
    sets: SetOption = None,
    allow_outside: AllowOutside = False,
    remote: RemoteOption = None,
) -> None:
    """Push the pipeline's clips to the shared clip store (those it lacks); submits nothing."""
    context = CommandContext.start()

    def action() -> None:
        from rdpipe.cli.run_session import ConsoleRunReporter, until_interrupted
        from rdpipe.session.events import clips_word
        from rdpipe.session.settings import RunSettings
        from rdpipe.session.transfers import push_pipeline

        prepared = prepare(file, sets, allow_outside, warnings_to=context.err)
        settings = RunSettings(remote=remote_setting(file, remote, context))
        reporter = ConsoleRunReporter(context.out, context.redactor, notices=context.err)
        done = push_pipeline(
            prepared, settings, reporter=reporter, run_async=until_interrupted(reporter)
        )
        where = settings.remote.url if settings.remote else ""
        context.out.print(
            f"{prepared.name}: {done.done} of {clips_word(done.clips)} in {where} "
            f"({done.uploaded} uploaded)"
        )

    invocation = Invocation.start(file, sets=sets, allow_outside_files=allow_outside)
    run_command(action, context, invocation=invocation)


@app.command()
def pull(
    file: FileArgument,
    sets: SetOption = None,
    allow_outside: AllowOutside = False,
    remote: RemoteOption = None,
) -> None:
    """Fetch every clip the lock file or the shared store names (store first, then the
    server by task id); generates nothing."""
    context = CommandContext.start()

    def action() -> None:
        from rdpipe.cli.run_session import ConsoleRunReporter, until_interrupted
        from rdpipe.session.events import clips_word
        from rdpipe.session.settings import RunSettings
        from rdpipe.session.transfers import pull_pipeline

        prepared = prepare(file, sets, allow_outside, warnings_to=context.err)
        settings = RunSettings(remote=remote_setting(file, remote, context))
        reporter = ConsoleRunReporter(context.out, context.redactor, notices=context.err)
        done = pull_pipeline(
            prepared,
            settings,
            reporter=reporter,
            environ=context.environ,
            run_async=until_interrupted(reporter),
        )
        context.out.print(f"{prepared.name}: {clips_word(done.done)} pulled")

    invocation = Invocation.start(file, sets=sets, allow_outside_files=allow_outside)
    run_command(action, context, invocation=invocation)
