"""``rdpipe review`` (every take side by side, in a page) and ``rdpipe pick`` (choose one)."""

from __future__ import annotations

import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rdpipe.cli.app import app, run_command
from rdpipe.cli.context import CommandContext
from rdpipe.cli.pipeline_commands import SetOption
from rdpipe.errors import UsageError
from rdpipe.hints import Invocation

if TYPE_CHECKING:
    from rich.console import Console


def manifest_path(file: Path, *, offline: bool) -> Path:
    """Where a run of the pipeline ``file`` writes its manifest (validates the file)."""
    from rdpipe.load.loader import load_pipeline
    from rdpipe.session.workspace import Workspace

    return Workspace.for_pipeline(load_pipeline(file), offline=offline).manifest


@app.command()
def review(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The pipeline file.")],
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", envvar="RDPIPE_OFFLINE", help="Review the offline preview's takes instead."
        ),
    ] = False,
    serve: Annotated[
        bool,
        typer.Option("--serve", help="Serve the page on 127.0.0.1: live progress, pick buttons."),
    ] = False,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            metavar="PORT",
            min=0,
            max=65535,
            help="Port for --serve, 0 to 65535 [default: 0, any free port].",
        ),
    ] = None,
    open_page: Annotated[
        bool | None,
        typer.Option("--open/--no-open", help="Open the page in a browser [default: on a tty]."),
    ] = None,
) -> None:
    """Write review.html beside the video: every take of every shot, playable, with details."""
    context = CommandContext.start()
    console = context.out

    def action() -> None:
        from rdpipe.review import build_page
        from rdpipe.yaml_edit import PickNotSet, read_picks

        if port is not None and not serve:
            raise UsageError(
                f"--port {port} is the port of the page --serve serves; without --serve the page "
                "is written as a file and no port is used",
                hint=f"Add --serve: {_serving(file, offline, port)}",
            )
        manifest = manifest_path(file, offline=offline)
        if not manifest.exists():
            # Not run yet: a file that cannot run gets its problems, not "run it first".
            from rdpipe.prepare.pipeline import prepare_pipeline

            prepare_pipeline(file)
        should_open = sys.stdout.isatty() if open_page is None else open_page
        try:
            picks = read_picks(file)
        except PickNotSet:
            picks = {}
        invocation = Invocation.start(file, offline=offline)  # the page's commands
        if not serve:
            page = build_page(manifest, picks=picks, invocation=invocation)
            console.print(f"Wrote {page}")
            if should_open:
                _open(page.resolve().as_uri())
            return
        if manifest.exists():
            build_page(manifest, picks=picks, invocation=invocation)
        _serve_until_interrupted(console, manifest, invocation, port or 0, should_open)

    run_command(action, context, invocation=Invocation.start(file, offline=offline))


def _serving(file: Path, offline: bool, port: int) -> str:
    """The review command with ``--serve --port PORT``, as the user would type it."""
    options = ("--serve", "--port", str(port))
    return Invocation.start(file, offline=offline).command("review", options=options)


def _serve_until_interrupted(
    console: Console, manifest: Path, invocation: Invocation, port: int, should_open: bool
) -> None:
    from rdpipe.review import serve

    file = invocation.cwd / invocation.pipeline if invocation.pipeline else manifest
    with serve(manifest, file.resolve(), port=port, invocation=invocation) as server:
        console.print(f"Reviewing at {server.url}  (Ctrl-C to stop)")
        if should_open:
            _open(server.url)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            console.print("review server stopped")


def _open(url: str) -> None:
    import webbrowser

    webbrowser.open(url)


@app.command()
def pick(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="The pipeline file (the shot is in it or in a file it includes)."
        ),
    ],
    shot: Annotated[str, typer.Argument(metavar="SHOT", help="Id of the shot.")],
    take: Annotated[
        int | None,
        typer.Argument(metavar="TAKE", help="The take to use (1 is the first); 0 clears the pick."),
    ] = None,
    clear: Annotated[
        bool,
        typer.Option(
            "--clear",
            help="Remove pick: (use the first take that succeeded; a drafted shot then awaits "
            "a pick: its drafts only, no final).",
        ),
    ] = False,
    sets: SetOption = None,
) -> None:
    """Choose the take of a shot used in the video: sets pick: in the file, keeping its layout.

    Nothing is regenerated; run `rdpipe assemble FILE` afterwards to rebuild the video. The
    --set values of the run are not needed to pick; given, the commands it prints carry them.
    """
    context = CommandContext.start()
    console = context.out
    invocation = Invocation.start(file, sets=sets)

    def action() -> None:
        from rdpipe.yaml_edit import set_pick

        example = invocation.command("pick", shot, "2")
        if take is not None and clear:
            clearing = invocation.command("pick", shot, options=("--clear",))
            raise UsageError(
                f"a take number ({take}) and --clear exclude each other: give one of them",
                hint=f"For example: {example} (choose take 2), or {clearing}",
            )
        if take is None and not clear:
            raise UsageError(
                "give a take number (1 or more), or --clear", hint=f"For example: {example}"
            )
        wanted = None if clear or take == 0 else take  # below 0 or above takes: TakeOutOfRange
        change = set_pick(file, shot, wanted)
        describe = _describe_draft if change.drafted else _describe
        edited = change.file or file  # the included file that holds the shot, if it is one
        where = f"{edited} (included by {file})" if edited != file else f"{edited}"
        if not change.changed:
            console.print(f"{shot}: {describe(wanted)} already; {where} is unchanged")
            return
        console.print(f"{shot}: {describe(wanted)} (was {describe(change.before)}) in {where}")
        if change.drafted:
            console.print(f"Nothing is regenerated. {_final_hint(file, invocation, shot, wanted)}")
            return
        console.print(f"Nothing is regenerated. {_rebuild_hint(file, invocation)}")

    run_command(action, context, invocation=invocation)


