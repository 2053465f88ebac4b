"""Pushing clips to the shared clip store, a few at once (issue 13 §2).

A push that fails never costs the clip: it stays in the local clip store, the failure is
handed to the :class:`PushWatcher` (the run warns), and a later run or ``rdpipe push`` pushes
it again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import anyio
import anyio.to_thread

from rdpipe.remote import IndexEntry, Progress, RemoteError, SharedClipStore


class PushWatcher(Protocol):
    """Hears how each push ended (called on the event loop)."""

    def pushed(self, entry: IndexEntry, uploaded: bool) -> None:
        """The clip of ``entry`` is in the store, and indexed; ``uploaded``: its bytes were
        sent now (else the store had them)."""

    def failed(self, entry: IndexEntry, reason: str) -> None:
        """The push of ``entry``'s clip failed; ``reason`` is one sentence."""


async def push_clip(
    shared: SharedClipStore,
    path: Path,
    entry: IndexEntry,
    watcher: PushWatcher,
    progress: Progress | None = None,
) -> bool:
    """Push one clip in a worker thread; ``False`` (and the watcher told) if it failed.
    ``progress`` hears the bytes sent (from the worker thread)."""
    try:
        uploaded = await anyio.to_thread.run_sync(
            lambda: shared.push(path, entry, progress=progress)
        )
    except RemoteError as error:
        watcher.failed(entry, error.reason)
        return False
    except OSError as error:  # the clip here could not be read
        watcher.failed(entry, f"{(error.strerror or str(error)).lower()} ({path})")
        return False
    watcher.pushed(entry, uploaded)
    return True


async def push_clips(
    shared: SharedClipStore,
    clips: Sequence[tuple[Path, IndexEntry]],
    watcher: PushWatcher,
    *,
    limit: int = 4,
    progress: Callable[[IndexEntry], Progress | None] = lambda entry: None,
) -> int:
    """Push every ``(path, entry)``, ``limit`` at once; the number pushed. ``progress`` gives
    each clip's progress callback (a bar per clip)."""
    limiter = anyio.CapacityLimiter(max(1, limit))
    pushed = 0

    async def one(path: Path, entry: IndexEntry) -> None:
        nonlocal pushed
        async with limiter:
            done = await push_clip(shared, path, entry, watcher, progress(entry))
        pushed += done  # after the await: ``pushed`` may have grown meanwhile

    async with anyio.create_task_group() as group:
        for path, entry in clips:
            group.start_soon(one, path, entry)
    return pushed
