"""Pushing clips to the shared clip store, a few at once (issue 13 §2).

A push that fails never costs the clip: it stays in the local clip store, the failure is
handed to ``on_failure`` (the run warns), and a later run or ``rdpipe push`` pushes it again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import anyio
import anyio.to_thread

from rdpipe.remote import IndexEntry, RemoteError, SharedClipStore

#: Hears of a push that failed: the entry, and why (one sentence).
PushFailed = Callable[[IndexEntry, str], None]


async def push_clip(
    shared: SharedClipStore, path: Path, entry: IndexEntry, on_failure: PushFailed
) -> bool:
    """Push one clip in a worker thread; ``False`` (and ``on_failure`` told) if it failed."""
    try:
        await anyio.to_thread.run_sync(lambda: shared.push(path, entry))
    except (RemoteError, OSError) as error:
        on_failure(entry, str(error))
        return False
    return True


async def push_clips(
    shared: SharedClipStore,
    clips: Sequence[tuple[Path, IndexEntry]],
    on_failure: PushFailed,
    *,
    limit: int = 4,
) -> int:
    """Push every ``(path, entry)``, ``limit`` at once; the number pushed."""
    limiter = anyio.CapacityLimiter(max(1, limit))
    pushed = 0

    async def one(path: Path, entry: IndexEntry) -> None:
        nonlocal pushed
        async with limiter:
            done = await push_clip(shared, path, entry, on_failure)
        pushed += done  # after the await: ``pushed`` may have grown meanwhile

    async with anyio.create_task_group() as group:
        for path, entry in clips:
            group.start_soon(one, path, entry)
    return pushed
