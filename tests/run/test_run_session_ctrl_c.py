"""The run's Ctrl-C watch: what each Ctrl-C says goes to stderr, ending in "interrupted" once.

Real SIGINTs to this process, sent from inside the watched work once the watch listens.
"""

from __future__ import annotations

import io
import os
import signal
import time

import anyio
import pytest
from rich.console import Console

from rdpipe.cli.run_session import (
    EXITING,
    STOPPING,
    STOPPING_AFTER_SHOTS,
    STOPPING_TRANSFERS,
    ConsoleRunReporter,
    until_interrupted,
)
from rdpipe.plan import Plan
from rdpipe.redaction import NO_SECRETS

SHOW_CURSOR = "\x1b[?25h"


class Exited(BaseException):
    """What the stand-in for ``os._exit`` raises: the process would be gone."""


def _reporter(out: Console | None = None) -> tuple[ConsoleRunReporter, io.StringIO, io.StringIO]:
    """A reporter on ``out`` (a plain console on a string when not given), notices on another."""
    out_text, err_text = io.StringIO(), io.StringIO()
    console = out or Console(file=out_text, markup=False, soft_wrap=True, highlight=False)
    err = Console(file=err_text, markup=False, soft_wrap=True, highlight=False)
    return ConsoleRunReporter(console, NO_SECRETS, notices=err), out_text, err_text


async def _ctrl_c_once_watched() -> None:
    """Press Ctrl-C once the watch listens (asyncio's handler replaced the run's own)."""
    while getattr(signal.getsignal(signal.SIGINT), "__name__", "") != "_sighandler_noop":
        await anyio.sleep(0.005)
    os.kill(os.getpid(), signal.SIGINT)


def test_the_first_ctrl_c_says_stopping_on_stderr_and_stops_the_work() -> None:
    """The notice goes to the notices console (stderr), nothing to the run's console, and the
    work is cancelled: KeyboardInterrupt, for run_command to say "interrupted"."""
    reporter, out, err = _reporter()

    async def work() -> None:
        await _ctrl_c_once_watched()
        await anyio.sleep(30)

    with pytest.raises(KeyboardInterrupt):
        until_interrupted(reporter)(work)
    assert (out.getvalue(), err.getvalue()) == ("", STOPPING + "\n")


def test_a_second_ctrl_c_says_interrupted_on_stderr_and_exits_130_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the stopping work is still busy (shielded), a second Ctrl-C says so and
    "interrupted" on stderr, then exits 130 without unwinding."""
    exits: list[int] = []

    def exit_now(code: int) -> None:
        exits.append(code)
        raise Exited

    monkeypatch.setattr(os, "_exit", exit_now)
    reporter, out, err = _reporter()

    async def work() -> None:
        with anyio.CancelScope(shield=True):  # a stopping run writing its lock file, say
            await _ctrl_c_once_watched()
            while STOPPING not in err.getvalue():
                await anyio.sleep(0.005)
            os.kill(os.getpid(), signal.SIGINT)
            while not exits:
                await anyio.sleep(0.005)

    with pytest.RaisesGroup(Exited):
        until_interrupted(reporter)(work)
    assert exits == [130]
    assert (out.getvalue(), err.getvalue()) == ("", f"{STOPPING}\n{EXITING}\ninterrupted\n")


def test_a_notice_stops_the_live_view_before_it_is_said() -> None:
    """On a terminal the live view redraws in place, over whatever was printed after it: the
    first notice stops it for good (cursor shown again), and nothing is drawn after."""
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=80)
    reporter, _, err = _reporter(terminal)
    with reporter.shots(Plan("film", [])):
        time.sleep(0.3)  # the live view is drawn a first time
        reporter.notice(STOPPING)
        drawn = screen.getvalue()
        time.sleep(0.6)  # two redraw periods
        assert screen.getvalue() == drawn
    assert screen.getvalue() == drawn and drawn.endswith(SHOW_CURSOR), repr(drawn[-40:])
    assert err.getvalue() == STOPPING + "\n"


def _first_ctrl_c_says(reporter: ConsoleRunReporter) -> None:
    with pytest.raises(KeyboardInterrupt):
        until_interrupted(reporter)(_wait_for_ctrl_c)


def test_ctrl_c_after_every_shot_ended_says_the_video_is_what_stops() -> None:
    """Joining the clips (or pushing them) after the shots: no submit is left to stop, so the
    notice says the clips are saved and the same command builds the video."""
    reporter, _, err = _reporter()
    with reporter.shots(Plan("film", [])):
        pass
    _first_ctrl_c_says(reporter)
    assert err.getvalue() == STOPPING_AFTER_SHOTS + "\n"
    assert "submit" not in STOPPING_AFTER_SHOTS


def test_ctrl_c_while_shots_run_after_a_download_still_says_no_new_submits() -> None:
    """A clip restored before the shots run (a transfer) does not make it a transfer command."""
    reporter, _, err = _reporter()
    with reporter.transfers("downloading", 1):
        pass
    with reporter.shots(Plan("film", [])), pytest.raises(KeyboardInterrupt):
        until_interrupted(reporter)(_wait_for_ctrl_c)
    assert err.getvalue() == STOPPING + "\n"


async def _wait_for_ctrl_c() -> None:
    await _ctrl_c_once_watched()
    await anyio.sleep(30)


def test_ctrl_c_in_push_or_pull_says_the_moved_clips_are_kept() -> None:
    reporter, _, err = _reporter()
    with reporter.transfers("pushing", 3):
        pass
    _first_ctrl_c_says(reporter)
    assert err.getvalue() == STOPPING_TRANSFERS + "\n"
