"""Probe every clip of an assembly once: recalled when unchanged, shared between header twins.

A clip whose MP4 header matches an already probed one's box for box (see
:mod:`rdpipe.assemble.mp4_header`) takes that probe. All file work runs in worker threads,
a few batches of clips each (a thread hop per clip costs as much as the probe itself).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

import anyio.to_thread

from rdpipe.assemble.join_plan import ClipInput
from rdpipe.assemble.mp4_header import header_signature
from rdpipe.assemble.parallel import run_all
from rdpipe.assemble.probe import ClipInfo
from rdpipe.assemble.probe_cache import ProbeCache, probe_remembered


async def probe_clips(
    clips: Sequence[ClipInput], *, concurrency: int | None = None, cache: ProbeCache | None = None
) -> list[ClipInfo]:
    """Probe every clip once, recalling unchanged ones from ``cache``; errors name the shot.

    Work is dealt into ``concurrency`` batches (by default one per core), each run in one
    worker thread. Raises :class:`~rdpipe.assemble.errors.ClipMissing` or
    :class:`~rdpipe.assemble.errors.ClipCorrupt` for the first clip that cannot be read.
    """
    batches = max(1, min(concurrency or os.cpu_count() or 1, len(clips)))
    infos: list[ClipInfo | None] = [None] * len(clips)
    signatures: list[bytes | None] = [None] * len(clips)

    def _recall(first: int) -> None:
        for index in range(first, len(clips), batches):
            path = clips[index].path
            infos[index] = cache.recall_info(path) if cache is not None else None
            if infos[index] is None:
                signatures[index] = header_signature(path)

    await _in_batches(_recall, batches)
    # Each clip to probe, or the earlier clip whose probe it takes (its header twin).
    first_of: dict[bytes, int] = {}
    source = {}
    for index, info in enumerate(infos):
        signature = signatures[index]
        if info is None:
            source[index] = index if signature is None else first_of.setdefault(signature, index)
    probed = [index for index, origin in source.items() if origin == index]

    def _probe(first: int) -> None:
        for index in probed[first::batches]:
            clip = clips[index]
            infos[index] = probe_remembered(clip.path, shot_id=clip.shot_id, cache=cache)

    def _take_twins() -> None:
        for index, origin in source.items():
            twin = infos[origin]
            if origin != index and twin is not None:
                infos[index] = replace(twin, path=clips[index].path)
                if cache is not None:
                    cache.remember_info(replace(twin, path=clips[index].path))

    await _in_batches(_probe, batches)
    await anyio.to_thread.run_sync(_take_twins)
    return [info for info in infos if info is not None]


async def _in_batches(work: Callable[[int], None], batches: int) -> None:
    """Run ``work(0)`` .. ``work(batches - 1)`` each in its own worker thread."""
    await run_all([partial(anyio.to_thread.run_sync, work, i) for i in range(batches)],
                  limit=batches)  # fmt: skip
