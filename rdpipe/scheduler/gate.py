"""The run's request-level concurrency, adapted to the relay's per-key gate (AIMD).

Over its per-key limit the relay answers 429 ``token_concurrency_limit_reached`` (no
``Retry-After``), and it counts task polls as well as submits (API contract, section 13). Such
an answer says the whole run sends too much at once, so :class:`AdaptiveGate` bounds the
requests in flight (every submit and every poll of the scheduler holds one of its slots while it
is sent) and adapts that bound, as TCP adapts its window:

- it starts at :data:`INITIAL` (or the ceiling, if lower) and doubles after as many answers in
  a row as the bound, up to its ceiling (the run's task concurrency), until the first gate
  answer (slow start: a run at ``-j 32`` does not open with 32 requests against a gate of 4);
- a gate answer halves it (multiplicative decrease): half the requests that were in flight when
  the refused one was sent, if fewer than the bound, never below the floor. Only answers to
  requests sent since the last cut count, so a burst of answers to requests sent together
  halves it once;
- after that, as many answers in a row as the bound, and at least the probe's length
  (:data:`PROBE`, doubled each time a raised bound was cut again, up to :data:`PROBE_CAP`),
  raise it by one (additive increase), up to the ceiling. Only answers to requests sent since
  the last cut, while the bound was full, count: a bound the run does not reach says nothing
  about the relay's gate. So a gate of 1 is not probed with a second request after each
  answer that passed (the bound flapping 1 <-> 2, a 429 every other request), but after 8,
  then 16, ... 64.

A gated request is sent again after a short jittered wait (:meth:`AdaptiveGate.pause`): a submit
the gate refused created nothing.

Not adaptive (``SchedulerOptions.adaptive_gate`` false, for the bench's comparison), the bound
stays at the ceiling and a gated request only waits its own back-off. This is a separate limit
from the scheduler's task slots, which a shot holds for its whole generation (submit and
follow).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import anyio

from rdpipe.client import ConcurrencyLimitReached
from rdpipe.scheduler.updates import GateChanged

_T = TypeVar("_T")

#: The bound a run starts with (slow start), if its ceiling is higher.
INITIAL = 8
#: Seconds a gated request waits before it is sent again, the first time (then doubled per gate
#: answer to the same request, up to :data:`PAUSE_CAP`), each wait jittered by ±50 %.
FIRST_PAUSE = 0.25
PAUSE_CAP = 4.0
#: Answers in a row (at least) that raise a cut bound by one; doubled each time a raised bound
#: meets the gate again, up to PROBE_CAP.
PROBE = 8
PROBE_CAP = 64
#: The longest ``Retry-After`` of a gate answer that is waited out as asked.
RETRY_AFTER_CAP = 60.0


@dataclass(frozen=True)
class Sent:
    """A request holding a slot: the requests in flight as it was sent (itself included), and
    the number of cuts made before it (the answers of requests sent before a cut are old news
    after it)."""

    flight: int
    cuts: int


class AdaptiveGate:
    """Slots for the requests in flight, their number adapted to the relay's gate.

    ``ceiling``: the most (the run's task concurrency); ``floor``: the least. ``on_change``
    hears every change of the bound. Times are anyio's clock, in seconds; ``rng`` jitters the
    pauses.
    """

    def __init__(
        self,
        ceiling: int,
        floor: int = 1,
        *,
        adaptive: bool = True,
        on_change: Callable[[GateChanged], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not 1 <= floor <= ceiling:
            raise ValueError(f"a gate needs 1 <= floor <= ceiling, got {floor} and {ceiling}")
        self.ceiling = ceiling
        self.floor = floor
        self._adaptive = adaptive
        self._on_change = on_change
        self._rng = rng or random.Random()
        start = max(floor, min(ceiling, INITIAL)) if adaptive else ceiling
        self._limiter = anyio.CapacityLimiter(start)
        self._streak = 0  # answers in a row that passed the gate with the bound full
        self._cuts = 0  # cuts so far; none: slow start
        self._probe = PROBE  # answers in a row (at least) that raise a cut bound by one
        self._raised = False  # the bound was raised by one since the last cut
        self.rejections = 0  # gate answers (429) seen so far

    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""
        return int(self._limiter.total_tokens)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Sent]:
        """Hold one slot while a request is sent (waits for one to be free); what it gives goes
        to :meth:`overloaded` or :meth:`succeeded` with the answer."""
        async with self._limiter:
            yield Sent(int(self._limiter.borrowed_tokens), self._cuts)

    def overloaded(self, sent: Sent) -> None:
        """The request ``sent`` met the gate: halve the bound (from the flight it was sent
        with, if lower), unless the bound was cut since it was sent."""
        self.rejections += 1
        if not self._adaptive or sent.cuts != self._cuts:
            return
        self._cuts += 1
        self._streak = 0
        if self._raised:  # the step up met the gate: probe less often
            self._probe = min(PROBE_CAP, self._probe * 2)
        self._raised = False
        self._set(max(self.floor, min(self.limit, sent.flight) // 2), lowered=True)

    def succeeded(self, sent: Sent) -> None:
        """The request ``sent`` passed the gate: after ``limit`` such in a row, each sent since
        the last cut with the bound full, double the bound (slow start) or add one."""
        if not self._adaptive or sent.cuts != self._cuts or sent.flight < self.limit:
            return
        self._streak += 1
        needed = self.limit if self._cuts == 0 else max(self.limit, self._probe)
        if self._streak >= needed and self.limit < self.ceiling:
            self._streak = 0
            raised = self.limit * 2 if self._cuts == 0 else self.limit + 1
            self._raised = self._cuts > 0
            self._set(min(self.ceiling, raised), lowered=False)

    async def pause(self, answers: int, retry_after: float | None = None) -> None:
        """Wait before sending again a request the gate answered ``answers`` times in a row:
        ``retry_after`` seconds if its answer asked so (``Retry-After``, up to
        :data:`RETRY_AFTER_CAP`; new-api sends none, §13), else a jittered back-off."""
        if retry_after is not None:
            await anyio.sleep(min(max(retry_after, 0.0), RETRY_AFTER_CAP))
            return
        base = min(PAUSE_CAP, FIRST_PAUSE * 2 ** (answers - 1))
        await anyio.sleep(base * self._rng.uniform(0.5, 1.5))

    async def call(self, request: Callable[[], Awaitable[_T]]) -> _T:
        """``await request()`` in a slot, sent again after a pause while the gate refuses it.

        Other errors pass through as they are. Only for requests safe to send again (a poll):
        a submit is journalled per attempt by the scheduler, with :meth:`slot`.
        """
        answers = 0
        while True:
            async with self.slot() as sent:
                try:
                    result = await request()
                except ConcurrencyLimitReached as error:
                    self.overloaded(sent)
                    answers += 1
                    retry_after = error.retry_after
                else:
                    self.succeeded(sent)
                    return result
            await self.pause(answers, retry_after)

    def _set(self, limit: int, *, lowered: bool) -> None:
        if limit == self.limit:
            return
        self._limiter.total_tokens = limit
        if self._on_change is not None:
            self._on_change(GateChanged(limit, self.ceiling, lowered=lowered))
