"""Standard output that cannot be written (a pipe closed early, a closed descriptor, a full
device) stops any command with one line on stderr and exit 141: no crash log, no bug report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.cli_process import environment, rdpipe_command, run_rdpipe, write_pipeline

#: Every run here is offline: nothing is paid, so the line does not speak of paying.
RESUME = "Nothing is paid offline: run the same command again to finish.\n"
PIPE_CLOSED = (
    f"rdpipe stopped: its standard output was closed (the program reading it stopped). {RESUME}"
)
CLOSED = "rdpipe stopped: its standard output is closed."
FULL = "rdpipe stopped: its standard output goes to a full device."
#: Each command, and whether it can send paid work (so the line speaks of resuming it).
COMMANDS = [
    (("run", "film.yaml", "--offline", "--json"), True),
    (("run", "film.yaml", "--offline"), True),
    (("models", "--offline"), False),
    (("status", "film.yaml"), False),
    (("plan", "film.yaml", "--json"), False),
    (("validate", "film.yaml"), False),
    (("cost", "film.yaml"), False),
    (("balance", "--offline"), False),
    (("run", "--help"), False),
    (("--help",), False),
]


def _line(headline: str, *, pays: bool) -> str:
    return f"{headline} {RESUME}" if pays else f"{headline}\n"


CASES = [pytest.param(command, pays, id=" ".join(command)) for command, pays in COMMANDS]


def _crash_logs(root: Path) -> list[Path]:
    return list(root.rglob("crash-*.log"))


def _said_once(stderr: str, line: str) -> bool:
    """``line`` ends stderr and is its only complaint (a --json run announces itself there)."""
    return stderr.endswith(line) and stderr.count("rdpipe stopped") == 1 and "error" not in stderr


def test_a_reader_that_stops_after_one_line_stops_the_run_and_a_rerun_resumes(
    tmp_path: Path, rdpipe_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rdpipe run FILE --offline --json | head -1`: exit 141 and one line, not "a bug"; the
    state stays whole, and the rerun (in-process: only the first run's pipe matters here)
    finishes the video."""
    project = tmp_path / "project"
    write_pipeline(project)
    env = environment(tmp_path / "cache")
    process = subprocess.Popen(
        rdpipe_command("run", "film.yaml", "--offline", "--json"),
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    process.stdout.close()  # what `head -1` does once it has its line
    _, stderr = process.communicate(timeout=90)
    assert json.loads(first)["event"] == "shot"
    assert process.returncode == 141
    assert _said_once(stderr, PIPE_CLOSED)
    assert _crash_logs(tmp_path) == []

    for name in [name for name in os.environ if name.startswith("RELAYDANCE_")]:
        monkeypatch.delenv(name)  # the environment the first run had (tests.cli_process)
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    monkeypatch.chdir(project)
    rerun = rdpipe_cli("run", "film.yaml", "--offline", "--json")
    assert rerun.exit_code == 0, rerun.stderr
    assert json.loads(rerun.stdout.splitlines()[-1])["failed"] == 0
    assert (project / "out" / "offline" / "film.mp4").is_file()


@pytest.mark.parametrize(("command", "pays"), CASES)
def test_a_closed_standard_output_stops_every_command_before_it_starts(
    tmp_path: Path, command: tuple[str, ...], pays: bool
) -> None:
    """`>&-`: the same line and exit code for every command (speaking of resuming only for one
    that can pay), and no file of the run takes the free descriptor 1 (nothing is created)."""
    write_pipeline(tmp_path)
    shell = ['"$0" "$@" >&-', *rdpipe_command(*command)]
    result = subprocess.run(
        ["sh", "-c", *shell],
        cwd=tmp_path,
        env=environment(tmp_path / "cache"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (141, _line(CLOSED, pays=pays))
    assert not (tmp_path / ".rdpipe").exists() and _crash_logs(tmp_path) == []


@pytest.mark.parametrize(("command", "pays"), CASES)
def test_standard_output_on_a_full_device_stops_every_command_the_same_way(
    tmp_path: Path, command: tuple[str, ...], pays: bool
) -> None:
    """`> /dev/full`: exit 141 with one line saying so, not "OSError ... This is a bug"."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    write_pipeline(tmp_path)
    with open("/dev/full", "w") as full:
        result = run_rdpipe(
            *command, cwd=tmp_path, env=environment(tmp_path / "cache"), stdout=full
        )
    assert result.returncode == 141
    assert _said_once(result.stderr, _line(FULL, pays=pays))
    assert _crash_logs(tmp_path) == []


def test_a_closed_standard_error_stops_the_command_silently_with_the_same_code(
    tmp_path: Path,
) -> None:
    """`2>&-`: nothing to say the line on, so nothing is said (not even on stdout, which may be
    JSON a program reads); exit 141 all the same."""
    write_pipeline(tmp_path)
    result = subprocess.run(
        ["sh", "-c", '"$0" "$@" 2>&-', *rdpipe_command("status", "film.yaml")],
        cwd=tmp_path,
        env=environment(tmp_path / "cache"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (141, "")
    assert _crash_logs(tmp_path) == []


def test_the_entry_point_module_stays_small(tmp_path: Path) -> None:
    """After what pip's console script imports itself (re, sys), importing rdpipe's entry point
    loads no Python module but rdpipe's own two (``_signal``, not ``signal.py``, whose ``enum``
    import was a window in which a Ctrl-C showed a traceback, seen in CI): a Ctrl-C or a closed
    output is handled from rdpipe's first lines."""
    probe = (
        "import re, sys; before = set(sys.modules); import rdpipe.entry; "
        "print(sorted(set(sys.modules) - before))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, cwd=tmp_path
    )
    assert result.stdout == "['rdpipe', 'rdpipe.entry']\n"


def test_the_line_speaks_of_paid_work_only_online() -> None:
    """Online, the stopped run's work is paid and recorded; offline (``--offline`` or
    RDPIPE_OFFLINE=1) nothing is paid, so the line says so."""
    from rdpipe.standard_streams import OutputClosed, runs_offline

    closed = OutputClosed("standard output", "is closed")
    assert closed.line() == (
        "rdpipe stopped: its standard output is closed. Work already paid for is recorded: run "
        "the same command again to resume it without paying twice.\n"
    )
    assert closed.line(offline=True) == (
        "rdpipe stopped: its standard output is closed. Nothing is paid offline: run the same "
        "command again to finish.\n"
    )
    assert runs_offline(["rdpipe", "run", "f.yaml", "--offline"], {})
    assert runs_offline(["rdpipe", "run", "f.yaml"], {"RDPIPE_OFFLINE": "1"})
    assert not runs_offline(["rdpipe", "run", "f.yaml", "--", "--offline"], {})
    assert not runs_offline(["rdpipe", "run", "f.yaml"], {"RDPIPE_OFFLINE": "0"})
