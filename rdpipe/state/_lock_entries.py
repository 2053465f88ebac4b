"""The entries of the lock file (``<name>.rdpipe.lock``): a shot's key and model, a clip per take.

Written by :mod:`._lockfile`, read back by :mod:`._lock_reader`. Any field added later comes
with a new :data:`LOCK_VERSION`: a reader that skipped a field it does not know could give a
clip to a request it was not made for (as one skipping a take's ``key`` would). Version 2 added
a take's ``cost`` (issue 15); a lock file none of whose takes has one is still written as
version 1, so rdpipe before 2 reads it and git sees no change. Version 3 added a shot's
renditions (issue 17): an entry per shot and rendition, named ``kite:draft`` (its draft takes),
``kite:vertical`` (regenerated for the deliverable ``vertical``) or ``kite`` (the storyboard's
clip, a drafted shot's final), and the final's ``from_draft``; a lock file without either is
written as version 1 or 2, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

LOCK_VERSION = 3
#: The versions this rdpipe reads: 1 (no costs), 2 (costs) and :data:`LOCK_VERSION`.
LOCK_VERSIONS = (1, 2, LOCK_VERSION)
#: The version that brought costs; :data:`LOCK_VERSION` brought renditions.
COSTS_VERSION = 2


@dataclass(frozen=True)
class TakeCost:
    """What a take's clip cost, as the relay settled it: ``quota`` units (the task's ``quota``)
    and the same in the display currency ``currency`` ("USD", "CNY" or "TOKENS") the run saw,
    converted with the unit the relay stated: ``settled`` = ``quota`` / ``quota_per_unit``
    (quota units per US dollar), times ``rate`` (yuan per dollar) for CNY; for TOKENS, the
    quota itself. ``expected``: the estimate it was sent with, in the same currency (``None``:
    not known). ``settled`` and ``quota`` are ``None`` when the relay stated no usable charge
    (its envelope had no ``quota``, or one no charge can be): the take keeps its ``expected``
    figure. Figures are rounded to 6 decimals.
    """

    currency: str
    settled: float | None
    quota: int | None
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
    """One shot's entry in the lock file: its key, model and a clip per take.

    ``rendition`` (version 3): which clips of the shot the entry holds, ``""`` the storyboard's
    (a drafted shot's final), ``"draft"`` its draft takes, else the name of the deliverable they
    were regenerated for. ``from_draft``: the draft take a drafted shot's final (or its
    regeneration) renders again with the same seed and inputs; ``None`` otherwise.
    """

    shot_id: str
    key: str
    model: str | None
    takes: tuple[TakeLock, ...]
    rendition: str = ""
    from_draft: int | None = None

    @property
    def name(self) -> str:
        """The entry's ``id:`` in the lock file: ``kite``, ``kite:draft``, ``kite:vertical``."""
        return f"{self.shot_id}:{self.rendition}" if self.rendition else self.shot_id

    @property
    def version(self) -> int:
        """The lowest lock version that can hold this entry (1 for one without costs)."""
        if self.rendition or self.from_draft is not None:
            return LOCK_VERSION
        return COSTS_VERSION if any(take.cost for take in self.takes) else 1
