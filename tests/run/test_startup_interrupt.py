"""Ctrl-C at any moment of a command's start-up: "interrupted", exit 130, never a traceback."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli_process import environment, rdpipe_command, write_pipeline

STOPPING = (
    "stopping: no new submits. The clips made are kept; `rdpipe run film.yaml --offline` submits "
    "the unfinished shots again (offline: free). Press Ctrl-C again to exit at once.\n"
)
# Runs rdpipe's entry point, sending the process a real SIGINT the moment ``target`` starts to
# be imported: a Ctrl-C landing in exactly that part of the start-up.
SIGNAL_DURING_IMPORT = """
import os, signal, sys
target = sys.argv.pop(1)
class Finder:
    fired = False
    def find_spec(self, name, path=None, module=None):
        if name == target and not Finder.fired:
            Finder.fired = True
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Finder())
sys.argv[0] = "rdpipe"
from rdpipe.entry import main
main()
"""
# Runs rdpipe's entry point, sending the process a real SIGINT the moment one of the servers
# of the offline simulator (uvicorn, in the run's own event loop) starts ``moment``: its start-up,
# its serving loop, or its shutdown.
SIGNAL_IN_SERVER = """
import os, signal, sys
import uvicorn
moment = sys.argv.pop(1)
original = getattr(uvicorn.Server, moment)
async def hooked(self, *args, **kwargs):
    if not hooked.fired:
        hooked.fired = True
        os.kill(os.getpid(), signal.SIGINT)
    return await original(self, *args, **kwargs)
hooked.fired = False
setattr(uvicorn.Server, moment, hooked)
sys.argv[0] = "rdpipe"
from rdpipe.entry import main
main()
"""
# A command that ends outside rdpipe's own handling: click's Abort, or a bare Ctrl-C.
EXTRA_COMMANDS = """
import sys, typer
from rdpipe.cli import app
from rdpipe.cli.app import run_command
from rdpipe.cli.context import CommandContext
@app.command("abort-now")
def abort_now() -> None:
    raise typer.Abort()
@app.command("interrupt-now")
def interrupt_now() -> None:
    raise KeyboardInterrupt
@app.command("interrupt-inside")
def interrupt_inside() -> None:
    def action() -> None:
        raise KeyboardInterrupt
    run_command(action, CommandContext.start())
@app.command("interrupt-in-callback")
def interrupt_in_callback() -> None:
    import time, weakref
    class Thing: ...
    def callback(ref: object) -> None:
        raise KeyboardInterrupt  # as when Ctrl-C lands in importlib's module-lock callback
    def action() -> None:
        thing = Thing()
        ref = weakref.ref(thing, callback)
        del thing
        time.sleep(30)
    run_command(action, CommandContext.start())
