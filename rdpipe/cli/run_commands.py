"""``run``: generate every shot that has no clip yet, then build the storyboard video.

The command reads its options and starts its :class:`~rdpipe.cli.context.CommandContext` (the
environment, read once, and the consoles); the run itself is
:func:`rdpipe.session.running.run_pipeline`, which tells the console what happens through a
:class:`~rdpipe.cli.run_session.ConsoleRunReporter`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from rdpipe.cli.app import app, run_command
from rdpipe.cli.context import CommandContext
from rdpipe.cli.machine_output import JsonLinesTarget, dumps, summary_document
from rdpipe.cli.pipeline_commands import (
    AllowOutside,
    FileArgument,
    JsonOption,
    NoRemoteOption,
    OfflineOption,
    PartialOption,
    RemoteOption,
    SetOption,
    prepare,
    remote_setting,
)
from rdpipe.concurrency import DEFAULT_TASKS, MAX_TASKS
from rdpipe.hints import Invocation
from rdpipe.session.settings import (
    OFFLINE_POLL_INTERVAL,
    POLL_BACKOFF,
    POLL_INTERVAL,
    SHOT_TIMEOUT,
)

if TYPE_CHECKING:
    from rich.console import Console

    from rdpipe.prepare.pipeline import PreparedPipeline
    from rdpipe.redaction import Redactor
    from rdpipe.scheduler import ShotResult
    from rdpipe.session.next_run import FinalsState
    from rdpipe.session.settings import RunSettings
    from rdpipe.session.summary import RunSummary


@app.command()
def run(
    file: FileArgument,
    sets: SetOption = None,
    allow_outside: AllowOutside = False,
    offline: OfflineOption = False,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            "-j",
            envvar="RDPIPE_CONCURRENCY",
            min=1,
            max=MAX_TASKS,
            metavar="N",
            help=f"Tasks in flight. Default: the file's concurrency.tasks, else {DEFAULT_TASKS}.",
        ),
    ] = None,
    max_seconds: Annotated[
        int | None,
        typer.Option(
            "--max-seconds",
            min=0,
            metavar="SECONDS",
            help="Refuse to bill more generation seconds.",
        ),
    ] = None,
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost",
            parser=_cost_amount,
            metavar="AMOUNT",
            help="Refuse a run whose expected cost or pre-charge is above this amount, in the "
            "account's display currency (from RelayDance's prices).",
        ),
    ] = None,
    force: Annotated[
        list[str] | None,
        typer.Option(
            "--force", metavar="SHOT", help="Regenerate this shot even if cached. Repeatable."
        ),
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Stop at the first failed shot.")
    ] = False,
    partial: PartialOption = False,
    resubmit_unknown: Annotated[
        bool,
        typer.Option(
            "--resubmit-unknown",
            help="Submit again shots whose earlier submit had an unknown outcome (may pay twice).",
        ),
    ] = False,
    wait: Annotated[
        float,
        typer.Option(
            "--wait", metavar="SECONDS", help="Seconds to wait for another run of this pipeline."
        ),
    ] = 0.0,
    poll_interval: Annotated[
        float | None,
        typer.Option(
            "--poll-interval",
            min=0.05,
            metavar="SECONDS",
            help=f"Seconds before the first status poll of a task (backs off to {POLL_BACKOFF}x). "
            f"Default {POLL_INTERVAL:g}, or {OFFLINE_POLL_INTERVAL:g} with --offline.",
        ),
    ] = None,
    shot_timeout: Annotated[
        float,
        typer.Option(
            "--shot-timeout", min=1, metavar="MINUTES", help="Minutes to wait for one generation."
        ),
    ] = SHOT_TIMEOUT / 60,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=1,
            metavar="MINUTES",
            help="Minutes for the whole run (default: no limit).",
        ),
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
            metavar="URL",
            help="The URL at which RelayDance reaches --listen (default: http://HOST:PORT).",
        ),
    ] = None,
    locked: Annotated[
        bool,
        typer.Option(
            "--locked",
            help="Build only from the clips the lock file names (here, in the shared store or "
            "on the server); submit nothing, and exit 2 naming any shot that would need it.",
        ),
    ] = False,
    drafts: Annotated[
        bool,
        typer.Option(
            "--drafts",
            help="Stop after the draft stage: generate the drafts (and the shots without "
            "drafts) and build each video from them as NAME.draft.mp4; no final is rendered.",
        ),
    ] = False,
    remote: RemoteOption = None,
    no_remote: NoRemoteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Generate every shot that has no clip yet, then join the clips into one video.

    A shot with ``draft:`` is generated as cheap drafts first; once ``pick:`` names the
    draft take to keep, ``run`` renders it at the final configuration with the same seed."""
    from rdpipe.session.settings import RunSettings
    from rdpipe.state import StatePaths

    settings = RunSettings(
        offline=offline,
        concurrency=concurrency,
        max_seconds=max_seconds,
        max_cost=max_cost,
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
        locked=locked,
        drafts=drafts,
    )
    context = CommandContext.start()
    if locked and (offline or force):
        other = "--offline" if offline else "--force"
        raise typer.BadParameter(
            f"--locked builds from the lock file's paid clips; it cannot be combined with {other}",
            param_hint="--locked",
        )

    def action() -> int:
        prepared = prepare(file, sets, allow_outside, warnings_to=context.err)
        shared = None if offline else remote_setting(file, remote, context, disabled=no_remote)
        run_settings = replace(settings, remote=shared, on_retry=context.retry_teller())
        summary = perform_run(
            prepared, run_settings, as_json=as_json, context=context, invocation=invocation
        )
        return int(summary.exit_code)

    state_dir = StatePaths.for_pipeline(file.absolute()).state_dir
    invocation = Invocation.start(
        file, offline=offline, sets=sets, allow_outside_files=allow_outside
    )
    code = run_command(action, context, state_dir=state_dir, invocation=invocation, as_json=as_json)
    raise typer.Exit(code)


