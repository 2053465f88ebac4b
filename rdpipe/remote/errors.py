"""Errors of the shared clip store: each composes its own message for the person running rdpipe.

A setting that is wrong (a bad ``rdpipe.toml``, an unknown scheme, a missing back-end package)
is the user's input: exit code 2, before anything is sent. A store that cannot be reached or
refuses an operation, or a clip that arrives damaged, is a failure of that operation (exit 1):
the caller keeps its local clip and may carry on without the store.
"""

from __future__ import annotations

import errno as codes
import shlex
from typing import Literal

from rdpipe.errors import ExitCode, RdpipeError

_KEPT = "the local clips are kept."
_PERMISSIONS = f"Check the folder's owner and permissions: rdpipe may not do this there; {_KEPT}"
_FOLDER_HINTS = {
    codes.EACCES: _PERMISSIONS,
    codes.EPERM: _PERMISSIONS,
    codes.ENOSPC: f"The disk holding the shared folder is full: free some space there; {_KEPT}",
    codes.EDQUOT: f"Your quota on the shared folder's disk is used up: free some space; {_KEPT}",
    codes.EROFS: f"The shared folder is on a read-only file system: mount it read-write; {_KEPT}",
    codes.ENOTDIR: "A file stands where the store keeps a folder, in that path: move the file "
    f"away (rdpipe did not write it); {_KEPT}",
    codes.ENOENT: "A part of the shared folder is gone: is the share still mounted? The local "
    "clips are kept.",
}
_FOLDER_HINT = (
    "Check the shared folder: is the share mounted, and may rdpipe write there? The local clips "
    "are kept."
)


class RemoteError(RdpipeError):
    """Root of the errors raised by :mod:`rdpipe.remote`."""


class RemoteConfigInvalid(RemoteError):
    """Where the shared store is set, the setting is wrong; nothing was read or sent.

    ``source`` is the ``rdpipe.toml`` path, ``--remote`` or ``RDPIPE_REMOTE``; ``line`` is
    1-based (0: unknown, or not a file); ``field`` is the setting's dotted name (``remote.url``)
    or ``""`` for a syntax error.
    """

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, source: str, line: int, field: str, problem: str, hint: str) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.problem = problem
        where = f"{source}:{line}" if line else source
        named = f" {field}:" if field else ""
        super().__init__(f"{where}:{named} {problem}", hint=hint)


class RemoteBackendMissing(RemoteError):
    """The store's URL needs a back-end package that is not installed (``s3fs`` for ``s3://``)."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, url: str, package: str, extra: str) -> None:
        self.url = url
        self.package = package
        self.extra = extra
        super().__init__(
            f"The shared clip store {url} needs the Python package '{package}', "
            "which is not installed.",
            hint=f"Install it with: pip install 'rdpipe[{extra}]'",
        )


class SharedFolderMissing(RemoteError):
    """A ``file://`` store's folder is not there (checked when the store is opened).

    Never made silently: an unmounted share would become a private store on this disk, whose
    claims coordinate nobody. ``found`` is what is at ``folder`` instead: ``"nothing"``,
    ``"file"`` (a regular file), or ``"file-in-path"`` (a part of its path is a file).
    """

    exit_code = ExitCode.INVALID_INPUT

    def __init__(
        self, url: str, folder: str, found: Literal["nothing", "file", "file-in-path"]
    ) -> None:
        self.url = url
        self.folder = folder
        self.found = found
        if found == "nothing":
            message = f"The shared folder {folder} does not exist: is the share mounted?"
            hint = f"Create it once with `mkdir -p {shlex.quote(folder)}` if this is a new store."
        elif found == "file":
            message = f"The shared clip store {url} is a file, not a folder."
            hint = "Set the store to a folder (check the URL), or move that file away."
        else:
            message = f"The shared folder {folder} cannot exist: a part of its path is a file."
            hint = "Check the store's URL (--remote, RDPIPE_REMOTE or rdpipe.toml)."
        super().__init__(message, hint=hint)


class RemoteUnavailable(RemoteError):
    """An operation on the shared store failed: unreachable, refused, or credentials missing;
    for a ``file://`` store, the folder refused it (permissions, a full or read-only disk).

    ``action`` says what was being done (``"read the index entry"``), ``path`` where in the
    store, ``reason`` the back-end's own words; ``errno`` is the ``OSError``'s code for a
    ``file://`` store (``None``: not known), which picks what to try next. The underlying
    exception is chained.
    """

    def __init__(
        self, url: str, action: str, path: str, reason: str, *, errno: int | None = None
    ) -> None:
        self.url = url
        self.action = action
        self.path = path
        self.reason = reason
        self.errno = errno
        folder = url.removeprefix("file://") if url.startswith("file://") else None
        if folder is None:
            where = f"the shared clip store {url}"
            hint = (
                "Check the network and the store's credentials (the back-end's own settings, "
                f"such as AWS_PROFILE or AWS_ACCESS_KEY_ID for s3://); {_KEPT}"
            )
        else:
            where = f"the shared folder {folder}"
            hint = _FOLDER_HINTS.get(errno or 0, _FOLDER_HINT)
        super().__init__(f"Could not {action} in {where} ({path}): {reason}", hint=hint)


class RemoteClipMissing(RemoteError):
    """The store holds no clip under the sha256 asked for."""

    def __init__(self, url: str, sha256: str) -> None:
        self.url = url
        self.sha256 = sha256
        super().__init__(
            f"The shared clip store {url} has no clip {sha256}.",
            hint="Push it from a machine that has it (`rdpipe push`), or generate it again.",
        )


class RemoteClipCorrupt(RemoteError):
    """A clip read from the store does not hash to the sha256 it is stored under; not kept here.

    The damaged object (at ``path`` in the store) is removed from the store, so that the next
    push of the clip uploads it again; ``problem`` says why it was left there (``None``: it
    was removed).
    """

    def __init__(
        self, url: str, sha256: str, actual: str, path: str, *, problem: str | None = None
    ) -> None:
        self.url = url
        self.sha256 = sha256
        self.actual = actual
        self.path = path
        self.problem = problem
        damaged = f"The clip {sha256} in the shared clip store {url}"
        if problem is None:
            message = (
                f"{damaged} was damaged (its bytes hash to {actual}) and has been removed from "
                "the store; nothing was written here."
            )
            hint = "A push from a machine that has the clip (`rdpipe push`) restores it."
        else:
            message = (
                f"{damaged} is damaged (its bytes hash to {actual}) and was left there: "
                f"{problem}. Nothing was written here."
            )
            hint = (
                f"Pull again; if it is still damaged, remove {path} from the store and push the "
                "clip (`rdpipe push`) from a machine that has it."
            )
        super().__init__(message, hint=hint)


class LocalClipMismatch(RemoteError):
    """A clip to push does not match the index entry describing it (size or sha256)."""

    def __init__(self, path: str, field: str, expected: str, actual: str) -> None:
        self.path = path
        self.field = field
        super().__init__(
            f"Not pushed: {path} has {field} {actual}, but its entry says {expected}.",
            hint="The local clip changed since it was recorded; run again to verify it.",
        )
