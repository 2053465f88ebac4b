"""The progress of ``rdpipe assemble``'s long steps (normalising the pieces, joining them), as
a user sees it: in a pipe, nothing for a step shorter than a second, else plain lines from
then on at each quarter and the end; a bar redrawn in place on a terminal; nothing with
``-q``. A slow ffmpeg (one that waits a second before each run) makes the steps long."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import shutil
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from rdpipe.cli.progress import PlainSteps
from rdpipe.cli.run_session import ConsoleRunReporter
from rdpipe.progress_steps import StepProgress
from rdpipe.redaction import NO_SECRETS
from tests.cli_process import environment, rdpipe_command, run_rdpipe, write_pipeline
from tests.run.conftest_helpers import slow_ffmpeg

#: Each piece normalised with the slow ffmpeg takes over its second: the first line is said at
#: the first piece done, then each quarter (2 pieces run at once: piece 2 ends with piece 1).
LONG_NORMALISING = [
    "normalising: 1 of 5 pieces (20%)",
    "normalising: 2 of 5 pieces (40%)",
    "normalising: 3 of 5 pieces (60%)",
    "normalising: 4 of 5 pieces (80%)",
    "normalising: 5 of 5 pieces (100%)",
]

#: Three 4 s shots crossfaded: five pieces to normalise (3 clips' middles, 2 crossfades), and
#: 4 + 4 + 4 - 2 x 0.5 = 11 s of video to join.
FILM = """version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {{seconds: 4, ratio: '16:9'}}
shots:
  - {{id: a, prompt: a red kite}}
  - {{id: b, prompt: a blue boat}}
  - {{id: c, prompt: a green hill}}
output: {{path: out/film.mp4, crf: {crf}, transition: {{kind: crossfade, seconds: 0.5}}}}
"""


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose film ran offline once for the module (each test takes a copy)."""
    root = tmp_path_factory.mktemp("step-progress-run")
    folder = root / "work"
    write_pipeline(folder, FILM.format(crf=23))
    env = environment(root / "cache")
    ran = run_rdpipe("run", "film.yaml", "--offline", cwd=folder, env=env, timeout=120)
    assert ran.returncode == 0, ran.stderr
    return folder


@pytest.fixture
def after_offline_run(offline_run: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of a folder whose film ran offline, its output then changed (so ``assemble``
    re-encodes every piece); and the environment to run rdpipe in."""
    folder = tmp_path / "work"
    shutil.copytree(offline_run, folder, symlinks=True)
    write_pipeline(folder, FILM.format(crf=30))
    return folder, environment(tmp_path / "cache")


def test_assemble_in_a_pipe_says_each_long_step_from_its_first_second_to_its_end(
    after_offline_run: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    folder, env = after_offline_run
    slow = {**env, "RDPIPE_FFMPEG": str(slow_ffmpeg(tmp_path, 1.0))}
    done = run_rdpipe("assemble", "film.yaml", "--offline", cwd=folder, env=slow, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:5] == LONG_NORMALISING
    joining = lines[5:-1]  # how many quarters ffmpeg's progress reaches between depends on it
    assert joining[-1] == "joining: 11 of 11 seconds (100%)"
    seen = [int(re.fullmatch(r"joining: (\d+) of 11 seconds \(\d+%\)", line)[1])  # type: ignore[index]
            for line in joining]  # fmt: skip
    assert seen == sorted(set(seen))  # each quarter said once, in order
    assert lines[-1] == f"film: {folder / 'out' / 'offline' / 'film.mp4'}"


def test_assemble_quiet_shows_no_progress(after_offline_run: tuple[Path, dict[str, str]]) -> None:
    folder, env = after_offline_run
    done = run_rdpipe("-q", "assemble", "film.yaml", "--offline", cwd=folder, env=env)
    assert done.returncode == 0, done.stderr
    assert "normalising" not in done.stdout + done.stderr
    assert "joining" not in done.stdout + done.stderr


def test_assemble_on_a_terminal_draws_the_step_as_a_bar(
    after_offline_run: tuple[Path, dict[str, str]],
) -> None:
    folder, env = after_offline_run
    screen = _on_a_terminal(
        rdpipe_command("assemble", "film.yaml", "--offline"),
        folder,
        {**env, "COLUMNS": "80", "LINES": "24", "TERM": "xterm"},
    )
    plain = re.sub(r"\x1b\[[0-9;]*m", "", screen)  # colours and weights
    frames = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", plain).replace("\r", "").split("\n")
    steps = [frame for frame in frames if frame.startswith(("normalising", "joining"))]
    assert steps[0] == "normalising " + "─" * 40 + " 0/5 pieces"
    assert re.fullmatch(r"normalising ━{8}─{32} 1/5 pieces, 0:00:\d\d left", steps[1])
    assert steps[4] == "normalising " + "━" * 32 + "─" * 8 + " 4/5 pieces, 0:00:00 left"
    assert steps[5:7] == ["normalising " + "━" * 40 + " 5/5 pieces",
                          "joining " + "─" * 40 + " 0/11 seconds"]  # fmt: skip
    assert steps[-1] == "joining " + "━" * 40 + " 11/11 seconds"
    assert "normalising: 0 of 5" not in screen  # the pipe's lines are not drawn here
    assert frames[-2] == f"film: {folder / 'out' / 'offline' / 'film.mp4'}"


def _on_a_terminal(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run ``argv`` with a pseudo-terminal as its output; all it wrote, escapes included."""
    main, side = pty.openpty()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=side,
                               stderr=side)  # fmt: skip
    os.close(side)
    written = bytearray()
    while True:
        ready, _, _ = select.select([main], [], [], 120)
        if not ready:
            process.kill()
            break
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal's other side closed: the process ended
            break
        if not chunk:
            break
        written.extend(chunk)
    os.close(main)
    assert process.wait(timeout=30) == 0, written.decode(errors="replace")
    return written.decode("utf-8", errors="replace")


