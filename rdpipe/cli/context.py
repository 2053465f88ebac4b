"""What one command reads from outside and writes to: the environment, read once, and its two
consoles, built once and passed down (issue 12 §5)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from rich.console import Console

from rdpipe.cli.prose import ProseWrap
from rdpipe.redaction import Redactor

if TYPE_CHECKING:
    from rdpipe.client.retry import OnRetry, RetryNotice


@dataclass(frozen=True)
class CommandContext:
    """One command's outside world, as its body and :func:`~rdpipe.cli.app.run_command` see it.

    ``environ`` is the environment as the command found it (the API key, base URL, ffmpeg, and
    what the consoles read: ``COLUMNS``, ``NO_COLOR``, ``TERM``...); ``out`` and ``err`` are the
    consoles on standard output and standard error, which print text as written (no markup);
    ``redactor`` takes ``environ``'s API key
    out of whatever the command says or keeps.
    """

    environ: Mapping[str, str]
    out: Console
    err: Console
    redactor: Redactor
    verbosity: int = 0

    @classmethod
    def start(cls) -> CommandContext:
        """Read ``os.environ`` once and build the consoles on the standard streams of now.

        Called when a command starts, so that a test runner's swapped streams are the ones
        written to. A console's width and whether it is a terminal are read at each print, so
        a pipe gets 80 columns (or ``COLUMNS``) and a terminal its own width, as before.
        ``verbosity`` is what ``rdpipe -q``/``-v`` set on click's root context for this
        command (:class:`GlobalOptions`), 0 outside one.
        """
        environ = dict(os.environ)
        return cls(
            environ=environ,
            out=_console(sys.stdout, environ),
            err=_console(sys.stderr, environ),
            redactor=Redactor.from_environ(environ),
            verbosity=_verbosity(),
        )

    @property
    def quiet(self) -> bool:
        """``-q``: no live view, no progress, no notes; errors and the final summary only."""
        return self.verbosity < 0

    @property
    def verbose(self) -> bool:
        """``-v``: each retry and back-off is said, one line each."""
        return self.verbosity > 0

    def retry_teller(self) -> OnRetry | None:
        """With ``-v``, what tells each retry of a request as one line on standard error
        (``retrying GET /v1/... in 2.0 s (HTTP 503, attempt 2 of 6)``); else ``None``."""
        if not self.verbose:
            return None

        def say(notice: RetryNotice) -> None:
            self.err.print(self.redactor.redact(str(notice)))

        return say


@dataclass(frozen=True)
class GlobalOptions:
    """The options given before the command (``rdpipe -v run ...``), kept as click's root
    context's ``obj`` for the command's :meth:`CommandContext.start` to read.

    ``verbosity``: -1 with ``-q/--quiet``, 0 normally, 1 with ``-v/--verbose``.
    """

    verbosity: int = 0


def _verbosity() -> int:
    """The running command's ``GlobalOptions.verbosity`` (0 when no click command runs)."""
    try:  # typer 0.22+ runs its own copy of click, with its own stack of contexts
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - an older typer, on click itself
        from click import get_current_context  # type: ignore[no-redef]

    context = get_current_context(silent=True)
    options = None if context is None else context.find_root().obj
    return options.verbosity if isinstance(options, GlobalOptions) else 0


def _console(stream: TextIO, environ: Mapping[str, str]) -> Console:
    """A console that prints text as written: no markup (a print that styles with it passes
    ``markup=True``), no highlighting; data such as ``[/]`` or ``[redacted]`` stays literal.
    On a terminal, lines break between words (:class:`~rdpipe.cli.prose.ProseWrap`)."""
    console = Console(file=stream, markup=False, highlight=False, soft_wrap=True, _environ=environ)
    console.push_render_hook(ProseWrap(console))
    return console