sys.argv[0] = "rdpipe"
from rdpipe.entry import main
main()
"""


@pytest.mark.parametrize(
    "target",
    [
        "typer",
        "rich.console",
        "rdpipe.session.running",
        "rdpipe.prepare.pipeline",
        "yaml",
        "anyio",
        "uvicorn",
    ],
)
def test_ctrl_c_while_the_command_line_loads_says_interrupted(tmp_path: Path, target: str) -> None:
    """Whichever import a Ctrl-C lands in (the CLI's own, or a command's lazy one), one word on
    stderr and exit 130; a rerun then works as if nothing happened."""
    write_pipeline(tmp_path)
    env = environment(tmp_path / "cache")
    command = [sys.executable, "-c", SIGNAL_DURING_IMPORT, target, "run", "film.yaml", "--offline"]
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90
    )
    assert (result.returncode, result.stderr) == (130, "interrupted\n"), result.stderr
    assert not list((tmp_path / "cache").glob("**/crash-*.log"))


@pytest.mark.parametrize("moment", ["startup", "main_loop", "shutdown"])
def test_ctrl_c_while_the_offline_simulator_serves_says_interrupted_once(
    tmp_path: Path, moment: str
) -> None:
    """One Ctrl-C while the simulator starts, serves or stops is one Ctrl-C: the stop notice
    and "interrupted" on stderr, exit 130, nothing about stopping on stdout.

    uvicorn used to take SIGINT over while it served and raise it again once it had stopped:
    the run's Ctrl-C watch then heard a second Ctrl-C and exited at once, with nothing on
    stderr (its notices went to stdout)."""
    write_pipeline(tmp_path)
    command = [sys.executable, "-c", SIGNAL_IN_SERVER, moment, "run", "film.yaml", "--offline"]
    result = subprocess.run(
        command,
        cwd=tmp_path,
        env=environment(tmp_path / "cache"),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert (result.returncode, result.stderr) == (130, STOPPING + "interrupted\n"), result
    assert "stopping" not in result.stdout and "interrupted" not in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("command", "stderr"),
    [
        ("abort-now", "interrupted\n"),  # not click's "Aborted!" with exit 1
        ("interrupt-now", "interrupted\n"),  # not typer's silent 130
        ("interrupt-inside", "interrupted\n"),  # said once, not twice
        ("interrupt-in-callback", "interrupted\n"),  # not "Exception ignored", then lost
    ],
)
def test_click_abort_and_a_bare_ctrl_c_end_like_every_other_interruption(
    tmp_path: Path, command: str, stderr: str
) -> None:
    """click's own Abort path, typer's KeyboardInterrupt path and a Ctrl-C Python would print
    and drop (in a weakref callback) all say "interrupted" once, exit 130."""
    result = subprocess.run(
        [sys.executable, "-c", EXTRA_COMMANDS, command],
        cwd=tmp_path,
        env=environment(tmp_path / "cache"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (130, "", stderr)


def test_ctrl_c_at_any_moment_of_start_up_never_shows_a_traceback(tmp_path: Path) -> None:
    """Real SIGINTs through the first second of a run: each ends in "interrupted" and exit 130,
    or a finished run (killed silently if the signal came as Python tore down). Only a signal
    that lands while Python itself starts, before any rdpipe code runs, is out of rdpipe's
    hands: such samples are set aside, and most samples must land later."""
    write_pipeline(tmp_path)
    env = environment(tmp_path / "cache")
    landed = 0
    for step in range(12):
        process = subprocess.Popen(
            rdpipe_command("run", "film.yaml", "--offline"),
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.05 + step * 0.08)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        if _before_rdpipe_code(process.returncode, stderr):
            continue
        landed += 1
        assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
        if process.returncode == -signal.SIGINT:  # the work was done; Python was tearing down
            assert stderr == ""
        elif process.returncode == 130:
            assert stderr.endswith("interrupted\n"), stderr
        else:
            assert process.returncode == 0, stderr
    assert landed >= 8


def _before_rdpipe_code(code: int, stderr: str) -> bool:
    """A SIGINT Python's start-up took: killed by it, and no rdpipe code but module loading in
    the trace (Python's own start-up, or the loading of ``rdpipe.entry``, which imports nothing
    of its own before its handler is set)."""
    rdpipe_frames = re.findall(r'File ".*rdpipe[^"]*", line \d+, in (\S+)', stderr)
    started = "init_import_site" in stderr or all(name == "<module>" for name in rdpipe_frames)
    return code in (-signal.SIGINT, 1) and "Traceback" in stderr and started


def test_a_ctrl_c_a_library_reported_as_its_own_error_is_still_an_interruption(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """pydantic-core names a Ctrl-C that landed while it built a schema only in its message:
    that is "interrupted", exit 130, not a crash report."""
    from rdpipe.cli.app import InterruptionReported, run_command
    from rdpipe.cli.context import CommandContext

    def action() -> None:
        raise RuntimeError(
            'Error building "model-fields" validator:\n  SchemaError: Error building "literal" '
            "validator:\n  KeyboardInterrupt: "
        )

    with pytest.raises(InterruptionReported) as caught:
        run_command(action, CommandContext.start())
    assert caught.value.code == 130
    assert capsys.readouterr() == ("", "interrupted\n")
