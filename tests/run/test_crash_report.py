"""A bug deep inside a run: one paragraph for the user, the traceback in a crash log, exit 1."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from click.testing import Result

from rdpipe.cli.app import InterruptionReported, run_command
from rdpipe.cli.context import CommandContext
from rdpipe.sim import SimServer
from rdpipe.state import ClipFile, ClipStore
from tests.run.conftest import SIM_API_KEY, pipeline_text, submits, summary_of, write

PARAGRAPH = (
    "error: rdpipe stopped on an unexpected error: RuntimeError: disk gremlin with key "
    "[API key]. This is a bug in rdpipe, not a problem with your pipeline. Work already paid "
    "for is safe: submitted tasks and downloaded clips are recorded as they happen, so running "
    "the same command again picks up where this one stopped without paying twice. The details "
    "are in {log}; please include that file in a bug report.\n"
)


def test_a_fault_deep_in_a_run_prints_one_paragraph_and_logs_the_traceback(
    online: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception in a worker thread under the scheduler's task group: no traceback, exit 1.

    The paragraph names the log (in the pipeline's .rdpipe/), which holds the traceback; the
    API key is in neither. The rerun pays nothing twice: it downloads the recorded tasks.
    """

    def broken_adopt(self: ClipStore, *args: object, **kwargs: object) -> ClipFile:
        raise RuntimeError(f"disk gremlin with key {SIM_API_KEY}")

    path = write(tmp_path / "film.yaml", pipeline_text({"a": "a red kite", "b": "a blue boat"}))
    with monkeypatch.context() as patch:
        patch.setattr(ClipStore, "adopt", broken_adopt)
        crashed = rdpipe_cli("run", str(path))
    assert crashed.exit_code == 1
    found = re.search(r"The details are in (\S+); please", crashed.stderr)
    assert found is not None, crashed.stderr
    log = Path(found.group(1))
    assert log.parent == tmp_path / ".rdpipe" and log.name.startswith("crash-")
    assert crashed.stderr.endswith(PARAGRAPH.format(log=log))
    assert "Traceback" not in crashed.stdout + crashed.stderr
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "in broken_adopt" in text
    assert "RuntimeError: disk gremlin with key [API key]" in text
    assert SIM_API_KEY not in crashed.stderr + text
    assert submits(online) == 2

    rerun = rdpipe_cli("run", str(path), "--json")
    assert rerun.exit_code == 0, rerun.stderr
    assert submits(online) == 2, "the rerun resumed the paid tasks"
    assert [shot["status"] for shot in summary_of(rerun)["shots"]] == ["done", "done"]


@pytest.mark.parametrize(
    "raised",
    [
        KeyboardInterrupt(),
        BaseExceptionGroup("tasks", [KeyboardInterrupt()]),
        BaseExceptionGroup("outer", [BaseExceptionGroup("inner", [KeyboardInterrupt()])]),
        BaseExceptionGroup("tasks", [ValueError("x"), KeyboardInterrupt()]),
    ],
)
def test_ctrl_c_inside_task_groups_exits_130_with_one_line(
    raised: BaseException, capsys: pytest.CaptureFixture[str]
) -> None:
    """However task groups wrap a KeyboardInterrupt, the command says one word and exits 130."""

    def action() -> None:
        raise raised

    with pytest.raises(InterruptionReported) as caught:
        run_command(action, CommandContext.start())
    assert caught.value.code == 130
    assert capsys.readouterr() == ("", "interrupted\n")


def test_a_command_without_a_pipeline_logs_its_crash_in_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no pipeline folder to write to, the crash log goes to $XDG_CACHE_HOME/rdpipe."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("RELAYDANCE_API_KEY", "sk-secret-value-1234")

    def action() -> None:
        raise ExceptionGroup("tasks", [KeyError("sk-secret-value-1234")])

    with pytest.raises(typer.Exit) as caught:
        run_command(action, CommandContext.start())
    assert caught.value.exit_code == 1
    (log,) = (tmp_path / "cache" / "rdpipe").glob("crash-*.log")
    assert capsys.readouterr().err == PARAGRAPH.replace(
        "RuntimeError: disk gremlin with key [API key]", "KeyError: '[API key]'"
    ).format(log=log)
    assert "sk-secret-value-1234" not in log.read_text(encoding="utf-8")


def test_a_bug_outside_any_command_body_is_one_paragraph_too(tmp_path: Path) -> None:
    """An exception that escapes a command before its run_command (the console script's safety
    net): the same paragraph and crash log, exit 1, no traceback on the screen."""
    import os
    import subprocess
    import sys

    planted = (
        "import sys; from rdpipe.cli import app\n"
        "@app.command('boom')\n"
        "def boom() -> None:\n"
        "    raise RuntimeError('planted outside run_command')\n"
        "sys.argv[0] = 'rdpipe'\n"
        "from rdpipe.entry import main; main()\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, "-c", planted, "boom"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    (log,) = (tmp_path / "cache" / "rdpipe").glob("crash-*.log")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == PARAGRAPH.replace(
        "RuntimeError: disk gremlin with key [API key]", "RuntimeError: planted outside run_command"
    ).format(log=log)


def test_an_offline_crash_does_not_speak_of_paying() -> None:
    """Offline (``--offline`` or RDPIPE_OFFLINE) nothing is paid: the paragraph says so."""
    from rdpipe.cli.crash import report_crash
    from rdpipe.redaction import NO_SECRETS

    argv = ["rdpipe", "run", "f.yaml", "--offline"]
    error = RuntimeError("gremlin")
    said = str(report_crash(error, state_dir=None, environ={}, argv=argv, redactor=NO_SECRETS))
    assert said.startswith(
        "rdpipe stopped on an unexpected error: RuntimeError: gremlin. This is a bug in rdpipe, "
        "not a problem with your pipeline. Nothing is paid offline, and the clips made are kept, "
        "so running the same command again picks up where this one stopped. "
    ), said
    assert "paid for" not in said and "paying" not in said
