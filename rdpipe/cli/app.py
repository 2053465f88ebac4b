"""The typer application every command module registers on, and the one error-to-exit mapping.

Command modules import heavy libraries inside their functions so that ``rdpipe --help`` stays
fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from rdpipe.errors import ExitCode, RdpipeError

app = typer.Typer(
    name="rdpipe",
    help="Declarative video pipelines for the RelayDance (Seedance) video API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

T = TypeVar("T")


def make_console(*, stderr: bool = False) -> Console:
    """Build the console a command writes to; tests swap streams through typer's runner."""
    return Console(file=sys.stderr if stderr else sys.stdout, highlight=False, soft_wrap=True)


def run_command(action: Callable[[], T]) -> T:
    """Run one command body, turning rdpipe's errors into a message and an exit code.

    This is the only place errors become exit codes: invalid input exits 2, a failure 1,
    Ctrl-C 130. Unexpected exceptions are not caught: they are bugs and keep their traceback.
    """
    try:
        return action()
    except RdpipeError as error:
        console = make_console(stderr=True)
        console.print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
        raise typer.Exit(int(error.exit_code)) from None
    except KeyboardInterrupt:
        make_console(stderr=True).print("interrupted", style="yellow")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
