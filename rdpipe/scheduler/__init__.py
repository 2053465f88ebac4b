"""The scheduler: runs a plan's jobs concurrently against the API, the run state and the clips.

:class:`~rdpipe.scheduler.scheduler.Scheduler` itself lives in ``rdpipe.scheduler.scheduler``
and imports the HTTP client; this package's names are light, so reading results costs nothing.
"""

from __future__ import annotations

from rdpipe.scheduler.options import OFFLINE_POLLING, PollSchedule, SchedulerOptions
from rdpipe.scheduler.results import (
    ClipProbe,
    ClipStored,
    FrameExtractor,
    GenerationApi,
    MediaIncomplete,
    Outcome,
    ShotResult,
    SubmitAllowed,
    TaskSubmitted,
    picked_result,
)
from rdpipe.scheduler.updates import (
    CollectingReporter,
    GateChanged,
    Phase,
    Reporter,
    ShotUpdate,
)
from rdpipe.scheduler.waker import Waker

__all__ = [
    "OFFLINE_POLLING",
    "ClipProbe",
    "ClipStored",
    "CollectingReporter",
    "FrameExtractor",
    "GateChanged",
    "GenerationApi",
    "MediaIncomplete",
    "Outcome",
    "Phase",
    "PollSchedule",
    "Reporter",
    "SchedulerOptions",
    "ShotResult",
    "ShotUpdate",
    "SubmitAllowed",
    "TaskSubmitted",
    "Waker",
    "picked_result",
]
