"""Where the scheduler's blocking calls run: in worker threads, or inline under a virtual clock.

A journal commit waits for the disk, and adopting a clip reads and fsyncs it; on the event loop
either would stall every shot at once, so the scheduler hands each such call to a
:data:`BlockingRunner`. A run uses :func:`in_worker_thread`. Tests on trio's ``MockClock``
(``autojump_threshold=0``) use :func:`run_inline`: while a worker thread works, the run looks
idle to that clock, which then jumps to the next deadline (a shot's time limit), as it does
over real sockets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import anyio.to_thread

_T = TypeVar("_T")


class BlockingRunner(Protocol):
    """Runs a blocking call and hands its result (or its error) to the awaiting task."""

    def __call__(self, call: Callable[[], _T], /) -> Awaitable[_T]: ...


async def in_worker_thread(call: Callable[[], _T]) -> _T:
    """Run ``call`` in one of anyio's worker threads; a cancelled caller waits for it to end."""
    return await anyio.to_thread.run_sync(call)


async def run_inline(call: Callable[[], _T]) -> _T:
    """Run ``call`` on the event loop itself: for a virtual clock in tests, never for a run."""
    return call()
