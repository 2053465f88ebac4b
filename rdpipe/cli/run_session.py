"""How the command line shows a run and stops it: the run's events on the console, each shot's
progress (a live view, plain lines or JSON lines), and Ctrl-C."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import IO, TYPE_CHECKING, TypeVar

from rdpipe.session.events import (
    AsyncRunner,
    PlanAnnounced,
    RefetchFailed,
    RunEvent,
    RunNote,
    SubmitRecovered,
)

if TYPE_CHECKING:
    from rich.console import Console

    from rdpipe.plan import Plan
    from rdpipe.redaction import Redactor
    from rdpipe.scheduler import Reporter

#: How each kind of run event stands out on the console (the others are plain).
_STYLE: dict[type[RunEvent], str] = {
    SubmitRecovered: "yellow",
    RunNote: "yellow",
    RefetchFailed: "red",
}

T = TypeVar("T")


class ConsoleRunReporter:
    """The run's events as console lines, and its shots' progress as :func:`open_reporter` shows
    it (as JSON lines on ``json_to`` when given); every message goes through the command's
    ``redactor``.

    A plan that generates and resumes nothing is not announced: the summary line says it all.
    """

    def __init__(
        self, console: Console, redactor: Redactor, *, json_to: IO[str] | None = None
    ) -> None:
        self._console = console
        self._redactor = redactor
        self._json_to = json_to

    def run_event(self, event: RunEvent) -> None:
        if isinstance(event, PlanAnnounced) and event.idle:
            return
        self._console.print(
            self._redactor.redact(event.message),
            style=_STYLE.get(type(event)),
        )

    def shots(self, plan: Plan) -> AbstractContextManager[Reporter]:
        return open_reporter(self._console, plan, self._json_to, self._redactor)


def until_interrupted(console: Console) -> AsyncRunner:
    """The runner of a command's async work under :func:`interruptible` (Ctrl-C)."""

    def run(work: Callable[[], Awaitable[T]], /) -> T:
        import anyio

        async def watched() -> T:
            return await interruptible(work(), console)

        return anyio.run(watched)

    return run


@contextmanager
def open_reporter(
    console: Console, plan: Plan, json_to: IO[str] | None, redactor: Redactor
) -> Iterator[Reporter]:
    """JSON lines on ``json_to`` (``--json``: stdout), else a live view on a terminal, else
    plain lines; all redacted."""
    from rdpipe.cli.progress import JsonLinesReporter, LiveReporter, PlainReporter

    if json_to is not None:
        yield JsonLinesReporter(json_to, redactor)
    elif console.is_terminal:
        with LiveReporter(console, [job.shot.label for job in plan.jobs], redactor) as live:
            yield live
    else:
        yield PlainReporter(console, redactor)


async def interruptible(work: Awaitable[T], console: Console) -> T:
    """Run ``work``; the first Ctrl-C stops it cleanly, a second one exits at once.

    Either way the process ends with :class:`KeyboardInterrupt` (exit 130), also when the
    stopped work raised on its way out (ffmpeg, which a terminal's Ctrl-C reaches too, fails).
    """
    import signal

    import anyio

    interrupted = False

    async def watch(scope: anyio.CancelScope) -> None:
        nonlocal interrupted
        with anyio.open_signal_receiver(signal.SIGINT) as signals:
            async for _ in signals:
                if interrupted:
                    console.print("interrupted again: exiting now (the run state is consistent)")
                    os._exit(130)
                interrupted = True
                console.print(
                    "[yellow]stopping: no new submits. Tasks already submitted are recorded: "
                    "run the same command again to pick them up without paying twice. "
                    "Press Ctrl-C again to exit at once.[/]",
                    markup=True,
                )
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