def _piped(**options: bool) -> tuple[ConsoleRunReporter, io.StringIO]:
    text = io.StringIO()
    return ConsoleRunReporter(Console(file=text, width=80), NO_SECRETS, **options), text


def test_a_pipe_says_each_clip_moved_once_when_whole() -> None:
    reporter, text = _piped()
    with reporter.transfers("pushing") as meter:
        first = meter.clip("a")
        for done in (0, 1_000_000, 2_500_000, 2_500_000):
            first(done, 2_500_000)
        second = meter.clip("b")
        second(10, None)
        second(40_000, 40_000)
    assert text.getvalue() == "pushing: a (2.5 MB)\npushing: b (40 kB)\n"


def test_a_pipe_counts_the_clips_moved_of_the_total() -> None:
    """With the total it moves, each clip's line says how many of it are whole so far, once
    per clip however often its last byte is reported; a clip that never arrives is not
    counted."""
    reporter, text = _piped()
    with reporter.transfers("pushing", total=3) as meter:
        first, second, third = meter.clip("a"), meter.clip("b"), meter.clip("c")
        third(10, 40_000)  # never finishes
        for done in (0, 1_000_000, 2_500_000, 2_500_000):
            first(done, 2_500_000)
        second(40_000, 40_000)
        first(2_500_000, 2_500_000)
    assert text.getvalue() == (
        "pushing: 1 of 3 clips (a, 2.5 MB)\npushing: 2 of 3 clips (b, 40 kB)\n"
    )


def test_a_terminal_shows_the_clips_moved_of_the_total_and_the_time_left() -> None:
    """On a terminal the overall line comes first: clips whole of the total, the time left at
    the pace so far (2 clips in 4 s: 2 more take 4 s), then a bar per clip still in flight
    (finished clips' bars are folded into the count)."""
    from rdpipe.cli.progress import transfer_bars

    text = io.StringIO()
    console = Console(file=text, width=80, force_terminal=True, color_system=None)
    now = [100.0]
    with transfer_bars(console, "pushing", total=4, clock=lambda: now[0]) as meter:
        meters = [meter.clip(label) for label in "abc"]
        meters[0](1_000, 1_000)
        meters[1](1_000, 1_000)
        meters[2](500, 1_000)
        now[0] = 104.0
        frame = io.StringIO()
        Console(file=frame, width=80, color_system=None).print(meter.shown())
    shown = frame.getvalue().splitlines()
    assert shown[0] == "pushing " + "━" * 20 + "─" * 20 + " 2/4 clips, 0:00:04 left"
    assert len(shown) == 2 and shown[1].startswith("pushing: c ")


def test_quiet_says_neither_steps_nor_transfers() -> None:
    reporter, text = _piped(quiet=True)
    with reporter.transfers("pushing") as meter:
        meter.clip("a")(5, 5)
    reporter.step(StepProgress("joining", 0, 4, "seconds", started=0.0))
    reporter.step(StepProgress("joining", 4, 4, "seconds", started=0.0))
    assert text.getvalue() == ""


