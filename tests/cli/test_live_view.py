"""The run's live view at any terminal size: the overall bar and the counts always on its first
lines, the shots in flight (most recently started first) as many as fit, ``+N more in flight``
for the rest, every line cut to the width; frames compared exactly, with a fixed clock."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from rdpipe.cli.progress import LiveReporter, _Frame
from rdpipe.progress_steps import StepProgress
from rdpipe.redaction import NO_SECRETS
from rdpipe.scheduler import Phase, ShotUpdate

#: What the i-th shot to start is doing at the moment the frame is drawn.
_CYCLE = (Phase.DONE, Phase.CACHED, Phase.GENERATING, Phase.FAILED, Phase.DOWNLOADING,
          Phase.SUBMITTING)  # fmt: skip


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _view(shots: int, started: int) -> tuple[LiveReporter, _Clock, Console]:
    """A view of ``shots`` shots of which the first ``started`` started a second apart, then
    moved to the phase ``_CYCLE`` gives them; drawn 15 s after the last one started."""
    clock = _Clock()
    printed = Console(file=io.StringIO(), width=80, color_system=None, record=True)
    ids = [f"shot-{index:03d}" for index in range(shots)]
    live = LiveReporter(printed, ids, NO_SECRETS, clock=clock)
    for index, shot_id in enumerate(ids[:started]):
        clock.now = float(index)
        phase = _CYCLE[index % len(_CYCLE)]
        live.update(ShotUpdate(shot_id, Phase.SUBMITTING))
        live.update(ShotUpdate(
            shot_id, phase, task_id=f"task_{index:04d}",
            progress=(index * 7) % 100 if phase is Phase.GENERATING else None,
            message="quota exceeded for this model" if phase is Phase.FAILED else None,
        ))  # fmt: skip
    clock.now = started + 15.0
    return live, clock, printed


def _frame(live: LiveReporter, width: int, height: int) -> str:
    screen = Console(file=io.StringIO(), width=width, height=height, force_terminal=True,
                     color_system=None, record=True)  # fmt: skip
    screen.print(_Frame(live))
    return screen.export_text()


FIVE_80x24 = "\n".join(
    [
        "shots ━━━━━━━━━━━━━━━━━━━━━━━━──────────────── 3/5 0:00:20",
        "1 done · 1 reused · 1 failed · 1 running · 1 downloading · 0 waiting",
        "shot      state        elapsed  progress  task / note",
        "shot-004  downloading      16s            task_0004",
        "shot-002  generating       18s       14%  task_0002",
        "",
    ]
)

FOUR_HUNDRED_80x24 = "\n".join(
    [
        "shots ━━━───────────────────────────────────── 30/400 0:01:15",
        "10 done · 10 reused · 10 failed · 20 running · 10 downloading · 340 waiting",
        "shot      state        elapsed  progress  task / note",
        "shot-059  submitting       16s            task_0059",
        "shot-058  downloading      17s            task_0058",
        "shot-056  generating       19s       92%  task_0056",
        "shot-053  submitting       22s            task_0053",
        "shot-052  downloading      23s            task_0052",
        "shot-050  generating       25s       50%  task_0050",
        "shot-047  submitting       28s            task_0047",
        "shot-046  downloading      29s            task_0046",
        "shot-044  generating       31s        8%  task_0044",
        "shot-041  submitting       34s            task_0041",
        "shot-040  downloading      35s            task_0040",
        "shot-038  generating       37s       66%  task_0038",
        "shot-035  submitting       40s            task_0035",
        "shot-034  downloading      41s            task_0034",
        "shot-032  generating       43s       24%  task_0032",
        "shot-029  submitting       46s            task_0029",
        "shot-028  downloading      47s            task_0028",
        "shot-026  generating       49s       82%  task_0026",
        "shot-023  submitting       52s            task_0023",
        "+11 more in flight",
        "",
    ]
)

FIVE_200x60 = "\n".join(
    [
        "shots ━━━━━━━━━━━━━━━━━━━━━━━━──────────────── 3/5 0:00:20",
        "1 done · 1 reused · 1 failed · 1 running · 1 downloading · 0 waiting",
        "shot      state        elapsed  progress  task / note",
        "shot-004  downloading      16s            task_0004",
        "shot-002  generating       18s       14%  task_0002",
        "",
    ]
)

FOUR_HUNDRED_200x60 = "\n".join(
    [
        "shots ━━━━━━━━━━━━━━━───────────────────────── 150/400 0:05:15",
        "50 done · 50 reused · 50 failed · 100 running · 50 downloading · 100 waiting",
        "shot      state        elapsed  progress  task / note",
        "shot-299  submitting       16s            task_0299",
        "shot-298  downloading      17s            task_0298",
        "shot-296  generating       19s       72%  task_0296",
        "shot-293  submitting       22s            task_0293",
        "shot-292  downloading      23s            task_0292",
        "shot-290  generating       25s       30%  task_0290",
        "shot-287  submitting       28s            task_0287",
        "shot-286  downloading      29s            task_0286",
        "shot-284  generating       31s       88%  task_0284",
        "shot-281  submitting       34s            task_0281",
        "shot-280  downloading      35s            task_0280",
        "shot-278  generating       37s       46%  task_0278",
        "shot-275  submitting       40s            task_0275",
        "shot-274  downloading      41s            task_0274",
        "shot-272  generating       43s        4%  task_0272",
        "shot-269  submitting       46s            task_0269",
        "shot-268  downloading      47s            task_0268",
        "shot-266  generating       49s       62%  task_0266",
        "shot-263  submitting       52s            task_0263",
        "shot-262  downloading      53s            task_0262",
        "shot-260  generating       55s       20%  task_0260",
        "shot-257  submitting       58s            task_0257",
        "shot-256  downloading      59s            task_0256",
        "shot-254  generating       61s       78%  task_0254",
        "shot-251  submitting       64s            task_0251",
        "shot-250  downloading      65s            task_0250",
        "shot-248  generating       67s       36%  task_0248",
        "shot-245  submitting       70s            task_0245",
        "shot-244  downloading      71s            task_0244",
        "shot-242  generating       73s       94%  task_0242",
        "shot-239  submitting       76s            task_0239",
        "shot-238  downloading      77s            task_0238",
        "shot-236  generating       79s       52%  task_0236",
        "shot-233  submitting       82s            task_0233",
        "shot-232  downloading      83s            task_0232",
        "shot-230  generating       85s       10%  task_0230",
        "shot-227  submitting       88s            task_0227",
        "shot-226  downloading      89s            task_0226",
        "shot-224  generating       91s       68%  task_0224",
        "shot-221  submitting       94s            task_0221",
        "shot-220  downloading      95s            task_0220",
        "shot-218  generating       97s       26%  task_0218",
        "shot-215  submitting      100s            task_0215",
        "shot-214  downloading     101s            task_0214",
        "shot-212  generating      103s       84%  task_0212",
        "shot-209  submitting      106s            task_0209",
        "shot-208  downloading     107s            task_0208",
        "shot-206  generating      109s       42%  task_0206",
        "shot-203  submitting      112s            task_0203",
        "shot-202  downloading     113s            task_0202",
        "shot-200  generating      115s        0%  task_0200",
        "shot-197  submitting      118s            task_0197",
        "shot-196  downloading     119s            task_0196",
        "shot-194  generating      121s       58%  task_0194",
        "shot-191  submitting      124s            task_0191",
        "+95 more in flight",
        "",
    ]
)


@pytest.mark.parametrize(
    ("shots", "started", "width", "height", "expected"),
    [
        (5, 5, 80, 24, FIVE_80x24),
        (400, 60, 80, 24, FOUR_HUNDRED_80x24),
        (5, 5, 200, 60, FIVE_200x60),
        (400, 300, 200, 60, FOUR_HUNDRED_200x60),
    ],
)
def test_the_frame_fits_the_terminal(
    shots: int, started: int, width: int, height: int, expected: str
) -> None:
    live, _, _ = _view(shots, started)
    frame = _frame(live, width, height)
    assert frame == expected
    lines = frame.splitlines()
    assert len(lines) <= height - 1  # the cursor's line stays free: nothing scrolls off
    assert (lines[0].startswith("shots ") and "0 waiting" in lines[1]) or "waiting" in lines[1]


def test_failed_shots_are_said_once_above_the_view() -> None:
    live, _, printed = _view(400, 60)
    assert printed.export_text() == "".join(
        f"shot-{index:03d}: failed - quota exceeded for this model\n" for index in range(3, 60, 6)
    )
    live.update(ShotUpdate("shot-003", Phase.FAILED, message="quota exceeded for this model"))
    assert printed.export_text() == ""  # exported already; not said again


def test_lines_are_cut_to_the_width_with_an_ellipsis_and_a_step_shows_its_bar() -> None:
    live, clock, _ = _view(5, 5)
    live.update(ShotUpdate("shot-004", Phase.DOWNLOADING, message="a note " * 20))
    live.step(StepProgress("joining", 12, 48, "seconds", started=clock.now - 3))
    assert _frame(live, 40, 8) == "\n".join([
        "shots ━━━━━━━━━━━━━───────── 3/5 0:00:20",
        "1 done · 1 reused · 1 failed · 1 running",
        "1 downloading · 0 waiting",
        "joining ━─── 12/48 seconds, 0:00:09 left",
        "shot      state        elapsed  progres…",
        "shot-004  downloading      16s         …",
        "shot-002  generating       18s       14…",
        "",
    ])  # fmt: skip
    assert _frame(live, 80, 5) == "\n".join([
        "shots ━━━━━━━━━━━━━━━━━━━━━━━━──────────────── 3/5 0:00:20",
        "1 done · 1 reused · 1 failed · 1 running · 1 downloading · 0 waiting",
        "joining ━━━━━━━━━━────────────────────────────── 12/48 seconds, 0:00:09 left",
        "",
    ])  # fmt: skip
    live.step(StepProgress("joining", 48, 48, "seconds", started=clock.now - 3))
    assert "joining" not in _frame(live, 80, 24)  # a finished step leaves the view


def test_a_run_of_drafts_finals_and_regenerations_counts_clips_not_shots() -> None:
    """Two shots drafted twice each, with a final and a regeneration: the bar counts the six
    clips (``clips 1/6``), not six "shots" of a two-shot storyboard."""
    clock = _Clock()
    labels = ["kite:draft#1", "kite:draft#2", "kite", "kite:vertical", "dog:draft", "dog"]
    live = LiveReporter(Console(file=io.StringIO()), labels, NO_SECRETS, clock=clock, shots=2)
    live.update(ShotUpdate("kite:draft#1", Phase.SUBMITTING))
    live.update(ShotUpdate("kite:draft#1", Phase.DONE, task_id="task_1"))
    clock.now = 20.0
    assert _frame(live, 80, 4) == "\n".join([
        "clips ━━━━━━────────────────────────────────── 1/6 0:00:20",
        "1 done · 0 reused · 0 failed · 0 running · 5 waiting",
        "",
    ])  # fmt: skip


def test_at_40_columns_the_counts_wrap_and_a_step_keeps_its_time_left() -> None:
    """No count and no time left is cut at 40 columns: the counts wrap between counts, a long
    step's unit gives way first (``normalising ━━━━────── 2/5, 0:00:04 left``)."""
    live, clock, _ = _view(5, 5)
    live.step(StepProgress("normalising", 2, 5, "pieces", started=clock.now - 3))
    assert _frame(live, 40, 5) == "\n".join([
        "shots ━━━━━━━━━━━━━───────── 3/5 0:00:20",
        "1 done · 1 reused · 1 failed · 1 running",
        "1 downloading · 0 waiting",
        "normalising ━━━━────── 2/5, 0:00:04 left",
        "",
    ])  # fmt: skip


