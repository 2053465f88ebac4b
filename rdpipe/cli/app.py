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
    rich_markup_mode=None,  # plain click help: fast (rich help costs ~0.3 s of imports)
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
        _report(error)
        raise typer.Exit(int(error.exit_code)) from None
    except BaseExceptionGroup as group:
        # Task groups wrap what their tasks raise; rdpipe's own errors are still just errors.
        matched, rest = group.split(RdpipeError)
        if matched is None or rest is not None:
            raise
        leaves = _leaves(matched)
        for leaf in {str(leaf): leaf for leaf in leaves}.values():  # one reason, said once
            _report(leaf)
        raise typer.Exit(max(int(leaf.exit_code) for leaf in leaves)) from None
    except KeyboardInterrupt:
        make_console(stderr=True).print("interrupted", style="yellow")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


def _report(error: RdpipeError) -> None:
    console = make_console(stderr=True)
    console.print("[bold red]error:[/] ", end="", markup=True)
    console.print(str(error), markup=False, highlight=False)


def _leaves(group: BaseExceptionGroup[RdpipeError]) -> list[RdpipeError]:
    found: list[RdpipeError] = []
    for item in group.exceptions:
        if isinstance(item, BaseExceptionGroup):
            found.extend(_leaves(item))
        else:
            found.append(item)
    return found
