"""Run a batch of jobs at most ``limit`` at a time, surfacing the first rdpipe error as itself.

Task groups wrap failures in an ``ExceptionGroup``; the film-maker should see "shot 'b': clip
not found", not a group, so the first :class:`RdpipeError` inside is raised plainly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import anyio

from rdpipe.errors import RdpipeError


async def run_all(jobs: Sequence[Callable[[], Awaitable[None]]], *, limit: int) -> None:
    """Await every job, ``limit`` at a time; the first failure cancels the rest."""
    limiter = anyio.CapacityLimiter(max(1, limit))

    async def _one(job: Callable[[], Awaitable[None]]) -> None:
        async with limiter:
            await job()

    try:
        async with anyio.create_task_group() as group:
            for job in jobs:
                group.start_soon(_one, job)
    except BaseExceptionGroup as failures:
        first = _first_rdpipe_error(failures)
        if first is None:
            raise
        raise first from None


def _first_rdpipe_error(group: BaseExceptionGroup[BaseException]) -> RdpipeError | None:
    for error in group.exceptions:
        if isinstance(error, RdpipeError):
            return error
        if isinstance(error, BaseExceptionGroup):
            nested = _first_rdpipe_error(error)
            if nested is not None:
                return nested
    return None
