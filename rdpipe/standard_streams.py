"""Standard output and error that can no longer be written: a stop, not a bug.

``rdpipe run FILE --json | head -1`` closes the pipe after one line; ``>&-`` starts rdpipe with
no standard output at all; ``> /dev/full`` fails every write. None of these is a bug, so the
console script (:mod:`rdpipe.entry`) wraps both streams: the first failed write raises
:class:`OutputClosed`, which stops the command like Ctrl-C does (work already paid for is
recorded), and the entry point says so in one line on standard error, exit 141 (128 + SIGPIPE,
what a shell reports for a program stopped by a closed pipe). The line speaks of resuming only
for a command that can send paid work: a read-only one (:data:`READ_ONLY_COMMANDS`, or help)
has nothing to resume.

Light imports only: this runs before the command line is imported.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any, TextIO, cast

from rdpipe.errors import ExitCode

OUTPUT_CLOSED_EXIT = int(ExitCode.OUTPUT_CLOSED)
_NAMES = {1: "standard output", 2: "standard error"}
#: Commands that only read (the state, the lock file, the relay's public lists and balance):
#: stopped early, they leave no paid work behind to resume.
READ_ONLY_COMMANDS = frozenset(
    {"assets", "balance", "cost", "models", "plan", "schema", "status", "validate"}
)


class OutputClosed(BaseException):
    """Standard output or error cannot be written any more; the command stops where it is.

    A ``BaseException``, like ``KeyboardInterrupt``: no ``except Exception`` on the way up may
    turn it into a shot's failure or a crash report.
    """

    def __init__(self, stream: str, reason: str) -> None:
        self.stream = stream
        self.reason = reason
        super().__init__(f"{stream} {reason}")

    def line(self, *, reads_only: bool = False, offline: bool = False) -> str:
        """The one line said on standard error (when that is still open); ``reads_only``: the
        command sends no paid work, so the line does not speak of resuming it; ``offline``:
        nothing is paid (the built-in simulator), so it does not speak of paying."""
        stopped = f"rdpipe stopped: its {self.stream} {self.reason}."
        if reads_only:
            return f"{stopped}\n"
        if offline:
            return f"{stopped} Nothing is paid offline: run the same command again to finish.\n"
        return (
            f"{stopped} Work already paid for is recorded: run the same command again to "
            "resume it without paying twice.\n"
        )


def escape_undecodable(text: str) -> str:
    """``text`` with each byte of a file name that was not UTF-8 (Python's surrogate escape,
    ``\\udcff``) written ``\\xff``, and any other lone surrogate ``\\ud800``: what a terminal,
    a log and a JSON parser can all take, the same on standard output and error (issue 16 §5).
    """
    if not any("\ud800" <= character <= "\udfff" for character in text):
        return text
    return "".join(
        character if not "\ud800" <= character <= "\udfff"
        else f"\\x{ord(character) - 0xDC00:02x}" if "\udc80" <= character <= "\udcff"
        else f"\\u{ord(character):04x}"
        for character in text
    )  # fmt: skip


class GuardedStream:
    """A text stream whose failed writes raise :class:`OutputClosed` once, then go nowhere.

    The failed descriptor is pointed at ``/dev/null`` (as Python's documentation advises for
    SIGPIPE), so what is still buffered and later writes cost nothing and raise nothing. Only
    the main thread raises: a write from a server or refresh thread is recorded instead, and
    the entry point reports it when the command ends.
    """

    def __init__(self, inner: TextIO, descriptor: int) -> None:
        self._inner = inner
        self._descriptor = descriptor
        self.failure: OutputClosed | None = None

    def write(self, text: str) -> int:
        if self.failure is None:
            try:
                return self._inner.write(escape_undecodable(text))
            except (OSError, ValueError) as error:
                self._fail(error)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self.failure is None:
            try:
                self._inner.flush()
            except (OSError, ValueError) as error:
                self._fail(error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _fail(self, error: OSError | ValueError) -> None:
        if isinstance(error, ValueError) and not self._inner.closed:
            raise error  # an encoding error, say: not a closed stream
        if isinstance(error, BlockingIOError):
            raise error
        self.failure = OutputClosed(_NAMES[self._descriptor], _reason(error))
        _point_at_null(self._descriptor)
        if threading.current_thread() is threading.main_thread():
            raise self.failure from error


def guard_standard_streams() -> list[GuardedStream]:
    """Wrap ``sys.stdout`` and ``sys.stderr``; raise :class:`OutputClosed` if one is closed.

    Closed descriptors 0 to 2 are first given ``/dev/null``: otherwise the next file rdpipe
    opens (the state database) would get number 1, and the console would write into it.
    """
    closed = [descriptor for descriptor in (0, 1, 2) if not _is_open(descriptor)]
    for descriptor in closed:
        _point_at_null(descriptor)
    guards = []
    for descriptor, name in ((1, "stdout"), (2, "stderr")):
        inner = getattr(sys, name)
        if inner is None or descriptor in closed:
            inner = io.TextIOWrapper(
                io.FileIO(descriptor, "w", closefd=False), encoding="utf-8", line_buffering=True
            )
        guard = GuardedStream(inner, descriptor)
        setattr(sys, name, cast(TextIO, guard))
        guards.append(guard)
    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as we do
    for descriptor in closed:
        if descriptor in _NAMES:
            raise OutputClosed(_NAMES[descriptor], "is closed")
    return guards


def say_output_closed(closed: OutputClosed, argv: Sequence[str]) -> None:
    """Write ``closed``'s line straight to descriptor 2, if anything still reads it; ``argv``
    (``sys.argv``) tells the command, and whether it only reads (:func:`reads_only`)."""
    with contextlib.suppress(OSError):
        line = closed.line(reads_only=reads_only(argv), offline=runs_offline(argv, os.environ))
        os.write(2, line.encode("utf-8"))


def runs_offline(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether ``argv`` runs offline: ``--offline`` before any ``--``, or ``RDPIPE_OFFLINE``
    set to a yes (``1``, ``true``, ``yes``, ``on``)."""
    words = list(argv[1:])
    options = words[: words.index("--")] if "--" in words else words
    wanted = environ.get("RDPIPE_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    return "--offline" in options or wanted


def reads_only(argv: Sequence[str]) -> bool:
    """Whether ``argv`` (``sys.argv``: the program, then its arguments) runs a command in
    :data:`READ_ONLY_COMMANDS`, help (``-h``/``--help``) or no command at all."""
    words = list(argv[1:])
    if not words or words[0].startswith("-") or "--help" in words or "-h" in words:
        return True
    return words[0] in READ_ONLY_COMMANDS


def _reason(error: OSError | ValueError) -> str:
    code = error.errno if isinstance(error, OSError) else errno.EBADF
    if code == errno.EPIPE:
        return "was closed (the program reading it stopped)"
    if code in (errno.EBADF, errno.EINVAL):
        return "is closed"
    if code in (errno.ENOSPC, errno.EDQUOT):
        return "goes to a full device"
    return f"cannot be written ({os.strerror(code) if code else error})"


def _is_open(descriptor: int) -> bool:
    try:
        os.fstat(descriptor)
    except OSError:
        return False
    return True


def _point_at_null(descriptor: int) -> None:
    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    if null != descriptor:
        with contextlib.suppress(OSError):
            os.dup2(null, descriptor)
        os.close(null)
