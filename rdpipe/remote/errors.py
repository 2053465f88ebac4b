"""Errors of the shared clip store: each composes its own message for the person running rdpipe.

Each has two forms: :attr:`~rdpipe.errors.RdpipeError.message`, a sentence (or a few) to show
alone, and :attr:`RemoteError.reason`, one lower-case clause without a final full stop, to put
inside a sentence of the caller's ("its clip was not pushed to the shared store: <reason>").

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
from rdpipe.hints import Suggestion
from rdpipe.redaction import redact

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
    """Root of the errors raised by :mod:`rdpipe.remote`; see :attr:`reason`."""

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        hint: str | None = None,
        suggestion: Suggestion | None = None,
    ) -> None:
        super().__init__(message, hint=hint, suggestion=suggestion)
        self._reason = redact(reason)

    @property
    def reason(self) -> str:
        """What went wrong as one lower-case clause, no final full stop, to go inside a
        sentence: ``"could not read the index entry in the shared clip store s3://b/p
        (index/<key>/1.json): AccessDenied"``. Credentials are redacted, as in the message."""
        return self._reason


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
        setting = f"{where} ({field})" if field else where
        super().__init__(
            f"{where}:{named} {problem}",
            reason=f"the shared store's setting in {setting} is wrong: {problem}",
            hint=hint,
        )


class RemoteBackendMissing(RemoteError):
    """The store's URL needs a back-end package that is not installed (``s3fs`` for ``s3://``)."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, url: str, package: str, extra: str) -> None:
        self.url = url
        self.package = package
        self.extra = extra
        needs = f"the shared clip store {url} needs the Python package '{package}'"
        super().__init__(
            f"{_capital(needs)}, which is not installed.",
            reason=f"{needs}, which is not installed (pip install 'rdpipe[{extra}]')",
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
            reason = f"the shared folder {folder} does not exist"
            message = f"The shared folder {folder} does not exist: is the share mounted?"
            hint = f"Create it once with `mkdir -p {shlex.quote(folder)}` if this is a new store."
        elif found == "file":
            reason = f"the shared clip store {url} is a file, not a folder"
            message = f"The shared clip store {url} is a file, not a folder."
            hint = "Set the store to a folder (check the URL), or move that file away."
        else:
            reason = f"the shared folder {folder} cannot exist: a part of its path is a file"
            message = f"The shared folder {folder} cannot exist: a part of its path is a file."
            hint = "Check the store's URL (--remote, RDPIPE_REMOTE or rdpipe.toml)."
        super().__init__(message, reason=reason, hint=hint)


class RemoteUnavailable(RemoteError):
    """An operation on the shared store failed: unreachable, refused, or credentials missing;
    for a ``file://`` store, the folder refused it (permissions, a full or read-only disk).

    ``action`` says what was being done (``"read the index entry"``), ``path`` where in the
    store, ``detail`` the back-end's own words (``"AccessDenied"``); ``errno`` is the
    ``OSError``'s code for a ``file://`` store (``None``: not known), which picks what to try
    next. The underlying exception is chained. :attr:`reason` names the path relative to the
    store's root when it lies under it.
    """

    def __init__(
        self, url: str, action: str, path: str, detail: str, *, errno: int | None = None
    ) -> None:
        self.url = url
        self.action = action
        self.path = path
        self.detail = detail
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
        super().__init__(
            f"Could not {action} in {where} ({path}): {detail}",
            reason=f"could not {action} in {where} ({_relative(url, path)}): {detail}",
            hint=hint,
        )


def _braced(text: str) -> str:
    """``text`` as a literal inside a :class:`Suggestion`'s sentence (braces doubled)."""
    return text.replace("{", "{{").replace("}", "}}")


def _relative(url: str, path: str) -> str:
    """``path`` relative to the root ``url`` names, when it lies under it (a folder's path, or
    ``bucket/prefix``); else ``path`` as it is."""
    root = url.split("://", 1)[-1].rstrip("/")
    return path.removeprefix(f"{root}/") if root and path.startswith(f"{root}/") else path


class RemoteClipMissing(RemoteError):
    """The store holds no clip under the sha256 asked for."""

    def __init__(self, url: str, sha256: str) -> None:
        self.url = url
        self.sha256 = sha256
        super().__init__(
            f"The shared clip store {url} has no clip {sha256}.",
            reason=f"the shared clip store {url} has no clip {sha256}",
            suggestion=Suggestion.of(
                "push", "Push it from a machine that has it (`{0}`), or generate it again."
            ),
        )


