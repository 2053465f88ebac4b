"""Showing a run as it goes: a rich live view, plain log lines, or JSON lines for machines.

Each reporter takes the command's :class:`~rdpipe.redaction.Redactor` and passes every message
through it, so no secret quoted in a reason reaches the screen or a pipe.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rdpipe.progress_steps import StepProgress, clock_time
from rdpipe.redaction import Redactor
from rdpipe.scheduler import GateChanged, Phase, ShotUpdate

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, Group, RenderableType
    from rich.live import Live
    from rich.progress import Progress
    from rich.text import Text

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
            Kind.RUN_EVENT, {"event": "shot", "id": update.shot_id, "status": update.status}
        )
        for name in ("task_id", "progress", "message"):
            value = getattr(update, name)
            if name == "message" and update.notice is not None:
                value = update.notice  # said once for the run: the shot's event carries it
            if value is not None:
                event[name] = self._redactor.redact(value) if name == "message" else value
        if update.clip is not None:
            event["clip"] = relative_path(update.clip.path, self._target.base)
        if update.takes > 1:
            event["take"] = update.take
        if update.rendition:
            event["rendition"] = update.rendition
        if update.attempt > 1:
            event["attempt"] = update.attempt
        self.emit(event)

    def emit(self, event: dict[str, Any]) -> None:
        stream = self._target.stream
        stream.write(json.dumps(event, ensure_ascii=False) + "\n")
        stream.flush()


def gate_event(change: GateChanged) -> dict[str, Any]:
    """The ``run.event`` of a change of the run's bound on requests in flight:
    ``{"kind": "run.event", "version": 1, "event": "gate", "limit": 4, "ceiling": 32,
    "lowered": true}`` (``lowered``: halved after a 429 ``token_concurrency_limit_reached``,
    else raised by one)."""
    from rdpipe.cli.machine_output import Kind, document

    fields = {"event": "gate", "limit": change.limit, "ceiling": change.ceiling}
    return document(Kind.RUN_EVENT, {**fields, "lowered": change.lowered})


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
        if update.notice is not None:  # about the run, not the shot: a line of its own
            self._console.print(self._redactor.redact(update.notice))
            return
        if update.phase is Phase.CACHED and update.message is None:
            return
        if self._last.get(update.label) == update.phase and update.message is None:
            return
        self._last[update.label] = update.phase
        parts = [f"{update.label}: {update.status}"]
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
    unsent: bool = False  # skipped with nothing sent: the run stopped submitting


#: The columns of a shot's line after its id: state, elapsed, progress (then the note).
_STATE_WIDTH = len(Phase.DOWNLOADING.value)
_ELAPSED_WIDTH = 7
_PROGRESS_WIDTH = 8
#: Phases counted in the second line, in its order, and the word each is counted under.
_COUNTED = (
    (Phase.DONE, "done"),
    (Phase.CACHED, "reused"),
    (Phase.FAILED, "failed"),
    (Phase.UNKNOWN, "unknown"),
    (Phase.IN_FLIGHT, "left in flight"),
    (Phase.SKIPPED, "skipped"),
)


class LiveReporter:
    """The run's live view, redrawn in place and never taller or wider than the terminal.

    First the overall bar (shots finished of the total, time elapsed, the bound on requests
    once it changed), then the counts (done, reused, failed ... running, waiting), then a long
    step's bar (:meth:`step`), then the shots in flight, most recently started first, as many as
    fit, and ``+N more in flight`` for the rest. Finished shots are folded into the counts; a
    failed shot's reason is printed once above the view. Every line is cut to the terminal's
    width with an ellipsis, never wrapped.

    Rich's live display is imported here, by the one reporter that draws it: a run whose output
    is a pipe or ``--json`` starts without it. ``clock``: monotonic seconds (tests inject one).
    ``shot_ids`` are the labels of the run's clips (``kite``, ``kite:draft#2``); ``shots``, how
    many storyboard shots they belong to: when fewer, the bar counts ``clips 7/11``.
    """

    def __init__(
        self,
        console: Console,
        shot_ids: Sequence[str],
        redactor: Redactor,
        clock: Callable[[], float] = time.monotonic,
        *,
        shots: int | None = None,
    ) -> None:
        self._console = console
        self._redactor = redactor
        self._clock = clock

        self._rows = {shot_id: _Row() for shot_id in shot_ids}
        # Rows are clips (labels); when a shot has several (takes, drafts and their final,
        # regenerations), the bar counts clips, not shots.
        self._unit = "clips" if shots is not None and shots < len(self._rows) else "shots"
        self._started = clock()
        self._gate: GateChanged | None = None  # the run's bound on requests, once it changed
        self._step: StepProgress | None = None  # a long step running now
        # The width the view was last drawn at, and each of its lines' cells then.
        self._drawn: tuple[int, list[int]] = (0, [])
        self._live = _reflowing(self, console)

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
        if update.notice is not None:  # about the run: printed once above the view, whole
            self._console.print(
                self._redactor.redact(update.notice),
                style="yellow",
                markup=False,
                highlight=False,
                overflow="fold",
            )
            return
        row = self._rows.setdefault(update.label, _Row())
        if row.started is None and update.phase is not Phase.WAITING:
            row.started = self._clock()
        was = row.phase
        row.phase = update.phase
        row.progress = update.progress if update.progress is not None else row.progress
        row.task_id = update.task_id or row.task_id
        row.message = self._redactor.redact_optional(update.message)
        row.unsent = update.unsent
        if update.phase in (Phase.FAILED, Phase.UNKNOWN) and was is not update.phase:
            reason = f" - {row.message}" if row.message else ""
            self._console.print(
                f"{update.label}: {update.phase.value}{reason}",
                style=_STYLE[update.phase],
                markup=False,
                highlight=False,
                overflow="fold",
            )

    def show_gate(self, change: GateChanged) -> None:
        """Show the run's bound on requests in flight in the header: ``concurrency 4/32``."""
        self._gate = change

    def step(self, event: StepProgress) -> None:
        """Show a long step's bar under the counts, until it finishes."""
        self._step = None if event.finished else event

    def drawn(self, width: int, height: int) -> list[Text]:
        """:meth:`lines`, noted as the view now on screen (for :meth:`reflowed_rows`)."""
        lines = self.lines(width, height)
        self._drawn = (width, [line.cell_len for line in lines])
        return lines

    def reflowed_rows(self, width: int) -> int | None:
        """How many rows the view last drawn takes once the terminal is ``width`` columns wide:
        narrower, each line the terminal re-wraps takes several (``None`` when unchanged). The
        redraw moves up over all of them, so no stale copy of the view stays above it."""
        drawn, cells = self._drawn
        if not cells or width >= drawn:
            return None
        return sum(max(1, -(-count // width)) for count in cells)

    def _render(self, width: int | None = None, height: int | None = None) -> Group:
        """The view as it fits ``width`` x ``height`` (by default the console's size)."""
        from rich.console import Group

        size = self._console.size
        return Group(*self.lines(width or size.width, height or size.height))

    def lines(self, width: int, height: int) -> list[Text]:
        """The view's lines: at most ``height - 1`` (the cursor's line stays free), each at
        most ``width`` cells."""
        from rich.text import Text

        now = self._clock()
        rows = self._rows.values()
        done = sum(row.phase.final for row in rows)
        header = [self._overall(done, now, width), *self._counts(width)]
        if self._step is not None:
            header.append(_step_line(self._step, now, width))
        room = max(0, height - 1 - len(header))
        active = sorted(
            (
                (label, row)
                for label, row in self._rows.items()
                if not row.phase.final and row.phase is not Phase.WAITING
            ),
            key=lambda item: -(item[1].started or 0.0),
        )
        body: list[Text] = []
        if active and room >= 2:
            shown = active if len(active) <= room - 1 else active[: max(0, room - 2)]
            label_width = min(max(4, *(len(label) for label, _ in active)), max(8, width // 4))
            body.append(self._table_header(label_width))
            body += [self._shot_line(label, row, label_width, now) for label, row in shown]
            if len(shown) < len(active):
                body.append(Text(f"+{len(active) - len(shown)} more in flight", style="dim"))
        lines = (header + body)[: max(1, height - 1)]
        for line in lines:
            line.no_wrap = True
            line.overflow = "ellipsis"
            line.truncate(width, overflow="ellipsis")
        return lines

    def _overall(self, done: int, now: float, width: int) -> Text:
        from rich.text import Text

        total = len(self._rows)
        tail = f" {done}/{total} {clock_time(now - self._started)}"
        gate = f"  {self._gate.shown}" if self._gate is not None else ""
        unit = f"{self._unit} "
        bar_width = max(10, min(40, width - len(unit) - len(tail) - len(gate)))
        line = Text(unit, style="bold")
        line.append_text(_bar(done, total, bar_width))
        line.append(tail)
        if self._gate is not None:
            style = "yellow" if self._gate.limit < self._gate.ceiling else "dim"
            line.append(gate, style=style)
        return line

    def _counts(self, width: int) -> list[Text]:
        """The counts, on one line when they fit ``width``, else wrapped between counts (never
        cut: each count stays readable at 40 columns). ``running`` counts the shots holding a
        task slot (submitting, generating: at most ``-j``); a finished task's download, which
        holds none, is counted apart (``1 downloading``)."""
        from rich.text import Text

        phases = [row.phase for row in self._rows.values()]
        unsent = sum(row.unsent and row.phase is Phase.SKIPPED for row in self._rows.values())
        parts: list[tuple[str, str]] = []
        for phase, word in _COUNTED:
            count = phases.count(phase) - (unsent if phase is Phase.SKIPPED else 0)
            if count or phase in (Phase.DONE, Phase.CACHED, Phase.FAILED):
                parts.append((f"{count} {word}", _STYLE[phase] if count else "dim"))
        if unsent:  # on_failure: stop; "skipped" is on_failure: skip's word
            parts.append((f"{unsent} not submitted", _STYLE[Phase.SKIPPED]))
        downloading = phases.count(Phase.DOWNLOADING)
        running = sum(not p.final and p not in (Phase.WAITING, Phase.DOWNLOADING) for p in phases)
        parts.append((f"{running} running", ""))
        if downloading:
            parts.append((f"{downloading} downloading", ""))
        parts.append((f"{phases.count(Phase.WAITING)} waiting", "dim"))
        lines = [Text()]
        for text, style in parts:
            line = lines[-1]
            if line.plain and line.cell_len + 3 + len(text) > width:
                lines.append(line := Text())
            if line.plain:
                line.append(" · ", style="dim")
            line.append(text, style=style)
        return lines

    def _table_header(self, label_width: int) -> Text:
        from rich.text import Text

        return Text(
            f"{'shot':<{label_width}}  {'state':<{_STATE_WIDTH}}  {'elapsed':>{_ELAPSED_WIDTH}}"
            f"  {'progress':>{_PROGRESS_WIDTH}}  task / note",
            style="dim",
        )

    def _shot_line(self, label: str, row: _Row, label_width: int, now: float) -> Text:
        from rich.text import Text

        if len(label) > label_width:
            label = label[: max(1, label_width - 1)] + "…"
        elapsed = f"{now - row.started:.0f}s" if row.started is not None else ""
        progress = f"{row.progress}%" if row.progress is not None else ""
        line = Text(f"{label:<{label_width}}  ")
        line.append(f"{row.phase.value:<{_STATE_WIDTH}}", style=_STYLE.get(row.phase, ""))
        line.append(f"  {elapsed:>{_ELAPSED_WIDTH}}  {progress:>{_PROGRESS_WIDTH}}  ")
        line.append(row.message or row.task_id or "")
        return line


class _Frame:
    """The live view at the size rich renders it at (the terminal's, as it is now)."""

    def __init__(self, reporter: LiveReporter) -> None:
        self._reporter = reporter

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        height = options.height or options.size.height
        yield from self._reporter.drawn(options.max_width, height)


def _reflowing(reporter: LiveReporter, console: Console) -> Live:
    """Rich's live display of ``reporter``'s view that, when the terminal got narrower since
    the last redraw, first moves up over every row the terminal's re-wrap made of the old view
    (:meth:`LiveReporter.reflowed_rows`), not just over its lines: else a stale copy of the
    header stays above the view."""
    from rich.live import Live

    class _Reflowing(Live):
        def process_renderables(self, renderables: list[Any]) -> list[Any]:
            shown = self._live_render
            rows = reporter.reflowed_rows(self.console.width)
            if rows is not None and shown._shape is not None:
                shown._shape = (self.console.width, max(rows, shown._shape[1]))
            return super().process_renderables(renderables)

    return _Reflowing(
        console=console,
        refresh_per_second=4,
        get_renderable=lambda: _Frame(reporter),
        vertical_overflow="crop",
    )


def _bar(done: int, total: int, width: int) -> Text:
    """``━━━━────``: ``done`` of ``total`` as a bar ``width`` cells wide, readable uncoloured."""
    from rich.text import Text

    filled = width if total <= 0 else min(width, done * width // total)
    bar = Text("━" * filled, style="green" if filled == width else "magenta")
    bar.append("─" * (width - filled), style="dim")
    return bar


def _step_line(event: StepProgress, now: float, width: int) -> Text:
    """``joining ━━━━──── 12/48 seconds, 0:00:09 left``: a long step's bar."""
    from rich.text import Text

    tail = f" {step_words(event, now)}"
    if width - len(event.step) - 1 - len(tail) < 4:  # narrow: the unit goes, the time left stays
        tail = f" {step_words(event, now, unit=False)}"
    line = Text(f"{event.step} ", style="bold")
    bar_width = max(4, min(40, width - len(event.step) - 1 - len(tail)))
    line.append_text(_bar(event.done, event.total, bar_width))
    line.append(tail)
    return line


def step_words(event: StepProgress, now: float, *, unit: bool = True) -> str:
    """``12/48 seconds, 0:00:09 left``: how far a step is, and its time left when known
    (``12/48, 0:00:09 left`` without the ``unit``)."""
    left = event.seconds_left(now)
    words = f"{event.done}/{event.total} {event.unit}" if unit else f"{event.done}/{event.total}"
    return words if left is None or event.finished else f"{words}, {clock_time(left)} left"


class PlainSteps:
    """A long step's progress as plain lines, for logs and pipes (``joining: 12 of 48 seconds
    (25%)``): nothing for a step that ends within ``patience`` seconds (a rerun that only joins
    again stays one summary line, as issue 12 asks), then a line when it has lasted that long,
    at each later quarter, and at its end; never per piece. ``clock``: seconds, monotonic, the
    clock :class:`~rdpipe.progress_steps.StepProgress` ``started`` is read on."""

    def __init__(
        self,
        console: Console,
        *,
        patience: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._patience = patience
        self._clock = clock
        self._said: dict[str, int] = {}  # each step's last quarter said

    def step(self, event: StepProgress) -> None:
        quarter = int(event.fraction() * 4) if event.total > 0 else 4
        last = self._said.get(event.step)
        if last is None and self._clock() - event.started < self._patience:
            return  # a short step says nothing
        if last is not None and quarter <= last:
            return
        self._said[event.step] = quarter
        if quarter >= 4:
            del self._said[event.step]
        percent = round(event.fraction() * 100)
        self._console.print(
            f"{event.step}: {event.done} of {event.total} {event.unit} ({percent}%)",
            markup=False,
            highlight=False,
        )


class LiveSteps:
    """A long step's bar redrawn in place on a terminal while no live view shows the shots
    (``run``'s join, ``assemble``); cleared when the step ends."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self._console = console
        self._clock = clock
        self._event: StepProgress | None = None
        self._live: Live | None = None

    def step(self, event: StepProgress) -> None:
        from rich.live import Live

        self._event = event
        if event.finished:
            self.close()
            return
        if self._live is None:
            self._live = Live(
                console=self._console,
                auto_refresh=False,  # redrawn per event: no thread left drawing after an error
                get_renderable=lambda: _StepFrame(self),
                transient=True,
            )
            self._live.start()
        self._live.refresh()

    def close(self) -> None:
        """Stop drawing (the bar is cleared)."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def line(self, width: int) -> Text:
        from rich.text import Text

        if self._event is None:
            return Text()
        line = _step_line(self._event, self._clock(), width)
        line.truncate(width, overflow="ellipsis")
        return line


class _StepFrame:
    def __init__(self, steps: LiveSteps) -> None:
        self._steps = steps

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        line = self._steps.line(options.max_width)
        line.no_wrap = True
        yield line


class _ClipCount:
    """Counts the clips of a transfer step that arrived whole, each once (from worker threads),
    as a :class:`~rdpipe.progress_steps.StepProgress` of ``total`` clips when it is known."""

    def __init__(self, title: str, total: int | None, clock: Callable[[], float]) -> None:
        self._title = title
        self._total = total
        self._started = clock()
        self._lock = threading.Lock()
        self._whole: set[str] = set()

    def whole(self, label: str) -> tuple[bool, StepProgress | None]:
        """Note ``label`` whole: whether it is newly so, and the step's progress then (``None``
        without a total)."""
        with self._lock:
            new = label not in self._whole
            self._whole.add(label)
            return new, self.progress()

    def progress(self) -> StepProgress | None:
        """The clips whole of the total so far; ``None`` without a total."""
        if self._total is None:
            return None
        done = min(len(self._whole), self._total)
        return StepProgress(self._title, done, self._total, "clips", self._started)


class _CountFrame:
    """The overall line of a transfer step with a total, at the width it is drawn at."""

    def __init__(self, count: _ClipCount, clock: Callable[[], float]) -> None:
        self._count = count
        self._clock = clock

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        step = self._count.progress()
        if step is not None:
            line = _step_line(step, self._clock(), options.max_width)
            line.no_wrap = True
            line.truncate(options.max_width, overflow="ellipsis")
            yield line


class _TransferBars:
    """One rich progress bar per clip in flight, under a title; callbacks from worker threads.
    A clip's bar is hidden once it is whole (the overall line counts it)."""

    def __init__(self, progress: Progress, title: str, count: _ClipCount) -> None:
        self._progress = progress
        self._title = title
        self._count = count

    def clip(self, label: str) -> Callable[[int, int | None], None]:
        task = self._progress.add_task(f"{self._title}: {label}", total=None)

        def advance(done: int, total: int | None) -> None:
            whole = total is not None and done >= total
            if whole:
                self._count.whole(label)
            self._progress.update(task, completed=done, total=total, visible=not whole)

        return advance

    def shown(self) -> RenderableType:
        """What is drawn now: the overall line (with a total), then the clips in flight."""
        return self._progress.get_renderable()


class PlainTransfers:
    """A line per clip a step has moved, for logs and pipes, said once when its last byte
    arrives, never per chunk; callbacks from worker threads. With the ``total`` of clips the
    step moves, each line counts them: ``pushing: 2 of 5 clips (a, 2.5 MB)``; without,
    ``pushing: a (2.5 MB)``.

    Unlike :class:`PlainSteps` there is no patience: each line says a file that is now on
    disk (or in the store), which a log of a short push should keep too."""

    def __init__(
        self,
        console: Console,
        title: str,
        total: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._title = title
        self._count = _ClipCount(title, total, clock)
        self._lock = threading.Lock()  # the lines come out in the order they count

    def clip(self, label: str) -> Callable[[int, int | None], None]:
        def advance(done: int, total: int | None) -> None:
            if total is None or done < total:
                return
            with self._lock:
                new, step = self._count.whole(label)
                if not new:
                    return
                size = _megabytes(total)
                if step is not None:
                    line = f"{self._title}: {step.done} of {step.total} clips ({label}, {size})"
                else:
                    line = f"{self._title}: {label} ({size})"
                self._console.print(line, markup=False, highlight=False)

        return advance


def _megabytes(size: int) -> str:
    """``1.2 MB``: a size in bytes, in decimal megabytes (kB below one)."""
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} kB"


@contextmanager
def transfer_bars(
    console: Console,
    title: str,
    total: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[_TransferBars]:
    """For the clips a step moves: with their ``total``, an overall line first (``pushing
    ━━━━──── 2/5 clips, 0:00:04 left``, as a long step's bar), then a bar per clip in flight
    (bytes, speed, time left); all cleared when the step ends."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    count = _ClipCount(title, total, clock)

    class _Counted(Progress):
        def get_renderables(self) -> Iterable[RenderableType]:
            if total is not None:
                yield _CountFrame(count, clock)
            yield from super().get_renderables()

    progress = _Counted(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with progress:
        yield _TransferBars(progress, title, count)
