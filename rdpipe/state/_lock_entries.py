"""The entries of the lock file (``<name>.rdpipe.lock``): a shot's key and model, a clip per take.

Written by :mod:`._lockfile`, read back by :mod:`._lock_reader`. Any field added later comes
with a new :data:`LOCK_VERSION`: a reader that skipped a field it does not know could give a
clip to a request it was not made for (as one skipping a take's ``key`` would). Version 2 added
a take's ``cost`` (issue 15); a lock file none of whose takes has one is still written as
version 1, so rdpipe before 2 reads it and git sees no change.
"""

from __future__ import annotations

from dataclasses import dataclass

LOCK_VERSION = 2
#: The versions this rdpipe reads: 1 (no costs) and :data:`LOCK_VERSION`.
LOCK_VERSIONS = (1, LOCK_VERSION)


@dataclass(frozen=True)
class TakeCost:
    """What a take's clip cost, as the relay settled it: ``quota`` units (the task's ``quota``)
    and the same in the display currency ``currency`` ("USD", "CNY" or "TOKENS") the run saw,
    converted with the unit the relay stated: ``settled`` = ``quota`` / ``quota_per_unit``
    (quota units per US dollar), times ``rate`` (yuan per dollar) for CNY; for TOKENS, the
    quota itself. ``expected``: the estimate it was sent with, in the same currency (``None``:
    not known). Figures are rounded to 6 decimals.
    """

    currency: str
    settled: float
    quota: int
    quota_per_unit: float
    expected: float | None = None
    rate: float | None = None  # CNY only


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
    cost: TakeCost | None = None  # what it cost (lock version 2); None: not known


@dataclass(frozen=True)
class ShotLock:
    """One shot's entry in the lock file: its key, model and a clip per take."""

    shot_id: str
    key: str
    model: str | None
    takes: tuple[TakeLock, ...]