class RemoteClipCorrupt(RemoteError):
    """A clip read from the store did not hash to the sha256 it is stored under; not kept here.

    One bad read proves nothing about the object (a flaky proxy, a bit flip on this machine),
    so the object was read a second time, hashing only, before anything was done to it:

    - the second read hashed wrong too: the object was moved from ``path`` to ``moved_to``
      (``<root>/damaged/<sha256>-<epoch>.mp4``), never deleted, so that the clip's name is free
      for the next push of a good copy and nothing paid for is destroyed
      (:attr:`store_damaged`);
    - else it was left at ``path``, and ``problem`` says why: the second read hashed right
      (``whole``: the store's copy is good, this read was damaged on its way here), a new copy
      arrived while it was read, or the store refused to move it.

    ``actual`` is the first read's sha256 (lowercase hex); paths are the store's (with its root).
    """

    def __init__(
        self,
        url: str,
        sha256: str,
        actual: str,
        path: str,
        *,
        moved_to: str | None = None,
        problem: str | None = None,
        whole: bool = False,
    ) -> None:
        self.url = url
        self.sha256 = sha256
        self.actual = actual
        self.path = path
        self.moved_to = moved_to
        self.problem = problem
        self.whole = whole
        clip = f"the clip {sha256} in the shared clip store {url}"
        if moved_to is not None:
            reason = f"{clip} is damaged and was moved to {moved_to}"
            message = (
                f"{_capital(clip)} is damaged (read twice, its bytes never hashed to its name; "
                f"the first read to {actual}) and was moved to {moved_to} in the store; nothing "
                "was written here."
            )
            hint = (
                "A push from a machine that has the clip (`{0}`) restores it; the damaged "
                f"copy stays at {_braced(moved_to)} until someone removes it."
            )
        elif whole:
            reason = f"{clip} arrived damaged here, though the copy there is whole: {problem}"
            message = (
                f"{_capital(clip)} arrived damaged (its bytes hash to {actual}) and was left "
                f"there: {problem}. Nothing was written here."
            )
            hint = "Pull again (`{0}`): the network, a proxy or this machine damaged that read."
        else:
            reason = f"{clip} is damaged and was left there: {problem}"
            message = (
                f"{_capital(clip)} is damaged (its bytes hash to {actual}) and was left there: "
                f"{problem}. Nothing was written here."
            )
            hint = (
                f"Pull again; if it is still damaged, move {_braced(path)} out of the store (to "
                "its damaged/ folder) and push the clip (`{0}`) from a machine that has it."
            )
        verb = "pull" if whole and moved_to is None else "push"
        super().__init__(message, reason=reason, suggestion=Suggestion.of(verb, hint))

    @property
    def store_damaged(self) -> bool:
        """Whether the store's copy proved damaged (read wrong twice) and was moved aside."""
        return self.moved_to is not None


class LocalClipMismatch(RemoteError):
    """A clip to push does not match the index entry describing it (size or sha256)."""

    def __init__(self, path: str, field: str, expected: str, actual: str) -> None:
        self.path = path
        self.field = field
        mismatch = f"{path} has {field} {actual}, but its entry says {expected}"
        super().__init__(
            f"Not pushed: {mismatch}.",
            reason=f"the local clip changed since it was recorded: {mismatch}",
            hint="The local clip changed since it was recorded; run again to verify it.",
        )


class CannotPublish(RemoteError):
    """The shared store cannot publish a media file: it cannot hand out presigned GET URLs.

    A shared folder, ssh or memory store never can; an S3, GCS or Azure store cannot when its
    credentials cannot sign (``problem`` says which). Nothing was published. A setting to
    change (exit code 2): the hint names the ways out.
    """

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        self.problem = problem
        cannot = f"the shared clip store {url} cannot publish media files for the relay"
        super().__init__(
            f"{_capital(cannot)}: {problem}.",
            reason=f"{cannot}: {problem}",
            hint=(
                "Host the file another way: give the reference as an http(s) URL, set the shared "
                "store (--remote, RDPIPE_REMOTE or rdpipe.toml) to an S3, GCS or Azure bucket "
                "whose credentials can sign URLs, or, for an image, send it inline "
                "(send_as: inline)."
            ),
        )


class LocalMediaMismatch(RemoteError):
    """A media file to publish does not hash to the md5 it is published under (it changed
    after it was read); nothing was published. ``source`` is its path, or ``"the bytes
    given"``; ``expected`` and ``actual`` are md5s in lowercase hex."""

    def __init__(self, source: str, expected: str, actual: str) -> None:
        self.source = source
        self.expected = expected
        self.actual = actual
        mismatch = f"{source} hashes to md5 {actual}, not the {expected} it was read with"
        super().__init__(
            f"Not published: {mismatch}.",
            reason=f"the media file changed since it was read: {mismatch}",
            hint="The file changed while rdpipe was using it; run again once it is written.",
        )


def _capital(clause: str) -> str:
    return clause[0].upper() + clause[1:]