def _final_hint(file: Path, invocation: Invocation, shot: str, take: int | None) -> str:
    """What follows the pick of a drafted shot's draft take (issue 17): the next run renders
    its final from that draft (same seed and inputs); without a pick it has none. The run is
    written for the mode whose drafts exist: ``--offline`` when only the offline preview
    made them (the paid run's command when neither or both did, the preview's after it)."""
    made = _made_modes(file)
    runs = [replace(invocation, offline=offline).command("run") for offline in made or [False]]
    run = f"`{runs[0]}`" + (f" (or `{runs[1]}` for the offline preview)" if len(runs) > 1 else "")
    if take is None:
        return f"{shot} now awaits a pick: {run} makes its drafts only, no final."
    if _final_cached(file, invocation, shot, offline=(made or [False])[0]):
        return (
            f"{run} builds the videos with the final of {shot} from draft take {take}, "
            "already rendered (nothing to generate)."
        )
    return f"{run} renders the final of {shot} from draft take {take} (its seed and inputs)."


def _final_cached(file: Path, invocation: Invocation, shot: str, *, offline: bool) -> bool:
    """Whether the final of drafted ``shot``, as ``file`` picks it now, has its clip in the
    state of the mode (``offline``): a pick back to a draft whose final was made. Reads the
    state only; ``False`` when it cannot tell."""
    from rdpipe.errors import RdpipeError
    from rdpipe.load.overrides import parse_set_options
    from rdpipe.plan import Action
    from rdpipe.prepare.pipeline import prepare_pipeline
    from rdpipe.session.session import read_plan
    from rdpipe.session.settings import RunSettings

    try:
        prepared = prepare_pipeline(file, cli_vars=parse_set_options(list(invocation.sets)))
        plan = read_plan(prepared, RunSettings(offline=offline))
    except (OSError, RdpipeError):
        return False
    finals = [job for job in plan.jobs if job.shot.id == shot and job.shot.rendition == ""]
    return bool(finals) and all(job.action is Action.REUSE for job in finals)


def _made_modes(file: Path) -> list[bool]:
    """The modes that made a video of ``file`` (``False`` the paid run's, ``True`` the
    offline preview's), in that order; none for an invalid file."""
    from rdpipe.errors import RdpipeError

    made = []
    for offline in (False, True):
        try:
            if manifest_path(file, offline=offline).exists():
                made.append(offline)
        except RdpipeError:  # an invalid file: the paid run's command, which will say why
            break
    return made


def _loads(file: Path) -> bool:
    """Whether ``file`` loads as a pipeline of its own (a shared part others include does not)."""
    from rdpipe.errors import RdpipeError

    try:
        manifest_path(file, offline=False)
    except RdpipeError:
        return False
    return True


def _describe_draft(take: int | None) -> str:
    return "no draft picked" if take is None else f"draft take {take}"


def _rebuild_hint(file: Path, invocation: Invocation) -> str:
    """How to rebuild the video after a pick, for each mode that has made one (the paid run's
    video, the offline preview's); `rdpipe run` when neither has been made yet."""
    made = _made_modes(file)
    if not made and not _loads(file):
        # A shared part other pipelines include (no version:, name:...), or a broken file:
        # running it would fail; the pipeline that includes it is the one to run.
        validate = invocation.command("validate")
        return (
            f"{file} does not load as a pipeline on its own (`{validate}` says why): if "
            "another pipeline includes it, assemble or run that one, or pick through it "
            "(`rdpipe pick MAIN.yaml SHOT TAKE` edits the included file)."
        )
    if not made:
        run = invocation.command("run")
        return f"No video was made yet: run `{run}` to make it with this pick."
    commands = [replace(invocation, offline=offline).command("assemble") for offline in made]
    if len(commands) == 1:
        return f"Run `{commands[0]}` to rebuild the video."
    return (
        f"Run `{commands[0]}` to rebuild the video, or `{commands[1]}` to rebuild the "
        "offline preview."
    )


def _describe(take: int | None) -> str:
    return "the first take that succeeded" if take is None else f"take {take}"
