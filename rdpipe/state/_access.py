"""Why a state file cannot be opened, told from the filesystem rather than from SQLite's words.

SQLite says "unable to open database file" for a read-only filesystem, a missing permission and
a directory where the file should be alike; ``os.access`` and ``statvfs`` tell them apart, so the
message names the real cause. Only a file SQLite reads as damaged is called damaged, and the
advice then says plainly what moving it aside would cost.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from rdpipe.files import on_read_only_filesystem
from rdpipe.hints import Suggestion

from ._errors import StateUnreadable

_DAMAGED_HINT = (
    "Keep the file: it lists the tasks already paid for. If it cannot be repaired (sqlite3 "
    "offers `.recover`), moving it aside makes the next run submit every shot anew, and each "
    "is billed again. The clips already downloaded (clips/ beside the video) and the task ids "
    "in the pipeline's .rdpipe.lock file are not affected."
)
_READ_ONLY_HINT = Suggestion.of(
    "status",
    "This command records what it does, so it needs a writable folder: run it in a writable "
    "copy of the pipeline's folder, .rdpipe/ included (so paid tasks are not submitted again). "
    "`{0}` works on a read-only checkout.",
)


def unusable(path: Path, error: BaseException, *, writing: bool) -> StateUnreadable:
    """The error for a state file that could not be opened or created (``error`` says how)."""
    said = _said(error)
    if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
        return StateUnreadable(
            path, f"the file is damaged or not an SQLite database ({said})", _DAMAGED_HINT
        )
    cause = access_problem(path, writing=writing)
    if cause is None:
        return StateUnreadable(
            path,
            f"it could not be opened ({said})",
            "Check the disk it is on (space, errors) and run again; do not delete the file: "
            "it lists the tasks already paid for.",
        )
    problem, hint = cause
    return StateUnreadable(path, f"{problem} ({said})", hint)


def access_problem(path: Path, *, writing: bool) -> tuple[str, str | Suggestion] | None:
    """What in the filesystem keeps ``path`` from being read (or written): a problem and a hint."""
    folder = path.parent
    if path.is_dir():
        return (
            "it is a directory, where rdpipe keeps a file",
            f"Rename or remove the directory {path} (rdpipe did not make it), then run again.",
        )
    if not folder.is_dir():
        return (
            f"its folder {folder} is missing or is not a folder",
            f"Make {folder} a folder again, then run again.",
        )
    owner = f"Run rdpipe as the user who owns {folder}, or fix its permissions (ls -l {folder})."
    if path.exists() and not os.access(path, os.R_OK):
        return "permission denied: this user may not read it", owner
    if not writing:
        return None
    if on_read_only_filesystem(folder):
        return "it is on a read-only filesystem", _READ_ONLY_HINT
    if path.exists() and not os.access(path, os.W_OK):
        return "permission denied: this user may not write to it", owner
    if not os.access(folder, os.W_OK):
        return (
            f"permission denied: this user may not create files in {folder} (SQLite keeps "
            "its journal beside the file)",
            owner,
        )
    return None


def _said(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)
