"""The one retry policy of the client: which failures are retried, and how long to wait.

Reads (polling, the model list, downloads) retry connection failures, timeouts and the statuses
408/409/425/429/5xx. A submit is billed and not idempotent, so it is retried only when it
provably never reached the server (:class:`NotSent`), was refused with 429, or found the
relay's concurrency gate unavailable (503 ``token_concurrency_unavailable``). The gate's own 429
(:class:`ConcurrencyLimitReached`, relaydance-api.md §13) is retried by neither, and sets no
cool-down: the caller lowers its concurrency (the scheduler's adaptive gate). Downloads, which
no such gate of the caller wraps, retry it with back-off. Waits are
"full jitter" exponential back-off (uniform between 0 and ``initial_wait * 2**n``, capped at
``max_wait``), except that a ``Retry-After`` from the server is honoured up to
``retry_after_cap``. After a 429 a cool-down is set for the whole host, and every request to
that host (from any concurrent worker sharing the client) waits it out before going out.

This is a small hand-written policy rather than stamina, on purpose: stamina sleeps with
``asyncio.sleep``/``trio.sleep`` directly and draws jitter from the global ``random`` module,
its test mode is process-global (``stamina.set_testing``), and its back-off hook can return one
caller's wait but not a cool-down shared by every caller of a host. Here sleep, randomness and
clock are constructor arguments; :class:`rdpipe.client.testing.RecordingClock` is the test mode.
Times are seconds on the injected monotonic ``clock``.
"""

from __future__ import annotations

import logging
import random as random_module
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

from rdpipe.client.errors import (
    ApiError,
    ConcurrencyLimitReached,
    DownloadIncomplete,
    GateUnavailable,
    InvalidRequest,
    MalformedResponse,
    NoAnswer,
    NotSent,
    RateLimited,
    RelayDanceError,
    RequestNotBuilt,
)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True)
class RetryNotice:
    """One retry about to happen: ``operation`` (``GET /v1/...``) is tried again after
    ``wait`` seconds, as try ``attempt`` of ``attempts``, because of ``reason`` (``HTTP 503``,
    ``no answer``...). ``str()`` is the line ``rdpipe -v`` prints."""

    operation: str
    wait: float
    attempt: int
    attempts: int
    reason: str

    def __str__(self) -> str:
        return (
            f"retrying {self.operation} in {self.wait:.1f} s "
            f"({self.reason}, attempt {self.attempt} of {self.attempts})"
        )


OnRetry = Callable[[RetryNotice], None]
"""Told of each retry before its wait (``rdpipe -v`` prints it); must not block."""


def retry_reason(error: RelayDanceError) -> str:
    """A few words on why ``error`` is retried: ``HTTP 503``, ``not sent``, ``no answer``."""
    if isinstance(error, ApiError):
        return f"HTTP {error.status}"
    if isinstance(error, NotSent):
        return "not sent"
    if isinstance(error, NoAnswer):
        return "no answer"
    if isinstance(error, DownloadIncomplete):
        return "download cut short"
    if isinstance(error, MalformedResponse):
        return "unreadable answer"
    return "an error"  # words, never a class name


