"""Where the scheduler's blocking calls run: in worker threads.

A journal commit waits for the disk, and adopting a clip reads and fsyncs it; on the event loop
either would stall every shot at once, so the scheduler hands each such call to a
:class:`BlockingRunner`. A run uses :func:`one_worker_thread` for the journal's calls and
:func:`in_worker_thread` for work on clip files. Tests on trio's ``MockClock``
(``autojump_threshold=0``) pass a runner that calls inline: while a worker thread works, the run
looks idle to that clock, which then jumps to the next deadline (a shot's time limit), as it
does over real sockets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import anyio
import anyio.to_thread

_T = TypeVar("_T")


class BlockingRunner(Protocol):
    """Runs a blocking call and hands its result (or its error) to the awaiting task."""

    def __call__(self, call: Callable[[], _T], /) -> Awaitable[_T]: ...


async def in_worker_thread(call: Callable[[], _T]) -> _T:
    """Run ``call`` in one of anyio's worker threads; a cancelled caller waits for it to end."""
    return await anyio.to_thread.run_sync(call)


def one_worker_thread() -> BlockingRunner:
    """A runner of its own that runs one call at a time in a worker thread (call it in async
    code: its limiter belongs to the event loop).

    For calls a lock serialises anyway (the state store's): 64 shots committing at once would
    otherwise wake up to 40 threads, and each thread that allocates gets a malloc arena of its
    own (+30 MiB of peak RSS at ``-j 64``).
    """
    limiter = anyio.CapacityLimiter(1)

    async def run(call: Callable[[], _T]) -> _T:
        return await anyio.to_thread.run_sync(call, limiter=limiter)

    return run
