"""The one error root of rdpipe, and the exit codes the CLI maps errors to.

Every error rdpipe raises on purpose derives from :class:`RdpipeError`. Each subclass takes
structured fields and composes its own message, written for the person running the pipeline:
what went wrong, where, and what to try next.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from rdpipe.hints import Invocation, Suggestion
from rdpipe.redaction import redact, redact_optional


class ExitCode(IntEnum):
    """Process exit codes shared by every command."""

    OK = 0
    FAILED = 1  # some work failed (a shot, an assembly); the rest was done
    INVALID_INPUT = 2  # the user's input is wrong; nothing was spent
    INTERRUPTED = 130  # Ctrl-C
    OUTPUT_CLOSED = 141  # stdout or stderr cannot be written (128 + SIGPIPE, as a shell reports)


class RdpipeError(Exception):
    """Root of every error rdpipe raises on purpose; ``str()`` is the user-facing message.

    Message and hint lose anything shaped like a credential (:func:`rdpipe.redaction.redact`)
    as they are made. The command's own API key, whatever its shape, is removed where the text
    leaves the process: each exit point (console, journal, manifest, crash log) holds the
    command's :class:`rdpipe.redaction.Redactor`.
    """

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(
        self, message: str, *, hint: str | None = None, suggestion: Suggestion | None = None
    ) -> None:
        if hint is None and suggestion is not None:
            hint = suggestion.render(None)
        message, hint = redact(message), redact_optional(hint)
        self.message = message
        self.hint = hint
        self.suggestion = suggestion
        super().__init__(message if hint is None else f"{message}\n{hint}")

    def address(self, invocation: Invocation) -> None:
        """Write the hint's command (:attr:`suggestion`, when there is one) as the user would
        paste it after running ``invocation``: their mode, their path to the file, quoted."""
        if self.suggestion is None:
            return
        self.hint = redact(self.suggestion.render(invocation))
        self.args = (f"{self.message}\n{self.hint}",)


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a pipeline file, located by file, line, column and field path.

    ``line`` and ``column`` are 1-based; 0 means "unknown". ``field`` is a path such as
    ``shots[2].seconds``. ``severity`` is ``"error"`` or ``"warning"``.
    """

    file: str
    line: int
    column: int
    field: str
    message: str
    severity: str = "error"

    def format(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        field = f" {self.field}:" if self.field else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}:{field} {prefix}{self.message}"


class PipelineInvalid(RdpipeError):
    """The pipeline file (or a file it includes) breaks one or more rules; nothing was sent."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = [d for d in diagnostics if d.severity == "error"]
        self.warnings = [d for d in diagnostics if d.severity != "error"]
        count = len(self.diagnostics)
        lines = [d.format() for d in diagnostics]
        noun = "error" if count == 1 else "errors"
        super().__init__(
            "\n".join(lines) + f"\n{count} {noun}; nothing was sent to the API.",
        )


class UsageError(RdpipeError):
    """A command-line argument is wrong (a bad ``--set``, a file that does not exist)."""

    exit_code = ExitCode.INVALID_INPUT