def test_a_step_in_a_pipe_is_said_at_its_start_each_quarter_and_end() -> None:
    reporter, text = _piped()
    for done in range(9):
        reporter.step(StepProgress("normalising", done, 8, "pieces", started=0.0))
    assert text.getvalue() == "".join(
        f"normalising: {done} of 8 pieces ({done * 100 // 8}%)\n" for done in (0, 2, 4, 6, 8)
    )


def test_a_step_in_a_pipe_is_said_once_it_has_lasted_a_second() -> None:
    text = io.StringIO()
    now = [0.0]
    steps = PlainSteps(Console(file=text, width=80), clock=lambda: now[0])
    for done, at in ((0, 0.0), (1, 0.5), (2, 0.9), (3, 1.2), (4, 1.4), (5, 2.0), (8, 3.0)):
        now[0] = at
        steps.step(StepProgress("joining", done, 8, "seconds", started=0.0))
    assert text.getvalue() == (
        "joining: 3 of 8 seconds (38%)\njoining: 4 of 8 seconds (50%)\n"
        "joining: 8 of 8 seconds (100%)\n"
    )
    text.truncate(0)
    text.seek(0)
    for done, at in ((0, 10.0), (4, 10.5), (8, 10.9)):  # a short step: nothing at all
        now[0] = at
        steps.step(StepProgress("normalising", done, 8, "pieces", started=10.0))
    assert text.getvalue() == ""


def test_run_in_a_pipe_says_the_join_steps_before_its_summary(tmp_path: Path) -> None:
    env = environment(tmp_path / "cache", {"RDPIPE_FFMPEG": str(slow_ffmpeg(tmp_path, 1.0))})
    folder = tmp_path / "work"
    write_pipeline(folder, FILM.format(crf=23))
    ran = run_rdpipe("run", "film.yaml", "--offline", cwd=folder, env=env, timeout=120)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    steps = [line for line in lines if line.startswith(("normalising:", "joining:"))]
    assert steps[:5] == LONG_NORMALISING
    assert steps[5].startswith("joining: ")
    assert steps[-1] == "joining: 11 of 11 seconds (100%)"
    assert lines.index(steps[-1]) == len(lines) - 2  # then the summary line
    assert lines[-1].startswith("film: 3 submitted, 0 resumed, 0 reused, 0 failed -> ")


def test_the_contact_sheet_is_a_step_counted_in_shots(tmp_path: Path) -> None:
    """The contact sheet (a frame grabbed per shot, then drawn: seconds for 120 shots) tells its
    progress like the other steps: 0 of 3 shots at its start, one more per frame, the last once
    the PNG is written; a pipe then reads ``contact sheet: 3 of 3 shots (100%)``."""
    import anyio

    from rdpipe.assemble.contact_sheet import SheetEntry, write_contact_sheet
    from rdpipe.ffmpeg_path import find_ffmpeg
    from rdpipe.text import load_font_chain
    from tests.assemble.clips import ClipRecipe, make_clip

    ffmpeg = find_ffmpeg(os.environ)
    clips = [make_clip(ffmpeg, ClipRecipe(f"c{i}", 160, 90, "25", hue=i * 90), tmp_path)
             for i in range(3)]  # fmt: skip
    entries = [SheetEntry(f"s{i}", clip, 0.5, f"shot {i}") for i, clip in enumerate(clips)]
    heard: list[StepProgress] = []
    sheet = tmp_path / "film.contact.png"

    async def write() -> Path:
        fonts = load_font_chain(None, tmp_path)
        return await write_contact_sheet(entries, sheet, fonts=fonts, progress=heard.append)

    assert anyio.run(write) == sheet and sheet.stat().st_size > 0
    assert {(event.step, event.unit) for event in heard} == {("contact sheet", "shots")}
    assert [(event.done, event.total) for event in heard] == [(0, 3), (1, 3), (2, 3), (2, 3),
                                                              (3, 3)]  # fmt: skip
    out = io.StringIO()
    plain = PlainSteps(Console(file=out, width=80), patience=0.0, clock=lambda: heard[0].started)
    for event in heard:
        plain.step(event)
    assert out.getvalue().splitlines()[-1] == "contact sheet: 3 of 3 shots (100%)"
