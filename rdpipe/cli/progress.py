"""Showing a run as it goes: a rich live view, plain log lines, or JSON lines for machines.

Each reporter takes the command's :class:`~rdpipe.redaction.Redactor` and passes every message
through it, so no secret quoted in a reason reaches the screen or a pipe.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rdpipe.redaction import Redactor
from rdpipe.scheduler import GateChanged, Phase, ShotUpdate

if TYPE_CHECKING:
    from rich.console import Console, Group
    from rich.progress import Progress

    from rdpipe.cli.machine_output import JsonLinesTarget

_STYLE = {
    Phase.DONE: "green",
    Phase.CACHED: "cyan",
    Phase.FAILED: "red",
    Phase.UNKNOWN: "magenta",
    Phase.SKIPPED: "yellow",
}


class JsonLinesReporter:
    """One ``run.event`` document per update, a line each, flushed at once:
    ``{"kind": "run.event", "version": 1, "event": "shot", "id": ..., "status": ...}``.

    ``status`` is the shot's :class:`~rdpipe.cli.machine_output.ShotState`; ``clip`` is
    relative to the pipeline file's folder (``target.base``); ``task_id``, ``progress``
    (percent), ``message`` (redacted) appear when known, ``take`` when the shot has several,
    ``attempt`` from the second.
    """

    def __init__(self, target: JsonLinesTarget, redactor: Redactor) -> None:
        self._target = target
        self._redactor = redactor

    def update(self, update: ShotUpdate) -> None:
        from rdpipe.cli.machine_output import Kind, document, relative_path

        event: dict[str, Any] = document(
            Kind.RUN_EVENT, {"event": "shot", "id": update.shot_id, "status": update.phase.value}
        )
        for name in ("task_id", "progress", "message"):
            value = getattr(update, name)
            if value is not None:
                event[name] = self._redactor.redact(value) if name == "message" else value
        if update.clip is not None:
            event["clip"] = relative_path(update.clip.path, self._target.base)
        if update.takes > 1:
            event["take"] = update.take
        if update.attempt > 1:
            event["attempt"] = update.attempt
        self.emit(event)

    def emit(self, event: dict[str, Any]) -> None:
        stream = self._target.stream
        stream.write(json.dumps(event, ensure_ascii=False) + "\n")
        stream.flush()


class PlainReporter:
    """A log line per change of phase (not per progress tick), for logs and pipes.

    A cached shot gets no line: nothing happened to it, and the run's summary line counts it
    (``100 reused``), so a rerun that changes nothing prints that one line (issue 12).
    """

    def __init__(self, console: Console, redactor: Redactor) -> None:
        self._console = console
        self._redactor = redactor
        self._last: dict[str, Phase] = {}

    def update(self, update: ShotUpdate) -> None:
        if update.phase is Phase.CACHED and update.message is None:
            return
        if self._last.get(update.label) == update.phase and update.message is None:
            return
        self._last[update.label] = update.phase
        parts = [f"{update.label}: {update.phase.value}"]
        if update.task_id:
            parts.append(f"task {update.task_id}")
        if update.message:
            parts.append(self._redactor.redact(update.message))
        self._console.print(" - ".join(parts))


@dataclass
class _Row:
    phase: Phase = Phase.WAITING
    started: float | None = None
    progress: int | None = None
    task_id: str | None = None
    message: str | None = None


class LiveReporter:
    """A line per shot (state, elapsed, progress) and an overall bar, redrawn in place.

    Rich's live display, bars and tables are imported here, by the one reporter that draws
    them: a run whose output is a pipe or ``--json`` starts without them.
    """

    def __init__(
        self,
        console: Console,
        shot_ids: Sequence[str],
        redactor: Redactor,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._redactor = redactor
        self._clock = clock
        from rich.live import Live
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._rows = {shot_id: _Row() for shot_id in shot_ids}
        self._overall = Progress(
            TextColumn("[bold]shots"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self._bar = self._overall.add_task("shots", total=len(shot_ids))
        self._gate: GateChanged | None = None  # the run's bound on requests, once it changed
        self._live = Live(console=console, refresh_per_second=4, get_renderable=self._render)

    def __enter__(self) -> LiveReporter:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(None, None, None)

    def stop(self) -> None:
        """Stop redrawing for good: the view stays as last drawn, and whatever is printed next
        (on either stream) goes below it instead of under the next redraw."""
        self._live.stop()

    def update(self, update: ShotUpdate) -> None:
        row = self._rows.setdefault(update.label, _Row())
        if row.started is None and update.phase is not Phase.WAITING:
            row.started = self._clock()
        row.phase = update.phase
        row.progress = update.progress if update.progress is not None else row.progress
        row.task_id = update.task_id or row.task_id
        row.message = self._redactor.redact_optional(update.message)
        done = sum(r.phase.final for r in self._rows.values())
        self._overall.update(self._bar, completed=done)

    def show_gate(self, change: GateChanged) -> None:
        """Show the run's bound on requests in flight in the header: ``concurrency 4/32``."""
        self._gate = change

    def _render(self) -> Group:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
        for column in ("shot", "state", "elapsed", "progress", "task / note"):
            table.add_column(column)
        now = self._clock()
        for shot_id, row in self._rows.items():
            elapsed = f"{now - row.started:5.0f}s" if row.started and not row.phase.final else ""
            progress = (
                f"{row.progress}%" if row.progress is not None and not row.phase.final else ""
            )
            note = row.message or row.task_id or ""
            style = _STYLE.get(row.phase)
            state = Text(row.phase.value, style=style or "")
            table.add_row(Text(shot_id), state, elapsed, progress, Text(note))
        if self._gate is None:
            return Group(table, self._overall)
        style = "yellow" if self._gate.limit < self._gate.ceiling else "dim"
        return Group(Text(self._gate.shown, style=style), table, self._overall)


class _TransferBars:
    """One rich progress bar per clip moved, under a title; callbacks from worker threads."""

    def __init__(self, progress: Progress, title: str) -> None:
        self._progress = progress
        self._title = title

    def clip(self, label: str) -> Callable[[int, int | None], None]:
        task = self._progress.add_task(f"{self._title}: {label}", total=None)

        def advance(done: int, total: int | None) -> None:
            self._progress.update(task, completed=done, total=total)

        return advance


@contextmanager
def transfer_bars(console: Console, title: str) -> Iterator[_TransferBars]:
    """Bars (bytes, speed, time left) for the clips a step moves, cleared when it ends."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with progress:
        yield _TransferBars(progress, title)
