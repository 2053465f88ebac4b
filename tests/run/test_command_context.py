"""A command's context: the environment read once and its two consoles, the only ones
``run_command`` says anything through."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import typer
from rich.console import Console

from rdpipe.cli.app import InterruptionReported, run_command
from rdpipe.cli.context import CommandContext
from rdpipe.errors import RdpipeError
from rdpipe.redaction import Redactor

KEY = "context-secret-4321"  # no sk- shape: only the redactor can know it


def _context(environ: dict[str, str]) -> tuple[CommandContext, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    context = CommandContext(
        environ=environ,
        out=Console(file=out, markup=False, soft_wrap=True, highlight=False),
        err=Console(file=err, markup=False, soft_wrap=True, highlight=False),
        redactor=Redactor.from_environ(environ),
    )
    return context, out, err


def test_an_error_is_said_on_the_contexts_stderr_with_its_key_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The message goes to the context's stderr console, with the API key of the context's
    environment (not the process's) taken out; the process's streams stay empty."""
    context, out, err = _context({"RELAYDANCE_API_KEY": KEY})

    def action() -> None:
        raise RdpipeError(f"the server refused key {KEY}")

    with pytest.raises(typer.Exit) as caught:
        run_command(action, context)
    assert caught.value.exit_code == 1
    assert (out.getvalue(), err.getvalue()) == ("", "error: the server refused key [API key]\n")
    assert capsys.readouterr() == ("", "")


def test_ctrl_c_is_said_once_on_the_contexts_stderr() -> None:
    """A Ctrl-C in the body says "interrupted" on the context's stderr and raises the value
    that tells the entry point it was said (exit 130)."""
    context, out, err = _context({})

    def action() -> None:
        raise KeyboardInterrupt

    with pytest.raises(InterruptionReported) as caught:
        run_command(action, context)
    assert caught.value.code == 130
    assert (out.getvalue(), err.getvalue()) == ("", "interrupted\n")


def test_a_crash_log_goes_where_the_contexts_environment_says(tmp_path: Path) -> None:
    """With no pipeline folder, the crash log goes to the context's XDG_CACHE_HOME."""
    context, _out, err = _context({"XDG_CACHE_HOME": str(tmp_path / "cache")})

    def action() -> None:
        raise ValueError("gremlin")

    with pytest.raises(typer.Exit):
        run_command(action, context)
    (log,) = (tmp_path / "cache" / "rdpipe").glob("crash-*.log")
    assert f"The details are in {log};" in err.getvalue()


def test_start_reads_the_environment_once_into_both_consoles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The consoles read the context's copy of the environment: a later change of os.environ
    does not reach them (a pipe is 80 columns, or COLUMNS as the command found it)."""
    monkeypatch.setenv("COLUMNS", "123")
    context = CommandContext.start()
    monkeypatch.setenv("COLUMNS", "45")
    assert context.environ["COLUMNS"] == "123"
    assert (context.out.width, context.err.width) == (123, 123)