def test_running_counts_task_slots_and_a_download_apart() -> None:
    """-j 2 with two shots holding a task slot and a third downloading its finished task:
    ``2 running`` (never more than -j) and ``1 downloading``."""
    live = LiveReporter(Console(file=io.StringIO()), ["a", "b", "c", "d"], NO_SECRETS,
                        clock=_Clock())  # fmt: skip
    live.update(ShotUpdate("a", Phase.DOWNLOADING, task_id="task_a"))
    live.update(ShotUpdate("b", Phase.GENERATING, task_id="task_b", progress=10))
    live.update(ShotUpdate("c", Phase.SUBMITTING))
    assert _frame(live, 80, 3).splitlines()[1] == (
        "0 done · 0 reused · 0 failed · 2 running · 1 downloading · 1 waiting"
    )


def test_shots_the_run_stopped_submitting_are_counted_not_submitted_not_skipped() -> None:
    """on_failure: stop leaves the unsent shots ``not submitted``; ``skipped`` is for shots an
    on_failure: skip left out."""
    live = LiveReporter(Console(file=io.StringIO()), ["a", "b", "c", "d"], NO_SECRETS,
                        clock=_Clock())  # fmt: skip
    live.update(ShotUpdate("a", Phase.FAILED, message="refused"))
    live.update(ShotUpdate("b", Phase.SKIPPED, message="left out (on_failure: skip)"))
    live.update(ShotUpdate("c", Phase.SKIPPED, unsent=True))
    live.update(ShotUpdate("d", Phase.SKIPPED, unsent=True))
    assert _frame(live, 100, 3).splitlines()[1] == (
        "0 done · 0 reused · 1 failed · 1 skipped · 2 not submitted · 0 running · 0 waiting"
    )


