"""Files and folders the environment will not let rdpipe write: one paragraph, never a crash log.

A full disk, a read-only mount, a missing permission or a folder where a file should be (or the
other way round) is nothing rdpipe got wrong, so it is no bug report: the user is told which
path, why, and what to do. Exit 2 when it is found before anything was sent (the README's
"invalid input, nothing was sent"), else 1, with the reminder that a rerun resumes what was paid
for. A run checks every path it writes (its folders, the clips' folders, the lock file, the
manifest, the video and what goes beside it) before it spends anything, raising the ``OSError``
writing them would raise (:meth:`rdpipe.session.workspace.Workspace.check_writable`); it is
said here like any other.

The path comes with the error: an ``OSError`` names its file, and where the system names none
(a write through an open descriptor), the code that was writing says which
(:class:`rdpipe.files.FileWriteFailed`). Whether anything was sent comes with it too
(:class:`rdpipe.send_record.StoppedAfterSending`, read by :func:`rdpipe.cli.app.run_command`).
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path, PurePath

from rdpipe.errors import ExitCode, RdpipeError

_FULL = ("the disk is full", "Free some space on it")
_FILE_IN_THE_WAY = (
    "a file is in the way of a folder on that path",
    "Remove or rename the file that stands where a folder should be",
)
_CAUSES: dict[int, tuple[str, str]] = {
    errno.ENOSPC: _FULL,
    errno.EDQUOT: ("your disk quota is used up", "Free some space within your quota"),
    errno.EROFS: (
        "it is on a read-only file system",
        "Make it writable (or move the pipeline to a writable folder)",
    ),
    errno.EACCES: ("permission denied", "Make the folder writable for this user"),
    errno.EPERM: ("the operation is not permitted", "Make the folder writable for this user"),
    errno.EISDIR: ("a folder is in the way of the file", "Remove or rename that folder"),
    errno.ENOTDIR: _FILE_IN_THE_WAY,
    # mkdir(exist_ok=True) where a file stands raises FileExistsError, naming that file.
    errno.EEXIST: _FILE_IN_THE_WAY,
}
# SQLite says it in words; "unable to open" is worked out from what is at the path.
_SQLITE_CAUSES = {
    "database or disk is full": _FULL,
    "attempt to write a readonly database": (
        "the file is read-only",
        "Make it writable (or move the pipeline to a writable folder)",
    ),
    "disk I/O error": (
        "the disk reported an input/output error (it may be full or failing)",
        "Check the disk and its free space",
    ),
}
# The temporary names rdpipe writes beside a file before renaming (rdpipe.files, the caches).
_TEMPORARY = re.compile(r"\.(?P<name>.+?)(?:\.[A-Za-z0-9_]+)?\.(?:tmp|partial)")


class PathNotWritable(RdpipeError):
    """rdpipe cannot write a file or folder it needs, for a reason of its environment."""

    def __init__(
        self, path: PurePath | None, cause: str, action: str, *, sent: bool, offline: bool = False
    ) -> None:
        self.path = path
        self.cause = cause
        self.exit_code = ExitCode.FAILED if sent else ExitCode.INVALID_INPUT
        what = f"cannot write {path}" if path is not None else "cannot write its files"
        if sent and offline:  # the built-in simulator: nothing is paid
            then = "run the same command again: the clips made are kept (nothing is paid offline)."
        elif sent:
            then = (
                "run the same command again: work already paid for is recorded, and it is not "
                "paid for twice."
            )
        else:
            then = "run the same command again; nothing was sent."
        super().__init__(f"rdpipe {what}: {cause}. {action}, then {then}")


def file_problem(
    error: BaseException, *, sent: bool, offline: bool = False
) -> PathNotWritable | None:
    """The paragraph for ``error`` if the environment caused it, else ``None`` (maybe a bug);
    ``offline``: the command ran on the built-in simulator, where nothing is paid."""
    import sqlite3

    if isinstance(error, sqlite3.Error):
        return _sqlite_problem(error, sent=sent, offline=offline)
    if not isinstance(error, OSError) or error.errno not in _CAUSES:
        return None
    path = _named_path(error)
    cause, action = _CAUSES[error.errno]
    if error.errno in (errno.ENOSPC, errno.EDQUOT) and path is not None:
        action = f"{action} (the disk that holds {path.parent})"
    return PathNotWritable(path, cause, action, sent=sent, offline=offline)


def _sqlite_problem(
    error: BaseException, *, sent: bool, offline: bool = False
) -> PathNotWritable | None:
    """SQLite's own words for a full or read-only disk; the database it names no path for.

    Opening the state database and writing to it are said by :mod:`rdpipe.state` itself, with
    its path; what reaches here escaped a read.
    """
    if str(error) not in _SQLITE_CAUSES:
        return None
    cause, action = _SQLITE_CAUSES[str(error)]
    return PathNotWritable(None, cause, action, sent=sent, offline=offline)


def _named_path(error: OSError) -> PurePath | None:
    """The path ``error`` names (the target of a failed rename), if any.

    A temporary file written beside its target (``.film.yaml.k2j4x9.tmp``) is named as the
    target (``film.yaml``): that is the file the user knows.
    """
    for name in (error.filename2, error.filename):  # a rename fails at its target
        if isinstance(name, str | bytes | PurePath) and name:
            path = Path(os.fsdecode(name))
            temporary = _TEMPORARY.fullmatch(path.name)
            return path.with_name(temporary["name"]) if temporary else path
    return None
