"""An exception nobody expected: one paragraph for the user, the traceback in a log file.

A bug must not greet a film-maker with sixty lines of traceback (issue 10), and must not lose the
traceback either: it goes to ``crash-<time>-<pid>.log`` in the pipeline's ``.rdpipe/`` folder when
the command has one, else in the user's cache folder, else in the temp folder. The command's
redactor removes the API key from both the paragraph and the file.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

from rdpipe.errors import RdpipeError
from rdpipe.redaction import Redactor
from rdpipe.state import prepare_state_dir

_SUMMARY_LIMIT = 300


class CrashReport(RdpipeError):
    """The paragraph shown for an unexpected exception (a bug); the traceback is in ``log``."""

    def __init__(self, summary: str, log: Path | None, *, offline: bool = False) -> None:
        self.summary = summary
        self.log = log
        where = (
            f"The details are in {log}; please include that file in a bug report."
            if log is not None
            else "No crash log could be written; rerun with the same arguments to see it again."
        )
        safe = (
            "Nothing is paid offline, and the clips made are kept, so running the same command "
            "again picks up where this one stopped."
            if offline
            else "Work already paid for is safe: submitted tasks and downloaded clips are "
            "recorded as they happen, so running the same command again picks up where this "
            "one stopped without paying twice."
        )
        super().__init__(
            f"rdpipe stopped on an unexpected error: {summary}. This is a bug in rdpipe, not a "
            f"problem with your pipeline. {safe} {where}"
        )


def report_crash(
    error: BaseException,
    *,
    state_dir: Path | None,
    environ: Mapping[str, str],
    argv: Sequence[str],
    redactor: Redactor,
) -> CrashReport:
    """Write the traceback of ``error`` to a crash log and return the paragraph that names it.

    ``environ`` tells where the user's cache folder is; ``redactor`` takes the command's
    secrets out of the paragraph and the log.
    """
    summary = redactor.redact(_summary(error))
    text = "".join(traceback.format_exception(error))
    header = (
        f"rdpipe crash report, {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n"
        f"command: {' '.join(argv)}\n"
        f"python: {sys.version.split()[0]} on {sys.platform}\n\n"
    )
    log = _write_log(redactor.redact(header + text), state_dir, _other_dirs(environ))
    from rdpipe.standard_streams import runs_offline

    return CrashReport(summary, log, offline=runs_offline(argv, environ))


def _summary(error: BaseException) -> str:
    """The first error inside any task-group wrappers, one line, noting how many others differ."""
    lines = list(dict.fromkeys(_line(leaf) for leaf in _leaves(error)))
    others = len(lines) - 1
    more = f" (and {others} other error{'s' if others > 1 else ''})" if others else ""
    return lines[0] + more


def _line(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    text = type(error).__name__ + (f": {message[0]}" if message else "")
    if len(text) > _SUMMARY_LIMIT:
        text = text[: _SUMMARY_LIMIT - 1] + "…"
    return text.rstrip(".")


def _leaves(error: BaseException) -> list[BaseException]:
    if not isinstance(error, BaseExceptionGroup):
        return [error]
    return [leaf for item in error.exceptions for leaf in _leaves(item)]


def _other_dirs(environ: Mapping[str, str]) -> list[Path]:
    cache = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return [Path(cache) / "rdpipe", Path(tempfile.gettempdir())]


def _write_log(text: str, state_dir: Path | None, others: list[Path]) -> Path | None:
    """Write the log to the first folder that takes all of it; ``None`` if none does.

    A folder on a full or read-only disk is skipped, and what it took of the log is removed:
    a log is named to the user only when every byte of it is on disk.
    """
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    first = [state_dir] if state_dir is not None and state_dir.parent.is_dir() else []
    data = text.encode("utf-8", "backslashreplace")
    for folder in first + others:
        try:
            if folder == state_dir:
                prepare_state_dir(folder)  # with its .gitignore of "*": logs stay out of git
            else:
                folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        path = folder / name
        if _write_whole(path, data):
            return path
    return None


def _write_whole(path: Path, data: bytes) -> bool:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return False
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()
        return False
    return True
