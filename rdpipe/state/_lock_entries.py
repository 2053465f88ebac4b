"""The entries of the lock file (``<name>.rdpipe.lock``): a shot's key and model, a clip per take.

Written by :mod:`._lockfile`, read back by :mod:`._lock_reader`. Any field added later comes
with a new :data:`LOCK_VERSION`: a reader that skipped a field it does not know could give a
clip to a request it was not made for (as one skipping a take's ``key`` would).
"""

from __future__ import annotations

from dataclasses import dataclass

LOCK_VERSION = 1


@dataclass(frozen=True)
class TakeLock:
    """One take's clip as the lock file records it.

    ``sha256`` is the clip's hash (64 lowercase hex digits), ``duration`` its length in
    seconds as the server reported it, ``clip`` its path in the output folder.
    """

    take: int
    task_id: str
    clip: str
    sha256: str
    seed: int | None = None
    duration: float | None = None
    key: str | None = None  # this take's request key, when not the shot's (take 1's)


@dataclass(frozen=True)
class ShotLock:
    """One shot's entry in the lock file: its key, model and a clip per take."""

    shot_id: str
    key: str
    model: str | None
    takes: tuple[TakeLock, ...]