OUTAGE = (
    "could not reach RelayDance to poll (ConnectError: All connection attempts failed); rdpipe "
    "keeps polling each task until --shot-timeout (30 min). Ctrl-C stops waiting: the tasks "
    "submitted stay recorded, and the resume command is printed"
)


def test_an_outage_is_printed_whole_above_the_view_not_in_a_row() -> None:
    """A run-wide notice (polls cannot reach RelayDance, then can) is printed once above the
    view, folded, never cut; the shot's row keeps its task id."""
    printed = Console(file=io.StringIO(), width=60, color_system=None, record=True)
    live = LiveReporter(printed, ["coast", "lamp"], NO_SECRETS, clock=_Clock())
    live.update(ShotUpdate("coast", Phase.GENERATING, task_id="task_1", progress=1))
    live.update(ShotUpdate("coast", Phase.GENERATING, task_id="task_1", notice=OUTAGE))
    back = "RelayDance answers again: polling goes on"
    live.update(ShotUpdate("coast", Phase.GENERATING, task_id="task_1", notice=back))
    assert printed.export_text() == (
        "could not reach RelayDance to poll (ConnectError: All \n"
        "connection attempts failed); rdpipe keeps polling each task \n"
        "until --shot-timeout (30 min). Ctrl-C stops waiting: the \n"
        "tasks submitted stay recorded, and the resume command is \n"
        "printed\n"
        "RelayDance answers again: polling goes on\n"
    )
    assert _frame(live, 60, 5).splitlines()[3] == "coast  generating        0s        1%  task_1"


