"""How the command line shows a run and stops it: the run's events on the console, each shot's
progress (a live view, plain lines or JSON lines), and Ctrl-C, whose notices go to standard
error."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, NoReturn, TypeVar

from rdpipe.cli.app import say_interrupted
from rdpipe.errors import ExitCode
from rdpipe.scheduler import GateChanged
from rdpipe.session.events import (
    AsyncRunner,
    PlanAnnounced,
    RefetchFailed,
    RunEvent,
    RunNote,
    SubmitRecovered,
    TransferMeter,
    TransferProgress,
)

if TYPE_CHECKING:
    from rich.console import Console

    from rdpipe.cli.machine_output import JsonLinesTarget
    from rdpipe.cli.progress import LiveReporter
    from rdpipe.hints import Invocation
    from rdpipe.plan import Plan
    from rdpipe.progress_steps import StepProgress, StepReporting
    from rdpipe.redaction import Redactor
    from rdpipe.scheduler import Reporter

#: How each kind of run event stands out on the console (the others are plain).
_STYLE: dict[type[RunEvent], str] = {
    GateChanged: "yellow",
    SubmitRecovered: "yellow",
    RunNote: "yellow",
    RefetchFailed: "red",
}

#: The first Ctrl-C's notice: the run stops, and how to pick it up.
STOPPING = (
    "stopping: no new submits. Tasks already submitted are recorded: run the same command again "
    "to pick them up without paying twice. Press Ctrl-C again to exit at once."
)
#: The first Ctrl-C's notice once every shot has ended (the clips are on disk; joining them,
#: pushing them or writing the video is what stops).
STOPPING_AFTER_SHOTS = (
    "stopping: the clips made are saved and nothing more is paid; the video is not finished: "
    "run the same command again to build it (it reuses the clips). Press Ctrl-C again to exit "
    "at once."
)
#: The first Ctrl-C's notice in a command that only moves clips (push, pull).
STOPPING_TRANSFERS = (
    "stopping: the clips moved so far are kept; run the same command again to move the rest. "
    "Press Ctrl-C again to exit at once."
)


def stopping_words(invocation: Invocation, *, shots_over: bool) -> str:
    """The first Ctrl-C's notice with the command that picks the run up, as the user would
    paste it (``invocation``'s :meth:`~rdpipe.hints.Invocation.command`): ``run`` again, with
    the same file, ``--offline``, ``--set`` and ``--allow-outside-files``. Offline nothing is
    paid, and the tasks of the built-in simulator end with it: they are submitted again (free).
    """
    again = f"`{invocation.command('run')}`"
    if shots_over:
        paid = "" if invocation.offline else " and nothing more is paid"
        return (
            f"stopping: the clips made are saved{paid}; the video is not finished: {again} "
            "builds it (it reuses the clips). Press Ctrl-C again to exit at once."
        )
    if invocation.offline:
        return (
            f"stopping: no new submits. The clips made are kept; {again} submits the unfinished "
            "shots again (offline: free). Press Ctrl-C again to exit at once."
        )
    return (
        "stopping: no new submits. Tasks already submitted are recorded: "
        f"{again} picks them up without paying twice. Press Ctrl-C again to exit at once."
    )


#: The second Ctrl-C's notice, before "interrupted" and the exit.
EXITING = "Ctrl-C again: exiting now (the run state is consistent)"

T = TypeVar("T")


class ConsoleRunReporter:
    """The run's events as console lines, and its shots' progress as :func:`open_reporter` shows
    it (as JSON lines on ``json_to`` when given); every message goes through the command's
    ``redactor``. Notices about stopping the run go to ``notices`` (the command's standard
    error; ``console`` when not given): :meth:`notice`.

    A plan that generates and resumes nothing is not announced: the summary line says it all.
    """

    def __init__(
        self,
        console: Console,
        redactor: Redactor,
        *,
        json_to: JsonLinesTarget | None = None,
        notices: Console | None = None,
        quiet: bool = False,
        invocation: Invocation | None = None,
    ) -> None:
        self._console = console
        self._redactor = redactor
        self._json_to = json_to
        self.notices = notices or console
        self._quiet = quiet  # -q: no progress of long steps
        self._invocation = invocation  # how the user ran the command, for the resume command
        self._live: LiveReporter | None = None  # the live view while it shows the shots
        self._steps: StepReporting | None = None  # draws long steps when no live view does
        self._shots_shown = False  # the shots' progress was opened (submits may go out)
        self._shots_over = False  # ... and closed: every shot has ended
        self._moved = False  # clips were moved (downloads, push, pull)

    def run_event(self, event: RunEvent) -> None:
        if isinstance(event, PlanAnnounced) and event.idle:
            return
        if isinstance(event, GateChanged) and self._json_to is not None:
            from rdpipe.cli.progress import gate_event

            _json_line(self._json_to, gate_event(event))  # --json: a run.event a machine reads
        if isinstance(event, GateChanged):  # the live view's header, else a line when lowered
            if self._live is not None:
                self._live.show_gate(event)
                return
            if not event.lowered:
                return
        self._console.print(
            self._redactor.redact(event.message),
            style=_STYLE.get(type(event)),
        )

    def shots(self, plan: Plan) -> AbstractContextManager[Reporter]:
        return self._showing(plan)

    def transfers(
        self, title: str, total: int | None = None
    ) -> AbstractContextManager[TransferMeter]:
        """On a terminal, the clips moved of ``total`` with the time left, over a bar per clip
        in flight (bytes, speed, time left); in a pipe a line per clip moved (``pushing: 2 of 5
        clips (a, 2.5 MB)``); nothing with ``--json`` or ``-q``."""
        self._moved = True
        if self._json_to is not None or self._quiet:
            return nullcontext(_QuietMeter())
        from rdpipe.cli.progress import PlainTransfers, transfer_bars

        if not self._console.is_terminal:
            return nullcontext(PlainTransfers(self._console, title, total))
        return transfer_bars(self._console, title, total)

    def step(self, event: StepProgress) -> None:
        """Show a long step's progress (:class:`~rdpipe.progress_steps.StepProgress`): in the
        live view while it shows the shots, else a bar of its own on a terminal, else plain
        lines at its start, each quarter and its end; nothing with ``--json`` or ``-q``."""
        if self._json_to is not None or self._quiet:
            return
        if self._live is not None:
            self._live.step(event)
            return
        if self._steps is None:
            from rdpipe.cli.progress import LiveSteps, PlainSteps

            terminal = self._console.is_terminal
            self._steps = LiveSteps(self._console) if terminal else PlainSteps(self._console)
        self._steps.step(event)

    def stopping_text(self) -> str:
        """What the first Ctrl-C says now: :data:`STOPPING` while shots may still be submitted,
        :data:`STOPPING_AFTER_SHOTS` once they have all ended, :data:`STOPPING_TRANSFERS` in a
        command that only moves clips; with the command's invocation, the first two name the
        exact command to run again (:func:`stopping_words`)."""
        if self._moved and not self._shots_shown and not self._shots_over:
            return STOPPING_TRANSFERS
        if self._invocation is not None and self._invocation.pipeline is not None:
            return stopping_words(self._invocation, shots_over=self._shots_over)
        if self._shots_over:
            return STOPPING_AFTER_SHOTS
        return STOPPING

    def interrupted_document(self) -> None:
        """With ``--json``, end standard output with the ``error`` document of a Ctrl-C
        (:func:`~rdpipe.cli.app.interrupted_document`), for a second Ctrl-C's exit at once."""
        if self._json_to is not None:
            from rdpipe.cli.app import interrupted_document

            _json_line(self._json_to, interrupted_document())

    def notice(self, text: str) -> None:
        """Say ``text`` (yellow) on the notices console.

        A live view showing the shots stops first, for good (the run is stopping): on a
        terminal it is redrawn in place, and its next redraw would erase the line.
        """
        if self._live is not None:
            self._live.stop()
        self.notices.print(text, style="yellow")

    @contextmanager
    def _showing(self, plan: Plan) -> Iterator[Reporter]:
        from rdpipe.cli.progress import LiveReporter

        self._shots_shown = True
        with open_reporter(self._console, plan, self._json_to, self._redactor) as shots:
            self._live = shots if isinstance(shots, LiveReporter) else None
            try:
                yield shots
                self._shots_over = True
            finally:
                self._live = None


def _json_line(target: JsonLinesTarget, document: dict[str, object]) -> None:
    """``document`` as one JSON line on ``target``'s stream, flushed at once."""
    import json

    target.stream.write(json.dumps(document, ensure_ascii=False) + "\n")
    target.stream.flush()


class _QuietMeter:
    """A meter that shows nothing."""

    def clip(self, label: str) -> TransferProgress:
        return lambda done, total: None


def until_interrupted(reporter: ConsoleRunReporter) -> AsyncRunner:
    """The runner of a command's async work under :func:`interruptible` (Ctrl-C), whose
    notices ``reporter`` says."""

    def run(work: Callable[[], Awaitable[T]], /) -> T:
        import anyio

        async def watched() -> T:
            return await interruptible(work(), reporter)

        return anyio.run(watched)

    return run


@contextmanager
def open_reporter(
    console: Console, plan: Plan, json_to: JsonLinesTarget | None, redactor: Redactor
) -> Iterator[Reporter]:
    """JSON lines on ``json_to`` (``--json``: stdout), else a live view on a terminal, else
    plain lines; all redacted."""
    from rdpipe.cli.progress import JsonLinesReporter, LiveReporter, PlainReporter

    if json_to is not None:
        yield JsonLinesReporter(json_to, redactor)
    elif console.is_terminal:
        labels = [job.shot.label for job in plan.jobs]
        shots = len({job.shot.id for job in plan.jobs})
        with LiveReporter(console, labels, redactor, shots=shots) as live:
            yield live
    else:
        yield PlainReporter(console, redactor)


def _quiet_child_reaping() -> None:
    """A terminal's Ctrl-C reaches ffmpeg too: its process may be reaped before asyncio's
    child watcher asks, which then warns "Unknown child process pid N" on stderr through
    logging's last resort. Once the run is stopping, that warning is expected, and not for
    the user: asyncio's warnings are dropped (errors still say)."""
    import logging

    logging.getLogger("asyncio").setLevel(logging.ERROR)


async def interruptible(work: Awaitable[T], reporter: ConsoleRunReporter) -> T:
    """Run ``work``; the first Ctrl-C stops it cleanly, a second one exits at once.

    Each says so through ``reporter``'s notices (standard error). After the first the process
    ends with :class:`KeyboardInterrupt`, for ``run_command`` to say "interrupted" (exit 130),
    also when the stopped work raised on its way out (ffmpeg, which a terminal's Ctrl-C reaches
    too, fails). The second says "interrupted" itself and exits 130 on the spot
    (:func:`_exit_at_once`).
    """
    import signal

    import anyio

    interrupted = False

    async def watch(scope: anyio.CancelScope) -> None:
        nonlocal interrupted
        with anyio.open_signal_receiver(signal.SIGINT) as signals:
            async for _ in signals:
                if interrupted:
                    _exit_at_once(reporter)
                interrupted = True
                reporter.notice(reporter.stopping_text())
                _quiet_child_reaping()
                scope.cancel()

    try:
        async with anyio.create_task_group() as group:
            with anyio.CancelScope() as scope:
                group.start_soon(watch, scope)
                result = await work
            group.cancel_scope.cancel()
    except Exception:
        if not interrupted:
            raise
    if interrupted:
        raise KeyboardInterrupt
    return result


def _exit_at_once(reporter: ConsoleRunReporter) -> NoReturn:
    """End the process now, exit 130, having said so and "interrupted" on the notices console.

    No unwinding: worker threads and shielded writes would hold the exit up. What the state
    holds is consistent at any moment (each record is one transaction). The exit happens also
    when the notices cannot be written (a closed standard error).
    """
    try:
        reporter.notice(EXITING)
        say_interrupted(reporter.notices)
        reporter.interrupted_document()
    finally:
        os._exit(int(ExitCode.INTERRUPTED))
