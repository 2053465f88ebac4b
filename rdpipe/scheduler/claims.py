"""Two machines, one store, one payment (issue 13 §4): claims on the shots a run would pay for.

Before submitting a new shot, a run claims its key and take in the shared clip store with an
atomic create-if-absent (:meth:`~rdpipe.remote.SharedClipStore.claim`). A shot another live run
holds is not submitted: this run waits for its clip to appear in the store's index, polling,
and restores it from there. A claim whose holder stopped beating for the store's claim timeout,
or released without a clip (its shot failed), is taken over, and the shot is generated here.
While the run goes on, its claims are kept alive (:func:`keeping_alive`); at its end they are
released.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import anyio
import anyio.to_thread

from rdpipe.plan import Job
from rdpipe.remote import Claim, HeldBy, IndexEntry, RemoteError, SharedClipStore

#: Seconds between two looks at a shot another run is generating.
WAIT_POLL = 1.0

Clock = Callable[[], float]


@dataclass
class Claimed:
    """The claims a run holds, and the shots other runs made while it waited."""

    claims: list[Claim] = field(default_factory=list)
    # Shots another run made while this one waited, with the store's entry: restore these.
    arrived: list[tuple[Job, IndexEntry]] = field(default_factory=list)


async def claim_or_wait(
    jobs: Sequence[Job],
    shared: SharedClipStore,
    owner: str,
    *,
    clock: Clock,
    on_wait: Callable[[Job, HeldBy], None],
    poll: float = WAIT_POLL,
) -> Claimed:
    """Claim each job's key and take, in key order; wait for a shot another live run holds
    until its clip is indexed (it is then in :attr:`Claimed.arrived`) or its claim can be taken
    over. ``on_wait`` hears of each shot this run starts waiting for.

    Claims are taken in one order by every run (the keys'), so two runs wanting the same
    shots never each hold one the other waits for; the claims held are kept alive while
    waiting. A claim taken over from a run that stopped or released it is given back when the
    index already holds that shot's clip. On any error or cancellation the claims taken are
    released. Raises the store's :class:`~rdpipe.remote.RemoteError` when it fails: a run that
    cannot claim does not pay (a teammate may be generating the same shot).
    """
    claimed = Claimed()
    beat = _Heartbeats(shared, clock)
    try:
        for job in sorted(jobs, key=lambda job: (job.key, job.shot.take)):
            answer = await _claim(shared, job, owner, clock)
            if isinstance(answer, HeldBy):
                on_wait(job, answer)
            while isinstance(answer, HeldBy):
                await anyio.sleep(poll)
                await beat.when_due(claimed.claims)
                entry = await _indexed(shared, job)
                if entry is not None:
                    claimed.arrived.append((job, entry))
                    break
                answer = await _claim(shared, job, owner, clock)
            if isinstance(answer, HeldBy):
                continue  # arrived
            entry = await _indexed(shared, job) if answer.taken_from_task else None
            if entry is not None:  # its run finished after all: the clip is in the store
                await anyio.to_thread.run_sync(shared.release, answer, clock())
                claimed.arrived.append((job, entry))
            else:
                claimed.claims.append(answer)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(lambda: release_all(shared, claimed.claims, clock=clock))
        raise
    return claimed


async def _indexed(shared: SharedClipStore, job: Job) -> IndexEntry | None:
    return await anyio.to_thread.run_sync(shared.lookup, job.key, job.shot.take)


class _Heartbeats:
    """Beats the claims held while a run waits, each third of the store's claim timeout."""

    def __init__(self, shared: SharedClipStore, clock: Clock) -> None:
        self._shared = shared
        self._clock = clock
        self._interval = max(1.0, shared.claim_timeout / 3)
        self._last = clock()

    async def when_due(self, claims: Sequence[Claim]) -> None:
        if self._clock() - self._last < self._interval:
            return
        self._last = self._clock()
        for claim in claims:
            await anyio.to_thread.run_sync(self._shared.heartbeat, claim, self._clock())


async def _claim(shared: SharedClipStore, job: Job, owner: str, clock: Clock) -> Claim | HeldBy:
    def claim() -> Claim | HeldBy:
        return shared.claim(job.key, job.shot.take, owner, now=clock())

    return await anyio.to_thread.run_sync(claim)


class ClaimWatch:
    """Whether each claim a run holds is still its own, as its heartbeats found: a claim
    whose beat the store refused (another run took it over), or whose last beat that reached
    the store is older than the claim timeout (the store was unreachable: another run may
    have taken it over meanwhile), is not one to pay under."""

    def __init__(self, claims: Sequence[Claim], timeout: float, clock: Clock) -> None:
        self.claims = tuple(claims)
        self.clock = clock
        self._timeout = timeout
        self._beaten = {(claim.key, claim.take): claim.claimed_at for claim in claims}
        self._lost: set[tuple[str, int]] = set()

    def beaten(self, claim: Claim, *, kept: bool, now: float) -> None:
        """Note a beat that reached the store: ``kept`` the claim, or found it taken over."""
        where = (claim.key, claim.take)
        if kept:
            self._beaten[where] = now
        else:
            self._lost.add(where)

    def may_submit(self, key: str, take: int) -> bool:
        """Whether a submit for ``key``/``take`` is covered by a live claim of this run (a
        key this run never claimed is not the watch's to refuse)."""
        where = (key, take)
        if where not in self._beaten:
            return True
        return where not in self._lost and self.clock() - self._beaten[where] < self._timeout


@asynccontextmanager
async def keeping_alive(shared: SharedClipStore, watch: ClaimWatch) -> AsyncIterator[None]:
    """Within the block, beat every claim each third of the store's claim timeout, noting
    in ``watch`` what each beat found."""
    if not watch.claims:
        yield
        return
    interval = max(1.0, shared.claim_timeout / 3)
    clock = watch.clock

    async def beat() -> None:
        while True:
            await anyio.sleep(interval)
            for claim in watch.claims:
                now = clock()
                with suppress(RemoteError):  # a missed beat: the claim lives on until the timeout
                    kept = await anyio.to_thread.run_sync(shared.heartbeat, claim, now)
                    watch.beaten(claim, kept=kept, now=now)

    async with anyio.create_task_group() as group:
        group.start_soon(beat)
        try:
            yield
        finally:
            group.cancel_scope.cancel()


def release_all(shared: SharedClipStore, claims: Sequence[Claim], *, clock: Clock) -> None:
    """Give every claim up (blocking): the clips are in the store, or the run has ended."""
    for claim in claims:
        with suppress(RemoteError):  # it goes stale after the timeout instead
            shared.release(claim, clock())