def test_a_narrower_terminal_redraws_over_every_row_the_old_view_wrapped_into() -> None:
    """Drawn at 80 columns, then the terminal is made 40 wide: the terminal re-wraps the old
    lines, so the redraw moves up over all their rows (not just its line count), leaving no
    stale copy of the header above the view."""
    stream = io.StringIO()
    screen = Console(file=stream, width=80, height=24, force_terminal=True,
                     force_interactive=True, color_system=None)  # fmt: skip
    clock = _Clock()
    view = LiveReporter(screen, [f"shot-{index}" for index in range(5)], NO_SECRETS, clock=clock)
    for index in range(3):
        view.update(ShotUpdate(f"shot-{index}", Phase.GENERATING, task_id=f"task_{index:04d}"))
    with view:
        view._live.refresh()  # drawn at 80 columns
        lines = [line.cell_len for line in view.lines(80, 24)]
        stream.seek(0)
        stream.truncate()
        screen.width = 40
        view._live.refresh()  # the redraw rich's thread would make
        redraw = stream.getvalue()
    rows = sum(-(-cells // 40) for cells in lines)
    assert (len(lines), rows) == (6, 12)  # each line is over 40 cells: two rows each
    up = "\r\x1b[2K" + "\x1b[1A\x1b[2K" * (rows - 1)
    assert redraw.startswith(up), repr(redraw[:120])
    assert "\x1b[1A" not in redraw[len(up) :]