def perform_run(
    prepared: PreparedPipeline,
    settings: RunSettings,
    *,
    as_json: bool,
    context: CommandContext,
    invocation: Invocation | None = None,
) -> RunSummary:
    """Run the pipeline (Ctrl-C watched throughout its async part), then print its summary,
    also when an error stops the run after its shots ran (the error is raised after it).

    The run's events, progress and summary go to ``context.out`` (``context.err`` with
    ``--json``, whose summary object goes to stdout); what Ctrl-C says, to ``context.err``
    always. The run reads ``context.environ``, and
    the context's redactor takes secrets out of all the run prints and keeps. After the
    summary, what to run next for the shots left without a clip, written for ``invocation``
    (:func:`rdpipe.cli.next_steps.next_steps`).
    """
    from rdpipe.cli.run_session import ConsoleRunReporter, until_interrupted
    from rdpipe.session.running import run_pipeline
    from rdpipe.session.summary import unfinished_summary

    console = context.err if as_json else context.out
    json_to = JsonLinesTarget(context.out.file, prepared.loaded.path.parent) if as_json else None
    redactor = context.redactor
    shown = _nowhere(console) if context.quiet else console  # -q: the summary only
    reporter = ConsoleRunReporter(
        shown, redactor, json_to=json_to, notices=context.err, invocation=invocation
    )
    try:
        summary = run_pipeline(
            prepared,
            settings,
            reporter=reporter,
            environ=context.environ,
            redactor=redactor,
            run_async=until_interrupted(reporter),
        )
    except Exception as error:
        ran = unfinished_summary(error)
        if ran is not None:  # the shots ran: their summary (--json: its object) ends stdout
            _finish(console, ran, json_to, redactor, invocation, prepared, settings)
        raise
    _finish(console, summary, json_to, redactor, invocation, prepared, settings)
    return summary


def shot_outcome(result: ShotResult) -> str:
    """``failed (refunded)``: a result's status word (:func:`shown_status`) and, unless the same
    word, its outcome."""
    from rdpipe.scheduler.results import shown_status

    phase, outcome = shown_status(result), result.outcome.value
    return phase if phase == outcome else f"{phase} ({outcome})"


def _finish(
    console: Console,
    summary: RunSummary,
    json_to: JsonLinesTarget | None,
    redactor: Redactor,
    invocation: Invocation | None = None,
    prepared: PreparedPipeline | None = None,
    settings: RunSettings | None = None,
) -> None:
    """A line per shot the summary tells of (:meth:`RunSummary.told`), with its outcome (in
    red when it has no clip), what to run next (:func:`~rdpipe.cli.next_steps.next_steps`,
    written for ``invocation``: also the drafted shots of ``prepared`` awaiting a pick), then
    the summary line (or the ``--json`` summary object on ``json_to``)."""
    for result in summary.told():
        message = redactor.redact_optional(result.message)
        console.print(
            f"{result.shot_id}: {shot_outcome(result)}: {message}",
            style=None if result.ok else "red",
        )
    if invocation is not None:
        from rdpipe.cli.next_steps import next_steps

        awaiting = () if prepared is None else prepared.awaiting_pick
        drafts_run = settings is not None and settings.drafts
        finals = _finals_state(prepared, settings) if drafts_run and not awaiting else "render"
        steps = next_steps(
            summary, invocation, awaiting_pick=awaiting, drafts_run=drafts_run, finals=finals
        )
        for step in steps:
            console.print(redactor.redact(step))
    if json_to is not None:
        text = dumps(summary_document(summary, json_to.base), indent=None)
        json_to.stream.write(redactor.redact(text) + "\n")
        json_to.stream.flush()
        return
    where = f" -> {summary.output}" if summary.output else ""
    if len(summary.deliverables) > 1:  # every deliverable's video, in file order
        where = " -> " + ", ".join(str(path) for _name, path in summary.deliverables)
    console.print(f"{summary.pipeline}: {summary.counts()}{where}")


def _finals_state(prepared: PreparedPipeline | None, settings: RunSettings | None) -> FinalsState:
    """What the plain run after this ``--drafts`` run does with the finals
    (:func:`~rdpipe.session.next_run.finals_after_drafts`); ``"render"`` when the state
    cannot tell."""
    from rdpipe.errors import RdpipeError
    from rdpipe.session.next_run import finals_after_drafts

    if prepared is None or settings is None:
        return "render"
    try:
        return finals_after_drafts(prepared, settings)
    except (OSError, RdpipeError):  # no state to read: say what a plain run would
        return "render"


def _nowhere(console: Console) -> Console:
    """A console like ``console`` whose prints go nowhere: what ``-q`` does to the run's
    events, live view and progress (errors, stop notices and the summary still show)."""
    import io

    from rich.console import Console

    class _Discard(io.StringIO):
        def write(self, text: str) -> int:
            return len(text)

    return Console(file=_Discard(), width=console.width, force_terminal=False)


def _cost_amount(written: str) -> float:
    """``--max-cost``: a finite amount of at least one cent, as ``budget: {cost:}`` in a file
    must be (:func:`rdpipe.model.budget.cost_problem`); the value is echoed when it is not."""
    from rdpipe.model.budget import cost_problem

    try:
        if "_" in written:  # float() reads 1_000; a budget in a file may not be written so
            raise ValueError(written)
        value = float(written.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{written!r} is not an amount: write a number, like 20 or 7.5, with no currency "
            "sign (it is in the account's display currency)"
        ) from None
    problem = cost_problem(value, written.strip())
    if problem is not None:
        raise typer.BadParameter(problem)
    return value
