"""Runs of the real scheduler against a scripted relay and a real journal, on trio's MockClock.

Minutes of polling take milliseconds; each run is planned from the journal the way
``rdpipe run`` plans it, so a second run sees what the first left behind.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
from trio.testing import MockClock

from rdpipe.plan import decide, plan_run
from rdpipe.render import RenderedShot
from rdpipe.request import GenerationRequest
from rdpipe.scheduler import (
    CollectingReporter,
    GenerationApi,
    PollSchedule,
    SchedulerOptions,
    ShotResult,
    SubmitAllowed,
)
from rdpipe.scheduler.scheduler import Scheduler
from rdpipe.state import ClipStore, StateStore

POLLING = PollSchedule(first=5, cap=20, jitter=0.0)
_T = TypeVar("_T")


async def run_inline(call: Callable[[], _T]) -> _T:
    """A scheduler's blocking runner that calls on the event loop itself: a worker thread would
    let trio's ``MockClock`` jump to the next deadline while the call works."""
    return call()


def shots(*prompts: str, retries: int = 1) -> list[RenderedShot]:
    """One 5 s shot per prompt, ids ``s0``, ``s1``…, each retried ``retries`` times."""
    return [
        RenderedShot(index=i, id=f"s{i}", request=GenerationRequest("m", p, "5"), retries=retries)
        for i, p in enumerate(prompts)
    ]


def run_once(
    tmp_path: Path,
    relay: GenerationApi,
    rendered: list[RenderedShot],
    *,
    reporter: CollectingReporter | None = None,
    may_submit: SubmitAllowed | None = None,
    **options: Any,
) -> list[ShotResult]:
    """One run against the journal in ``tmp_path``; ``options`` are SchedulerOptions fields;
    ``may_submit`` the scheduler's check before each submit."""

    async def main() -> list[ShotResult]:
        with StateStore.open(tmp_path / "state.db", pipeline="film", clock=lambda: 0.0) as store:
            clips = ClipStore(tmp_path / "out")
            plan = plan_run(
                "film",
                rendered,
                lookup=lambda key, take: decide(store, clips, key, take, resubmit_unknown=False),
            )
            scheduler = Scheduler(
                api=relay,
                journal=store,
                clips=clips,
                reporter=reporter or CollectingReporter(),
                options=SchedulerOptions(polling=POLLING, **options),
                probe=_probe,
                extract_frame=_extract,
                rng=random.Random(1),
                blocking=run_inline,  # worker threads would let the virtual clock jump
                may_submit=may_submit,
            )
            return await scheduler.run(plan.jobs)

    clock = MockClock(autojump_threshold=0)
    return anyio.run(main, backend="trio", backend_options={"clock": clock})


async def _probe(path: Path) -> float:
    return 5.0


async def _extract(clip: Path, dest: Path) -> Path:
    dest.write_bytes(b"last frame")
    return dest
