"""Errors of the shared clip store: each composes its own message for the person running rdpipe.

A setting that is wrong (a bad ``rdpipe.toml``, an unknown scheme, a missing back-end package)
is the user's input: exit code 2, before anything is sent. A store that cannot be reached or
refuses an operation, or a clip that arrives damaged, is a failure of that operation (exit 1):
the caller keeps its local clip and may carry on without the store.
"""

from __future__ import annotations

from rdpipe.errors import ExitCode, RdpipeError


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


class RemoteUnavailable(RemoteError):
    """An operation on the shared store failed: unreachable, refused, or credentials missing.

    ``action`` says what was being done (``"read the index entry"``), ``path`` where in the
    store, ``reason`` the back-end's own words. The underlying exception is chained.
    """

    def __init__(self, url: str, action: str, path: str, reason: str) -> None:
        self.url = url
        self.action = action
        self.path = path
        self.reason = reason
        super().__init__(
            f"Could not {action} in the shared clip store {url} ({path}): {reason}",
            hint=(
                "Check the network and the store's credentials (the back-end's own settings, "
                "such as AWS_PROFILE or AWS_ACCESS_KEY_ID for s3://); the local clips are kept."
            ),
        )


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
    """A clip read from the store does not hash to the sha256 it is stored under; not kept."""

    def __init__(self, url: str, sha256: str, actual: str) -> None:
        self.url = url
        self.sha256 = sha256
        self.actual = actual
        super().__init__(
            f"The clip {sha256} in the shared clip store {url} is damaged: its bytes hash to "
            f"{actual}. Nothing was written.",
            hint="Push a good copy again (`rdpipe push`) from a machine that has the clip.",
        )


class LocalClipMismatch(RemoteError):
    """A clip to push does not match the index entry describing it (size or sha256)."""

    def __init__(self, path: str, field: str, expected: str, actual: str) -> None:
        self.path = path
        self.field = field
        super().__init__(
            f"Not pushed: {path} has {field} {actual}, but its entry says {expected}.",
            hint="The local clip changed since it was recorded; run again to verify it.",
        )
