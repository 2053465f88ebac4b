"""The ``rdpipe`` console script: small, so that it can catch what arrives before the CLI loads.

Importing the command line takes a few tenths of a second; a Ctrl-C in that time, or in click's
argument parsing, used to end in a traceback or in silence. Here every path ends the same way:
Ctrl-C says ``interrupted`` (exit 130), a closed or broken standard output says so in one line
(exit 141, :mod:`rdpipe.standard_streams`), anything else is the command's own exit code. This
module imports nothing at its top but ``sys`` and ``_signal`` (the C module under
:mod:`signal`, already loaded: ``signal.py`` itself would import ``enum`` and ``functools``, a few
milliseconds in which a Ctrl-C showed a traceback), so that the time in which a Ctrl-C can still
show one is Python's own start-up and the loading of this module.
"""

import sys

TYPE_CHECKING = False  # not typing's: importing typing would widen the window for a traceback
if TYPE_CHECKING:
    import signal
    from typing import Any

    from rdpipe.standard_streams import GuardedStream
else:
    import _signal as signal  # the same signal(), SIGINT and SIG_IGN; no Python-level imports

INTERRUPTED_EXIT = 130


def main() -> None:
    """Run the command line and exit with its code; no traceback on Ctrl-C or a closed output."""
    try:
        code = _run()
    except KeyboardInterrupt:
        code = _interrupted()
    except BaseException as error:  # sorted out in _stopped, re-raised unless a closed output
        code = _stopped(error)
    # A Ctrl-C that landed in code run by exec() (dataclasses and namedtuple build methods so)
    # sets CPython's "unhandled KeyboardInterrupt" flag even when it was handled, and the
    # interpreter then kills itself with SIGINT at exit instead of exiting with our code.
    # Running one statement through exec() clears the flag (pythonrun.c run_eval_code_obj).
    exec("pass")
    sys.exit(code)


def _run() -> int:
    sys.unraisablehook = _redeliver_lost_interrupts
    only_version = sys.argv[1:] == ["--version"]  # answered without loading the command line
    guards = _quietly_loaded(load_cli=not only_version)
    code = _print_version() if only_version else _invoke()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # a failure now is still reported, not printed at interpreter exit
    failed = next((guard.failure for guard in guards if guard.failure is not None), None)
    if failed is not None:  # a write from another thread found the stream closed
        raise failed
    return code


def _quietly_loaded(load_cli: bool = True) -> "list[GuardedStream]":  # quoted: no __future__
    """Guard the standard streams and import the command line (unless not ``load_cli``),
    holding Ctrl-C back meanwhile.

    A KeyboardInterrupt raised in the middle of an import leaves modules half-loaded (and one
    raised inside importlib's own callbacks is printed and lost), so a Ctrl-C now is noted and
    raised once the imports are done.
    """
    pending: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: pending.append(number))
    try:
        from rdpipe.standard_streams import guard_standard_streams

        guards = guard_standard_streams()
        if load_cli:
            import rdpipe.cli  # noqa: F401 - the slow part: typer, rich and every command module
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        raise KeyboardInterrupt
    return guards


def _print_version() -> int:
    """``rdpipe --version`` alone: the version line, in a few milliseconds (no typer, no rich).
    With other arguments, the command line's own ``--version`` answers."""
    from rdpipe.version import version_line

    sys.stdout.write(version_line() + "\n")
    return 0


def _redeliver_lost_interrupts(unraisable: "Any") -> None:
    """Send again a Ctrl-C that landed where Python can only print it and drop it.

    A KeyboardInterrupt raised inside a weakref callback (importlib's module-lock clean-up runs
    in one on every import) is "Exception ignored": a traceback on stderr, and the command goes
    on as if no Ctrl-C came. The signal is sent again a moment later from another thread
    (raised here, it would land in this hook and be dropped again), in ordinary code.
    """
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        import os
        import threading

        resend = threading.Timer(0.05, os.kill, args=(os.getpid(), signal.SIGINT))
        resend.daemon = True
        resend.start()
        return
    sys.__unraisablehook__(unraisable)


def _invoke() -> int:
    """Run typer's app with click's own handling off, so every ending is decided here."""
    import typer
    from typer.exceptions import TyperException

    from rdpipe.cli import app
    from rdpipe.cli.app import InterruptionReported

    try:
        result = app(standalone_mode=False, prog_name="rdpipe")
    except InterruptionReported:  # the command said "interrupted" already
        return INTERRUPTED_EXIT
    except typer.Abort:  # click's "Aborted!": Ctrl-C or Ctrl-D at a prompt
        raise KeyboardInterrupt from None
    except TyperException as error:  # a usage error: click says it as it always does
        show = getattr(error, "show", None)
        if show is not None:
            show()
        else:
            sys.stderr.write(f"Error: {error.format_message()}\n")
        return error.exit_code
    except Exception as error:  # outside any command's run_command: the same mapping, no trace
        return _mapped(error)
    code = result if isinstance(result, int) else 0
    if code == INTERRUPTED_EXIT:
        raise KeyboardInterrupt  # typer turned a Ctrl-C outside a command body into a bare 130
    return code


def _mapped(error: Exception) -> int:
    """The exit code (and message) ``run_command`` gives ``error``."""
    import typer

    from rdpipe.cli.app import InterruptionReported, run_command
    from rdpipe.cli.context import CommandContext

    def fail() -> None:
        raise error

    try:
        run_command(fail, CommandContext.start())
    except typer.Exit as done:
        return done.exit_code
    except InterruptionReported:  # a Ctrl-C a library reported as its own error
        return INTERRUPTED_EXIT
    return 1  # run_command always exits for a raised error; this keeps the types honest


def _interrupted() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the goodbye
    try:
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
    except BaseException:  # the output may be closed too; the exit code says it all
        pass
    return INTERRUPTED_EXIT


def _stopped(error: BaseException) -> int:
    """Exit 141 for a closed output; anything else goes on up unchanged."""
    closed = sys.modules.get("rdpipe.standard_streams")
    if closed is None or not isinstance(error, closed.OutputClosed):
        raise error
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    closed.say_output_closed(error, sys.argv)
    return int(closed.OUTPUT_CLOSED_EXIT)
