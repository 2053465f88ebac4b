"""The scheduler: runs a plan's jobs concurrently against the API, the run state and the clips."""

from __future__ import annotations

from rdpipe.scheduler.events import CollectingReporter, NullReporter, Phase, Reporter, ShotUpdate
from rdpipe.scheduler.options import OFFLINE_POLLING, PollSchedule, SchedulerOptions
from rdpipe.scheduler.scheduler import (
    ClipProbe,
    FrameExtractor,
    GenerationApi,
    RunAborted,
    Scheduler,
    ShotResult,
)
from rdpipe.scheduler.waker import Waker

__all__ = [
    "OFFLINE_POLLING",
    "ClipProbe",
    "CollectingReporter",
    "FrameExtractor",
    "GenerationApi",
    "NullReporter",
    "Phase",
    "PollSchedule",
    "Reporter",
    "RunAborted",
    "Scheduler",
    "SchedulerOptions",
    "ShotResult",
    "ShotUpdate",
    "Waker",
]
