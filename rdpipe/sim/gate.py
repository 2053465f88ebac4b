"""The relay's per-key concurrency gate (relaydance-api.md §13), on the submit and task routes.

new-api counts the requests of one key that are being handled at the same moment; one over its
limit is answered at once with 429 ``token_concurrency_limit_reached`` (OpenAI-style body,
**no** ``Retry-After``), and when the gate's own store is down, 503
``token_concurrency_unavailable``. The gate counts task polls as well as submits.

Here a request holds its slot while it is handled plus ``hold`` seconds, so that a client's
concurrent requests overlap as they do over a real network. Runs on the server's event loop;
the counters are read from other threads under a lock.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import anyio

from rdpipe.sim.responses import Rejection, openai_error

LIMIT_REACHED = "token_concurrency_limit_reached"
UNAVAILABLE = "token_concurrency_unavailable"


@dataclass(frozen=True)
class GateCounts:
    """What the gate did: ``rejections`` (429s), ``unavailable`` (503s), and ``peak`` (the
    most requests of one key in flight at once)."""

    rejections: int = 0
    unavailable: int = 0
    peak: int = 0


class ConcurrencyGate:
    """Admits at most ``limit`` requests per key at once (``None``: no limit, no hold).

    ``unavailable_rate``: share of gated requests answered 503 (drawn from
    ``random.Random(seed)``), with or without a limit. ``clock`` stamps the request ids of
    the error messages.
    """

    def __init__(
        self,
        limit: int | None,
        *,
        hold: float = 0.05,
        unavailable_rate: float = 0.0,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        retry_after: int | None = None,
    ) -> None:
        self.limit = limit
        self.retry_after = retry_after  # a Retry-After on its 429s (None: none, as new-api)
        self.hold = hold
        self.unavailable_rate = unavailable_rate
        self._random = random.Random(f"gate:{seed}")
        self._clock = clock
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._counts = GateCounts()

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        """Hold one of ``key``'s slots for the block (and ``hold`` seconds after it ends
        normally); raise a 429 or 503 :class:`Rejection` instead when refused."""
        if self.unavailable_rate > 0 and self._random.random() < self.unavailable_rate:
            with self._lock:
                self._counts = replace(self._counts, unavailable=self._counts.unavailable + 1)
            raise self._refusal(503, UNAVAILABLE)
        if self.limit is None:
            yield
            return
        self._enter(key, self.limit)
        try:
            yield
            await anyio.sleep(self.hold)
        finally:
            with self._lock:
                self._in_flight[key] -= 1

    def counts(self) -> GateCounts:
        """The counters so far."""
        with self._lock:
            return self._counts

    def reset_counts(self) -> None:
        """Zero the counters (requests in flight stay counted)."""
        with self._lock:
            self._counts = GateCounts()

    def _enter(self, key: str, limit: int) -> None:
        with self._lock:
            counts = self._counts
            in_flight = self._in_flight.get(key, 0)
            refused = in_flight >= limit
            if refused:
                self._counts = replace(counts, rejections=counts.rejections + 1)
            else:
                self._in_flight[key] = in_flight + 1
                self._counts = replace(counts, peak=max(counts.peak, in_flight + 1))
        if refused:
            raise self._refusal(429, LIMIT_REACHED)

    def _refusal(self, status: int, code: str) -> Rejection:
        """new-api's ``abortWithOpenAiMessage``: the code as the message, with a request id."""
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(self._clock()))
        request_id = f"{stamp}{next(self._ids):08d}"
        headers = None
        if status == 429 and self.retry_after is not None:
            headers = {"Retry-After": str(self.retry_after)}
        return openai_error(
            status, f"{code} (request id: {request_id})", code=code, headers=headers
        )