_RETRIED_STATUSES = frozenset({408, 409, 425, 429})
logger = logging.getLogger("rdpipe.client")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry; ``attempts`` counts the first try."""

    attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 20.0
    retry_after_cap: float = 60.0

    def backoff(self, failures: int, random: random_module.Random) -> float:
        """Full-jitter wait after the ``failures``-th failure in a row (1-based)."""
        ceiling = min(self.max_wait, self.initial_wait * 2 ** (failures - 1))
        return random.uniform(0.0, ceiling)

    def wait_after(
        self, error: RelayDanceError, failures: int, random: random_module.Random
    ) -> float:
        """Seconds to wait before trying again after ``error``."""
        hinted = error.retry_after if isinstance(error, ApiError) else None
        if hinted is not None:
            return min(max(hinted, 0.0), self.retry_after_cap)
        return self.backoff(failures, random)


def should_retry_read(error: RelayDanceError) -> bool:
    """Say whether a failed read (poll, models, prices, balance) may simply be tried again.

    Not the concurrency gate's 429 (:class:`ConcurrencyLimitReached`): it goes up at once, for
    the caller to lower its concurrency.
    """
    if isinstance(error, RequestNotBuilt | ConcurrencyLimitReached):
        return False  # the same again would fail the same way / the caller's gate decides
    if isinstance(error, NotSent | NoAnswer | DownloadIncomplete):
        return True
    if isinstance(error, InvalidRequest) or not isinstance(error, ApiError):
        return False
    return error.status in _RETRIED_STATUSES or error.status >= 500


def should_retry_download(error: RelayDanceError) -> bool:
    """A download's policy: a read's, and the concurrency gate's 429 too (with back-off, no
    cool-down), since no gate of the caller wraps a download to act on it."""
    return isinstance(error, ConcurrencyLimitReached) or should_retry_read(error)


def should_retry_submit(error: RelayDanceError) -> bool:
    """Say whether a failed submit may go out again: only if it provably created nothing.

    That is: never sent (:class:`NotSent`), refused with 429 (:class:`RateLimited`), or the
    concurrency gate unavailable (:class:`GateUnavailable`, a 503 before the relay handled
    it). Not the gate's own 429 (:class:`ConcurrencyLimitReached`): the caller's gate decides.
    """
    if isinstance(error, RequestNotBuilt | ConcurrencyLimitReached):
        return False
    return isinstance(error, NotSent | RateLimited | GateUnavailable)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Read a ``Retry-After`` header (seconds, or an HTTP date) as seconds from ``now``.

    ``now`` is wall-clock time (seconds since the epoch), needed for the date form (RFC 9110
    section 10.2.3). Fractional seconds are accepted although the RFC only allows integers.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


class CoolDowns:
    """Per host, the earliest ``clock`` time at which the next request may go out."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._until: dict[str, float] = {}

    def extend(self, host: str, seconds: float) -> None:
        """Hold back every request to ``host`` for at least ``seconds`` from now."""
        until = self._clock() + seconds
        self._until[host] = max(self._until.get(host, until), until)

    def remaining(self, host: str) -> float:
        """Seconds left before ``host`` may be contacted again (0 when free)."""
        return max(0.0, self._until.get(host, 0.0) - self._clock())


class Retrier:
    """Runs one operation under the policy, sleeping through the injected ``sleep``."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        sleep: Sleep,
        random: random_module.Random,
        clock: Clock,
        on_retry: OnRetry | None = None,
    ) -> None:
        self.policy = policy
        self.cool_downs = CoolDowns(clock)
        self._sleep = sleep
        self._random = random
        self._on_retry = on_retry

    async def run(
        self,
        operation: str,
        host: str,
        attempt: Callable[[], Awaitable[T]],
        *,
        retry_on: Callable[[RelayDanceError], bool],
    ) -> T:
        """Call ``attempt`` until it succeeds, the error is final, or attempts run out.

        The last error is re-raised unchanged.
        """
        failures = 0
        while True:
            await self.wait_for_host(host)
            try:
                return await attempt()
            except RelayDanceError as error:
                failures += 1
                if failures >= self.policy.attempts or not retry_on(error):
                    raise
                await self._pause(operation, host, error, failures)

    async def wait_for_host(self, host: str) -> None:
        """Wait out the host's cool-down; re-check, since another worker may have extended it."""
        while (remaining := self.cool_downs.remaining(host)) > 0:
            await self._sleep(remaining)

    async def _pause(
        self, operation: str, host: str, error: RelayDanceError, failures: int
    ) -> None:
        wait = self.policy.wait_after(error, failures, self._random)
        logger.info(
            "retrying %s in %.2f s (attempt %d of %d) after: %s",
            operation,
            wait,
            failures + 1,
            self.policy.attempts,
            error.message,
        )
        if self._on_retry is not None:
            reason = retry_reason(error)
            self._on_retry(RetryNotice(operation, wait, failures + 1, self.policy.attempts, reason))
        if isinstance(error, RateLimited) and not isinstance(error, ConcurrencyLimitReached):
            self.cool_downs.extend(host, wait)  # slept off in wait_for_host, with everyone else
        else:
            await self._sleep(wait)
