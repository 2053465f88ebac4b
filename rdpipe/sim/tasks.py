"""Tasks and their lifecycle: a task's state is a function of its record and the clock.

A task reads ``unknown``, then ``queued``, then ``in_progress``, then ``completed`` or
``failed``, at times fixed when it was submitted. The one thing time alone cannot decide is
whether the clip has been rendered: a task that should be done but has no clip yet stays
``in_progress`` at 99 %.
"""

from __future__ import annotations

import random
import string
import time
from dataclasses import dataclass
from enum import Enum

from rdpipe.sim.clips import ClipSource
from rdpipe.sim.failures import DEFAULT_FAILURE, TaskFailure
from rdpipe.sim.validation import Submission

_ID_ALPHABET = string.ascii_letters + string.digits


class TaskLifecycle(Enum):
    """Where a task is in its lifecycle; values are the OpenAI-form statuses."""

    UNKNOWN = "unknown"
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass
class Task:
    """One generation task; times are clock seconds fixed at submit.

    Only ``work_started``, ``clip``, ``ready_at`` and ``error`` change after creation.
    """

    id: str
    upstream_id: str
    submission: Submission
    created_at: float
    queued_at: float
    started_at: float
    planned_end: float
    will_fail: bool
    work_started: bool = False
    clip: ClipSource | None = None
    ready_at: float | None = None
    error: TaskFailure | None = None

    def lifecycle(self, now: float) -> TaskLifecycle:
        """The task's status at clock time ``now``."""
        if now < self.queued_at:
            return TaskLifecycle.UNKNOWN
        if now < self.started_at:
            return TaskLifecycle.QUEUED
        if now < self.planned_end:
            return TaskLifecycle.IN_PROGRESS
        if self.will_fail or self.error is not None:
            return TaskLifecycle.FAILED
        return TaskLifecycle.COMPLETED if self.clip is not None else TaskLifecycle.IN_PROGRESS

    def progress(self, now: float) -> int:
        """Percent done at ``now``: 0 before start, 1-99 running, 100 when final."""
        lifecycle = self.lifecycle(now)
        if lifecycle in (TaskLifecycle.COMPLETED, TaskLifecycle.FAILED):
            return 100
        if lifecycle is not TaskLifecycle.IN_PROGRESS:
            return 0
        running = max(self.planned_end - self.started_at, 1e-9)
        return max(1, min(99, int(99 * (now - self.started_at) / running)))

    def finished_at(self, now: float) -> float | None:
        """When the task reached its final state, or ``None`` if it has not."""
        if self.lifecycle(now) not in (TaskLifecycle.COMPLETED, TaskLifecycle.FAILED):
            return None
        return max(self.planned_end, self.ready_at or 0.0)

    def failure(self) -> TaskFailure:
        """Why the failed task failed."""
        return self.error or DEFAULT_FAILURE


class TaskIds:
    """Makes relay task ids (``task_`` + 32 letters and digits) and upstream ``cgt-`` ids.

    Ids come from the operating system's randomness, not from the simulator's seed: like the
    relay's, they are never handed out twice, also by another simulator or one restarted with the
    same seed (issue 10: a seeded generator reissued the ids of the previous offline run).
    """

    def __init__(self) -> None:
        self._random = random.SystemRandom()

    def task_id(self) -> str:
        return "task_" + "".join(self._random.choices(_ID_ALPHABET, k=32))

    def upstream_id(self, now: float) -> str:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now))
        suffix = "".join(self._random.choices(string.ascii_lowercase + string.digits, k=5))
        return f"cgt-{stamp}-{suffix}"
