"""A file a run rewrites while it goes on, written in a worker thread: the newest version only.

The manifest is rewritten as shots progress. Writing it (the JSON of every shot, an atomic
rename) blocks, and 64 shots at once must not wait for the disk on the event loop, so a version
is handed over at once (:func:`writing_latest` gives the function that takes it) and a task
writes it in a worker thread. Versions handed over while one is being written replace each
other: only the newest is written next.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

import anyio
import anyio.to_thread

_Version = TypeVar("_Version")


@asynccontextmanager
async def writing_latest(
    write: Callable[[_Version], None],
) -> AsyncIterator[Callable[[_Version], None]]:
    """Within the block, the function given writes its argument with ``write``, off the loop.

    It returns at once. When the block ends, a write under way is finished (so none is left
    running, also when the block is cancelled) and a version still waiting is dropped: the
    caller writes the final version itself. An error of ``write`` ends the block with it.
    """
    latest = _Latest(write)
    async with anyio.create_task_group() as group:
        group.start_soon(latest.serve)
        try:
            yield latest.offer
        finally:
            group.cancel_scope.cancel()


class _Latest(Generic[_Version]):
    """The newest version not yet written, and the task that writes it."""

    def __init__(self, write: Callable[[_Version], None]) -> None:
        self._write = write
        self._waiting: list[_Version] = []  # at most one
        self._wake = anyio.Event()

    def offer(self, version: _Version) -> None:
        """Write ``version`` next, instead of any version still waiting (on the loop)."""
        self._waiting[:] = [version]
        self._wake.set()

    async def serve(self) -> None:
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            while self._waiting:
                await anyio.to_thread.run_sync(self._write, self._waiting.pop())
