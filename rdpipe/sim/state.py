"""The simulated service's memory: tasks, faults, the clip cache, the media host, the account,
the concurrency gate and what it has observed.

Handlers run on the server's event loop; tests call in from their own thread, so the task
table and the logs are guarded by a lock. Background work (rendering, webhooks) runs in a task
group the server owns.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import anyio

from rdpipe.sim.billing import Account
from rdpipe.sim.callbacks import CallbackDelivery, post_json
from rdpipe.sim.clips import ClipSource, FileClip, SyntheticClip
from rdpipe.sim.config import SimConfig
from rdpipe.sim.failures import TaskFailure
from rdpipe.sim.faults import FaultInjector, Faults
from rdpipe.sim.gate import ConcurrencyGate
from rdpipe.sim.hosting import HostedFiles
from rdpipe.sim.media_host import MediaHost
from rdpipe.sim.preview_clips import ClipCache, RenderFailed, clip_spec_for
from rdpipe.sim.pricing import QUOTA_PER_UNIT, precharge_quota, settled_quota
from rdpipe.sim.recorder import RequestRecorder
from rdpipe.sim.responses import Rejection, relay_error
from rdpipe.sim.signing import UrlSigner
from rdpipe.sim.storage import clip_path
from rdpipe.sim.tasks import Task, TaskIds, TaskLifecycle
from rdpipe.sim.validation import Submission, parse_submission
from rdpipe.sim.views import callback_body

RENDER_FAILURE_CODE = "InternalServiceError"
_POLL_LIMIT = 0.25


class Spawner(Protocol):
    """Starts background jobs (an anyio task group fits)."""

    def start_soon(
        self, func: Callable[[Task], Coroutine[Any, Any, None]], task: Task, /
    ) -> object: ...


class SimState:
    """Everything the API and storage origins share."""

    def __init__(
        self, config: SimConfig, cache: ClipCache, hosted: HostedFiles, spawner: Spawner
    ) -> None:
        self.config = config
        self.clock = config.clock
        self.cache = cache
        self.recorder = RequestRecorder()
        self._spawner = spawner
        self._lock = threading.Lock()
        self._tasks: dict[str, Task] = {}
        self._by_upstream: dict[str, Task] = {}
        self._created: list[str] = []
        self._callbacks: list[CallbackDelivery] = []
        self._ids = TaskIds()
        self.signer = UrlSigner(random.Random(f"signing:{config.seed}").randbytes(32))
        self.injector = FaultInjector(config.faults, config.seed)
        self.media = MediaHost(config.media, hosted, self.signer, self.clock)
        self.account = Account(config.balance_usd)
        self.gate = ConcurrencyGate(
            config.concurrency_limit, hold=config.gate_hold,
            unavailable_rate=config.gate_unavailable_rate, seed=config.seed, clock=self.clock,
            retry_after=config.gate_retry_after,
        )  # fmt: skip
        self.started_at = int(self.clock())

    @property
    def storage_url(self) -> str:
        """The storage origin's base URL (``""`` until it listens)."""
        return self.media.storage_url

    @storage_url.setter
    def storage_url(self, url: str) -> None:
        self.media.storage_url = url

    @property
    def faults(self) -> Faults:
        return self.injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self.injector = FaultInjector(faults, self.config.seed)

    def submit(self, submission: Submission) -> Task:
        """Create a task for a valid submit, holding its pre-charge; with a webhook, start its
        work at once. Raises a 403 ``insufficient_user_quota`` :class:`Rejection` (nothing
        created) when the balance cannot hold the pre-charge."""
        task_id = self._fresh_id()
        precharge = precharge_quota(submission)
        if not self.account.hold(task_id, submission.model.id, precharge):
            raise _insufficient_quota(self.account.remaining or 0, precharge)
        # The audio filter has nothing to judge in a clip without sound: one that asked for
        # none, or of a model that never has any (a model that always has it ignores the flag).
        fixed = submission.model.audio != "optional"
        audio_off = not submission.audio if fixed else submission.audio_off
        failure = self.injector.task_failure(submission.prompt, audio_off=audio_off)
        task = self._new_task(task_id, submission, failure)
        with self._lock:
            self._created.append(task.id)
        if submission.callback_url:
            self.observe(task)
        return task

    def settle(self, now: float) -> None:
        """Settle the charge of every task that has finished by ``now``."""
        for task_id in self.account.held():
            task = self.task(task_id)
            if task is not None:
                self.settle_task(task, now)

    def settle_task(self, task: Task, now: float) -> None:
        """Settle ``task``'s charge if it has finished by ``now``: a success at its real
        charge, a failure refunded in full (a task still running, or settled, is left)."""
        lifecycle = task.lifecycle(now)
        if lifecycle is TaskLifecycle.FAILED:
            self.account.refund(task.id)
        elif lifecycle is TaskLifecycle.COMPLETED:
            self.account.settle(task.id, settled_quota(task.submission, task.id))

    def observe(self, task: Task) -> None:
        """Note that someone looks at ``task``: render its clip if that has not begun.

        Rendering waits for the first look so that tasks nobody polls (validation tests,
        abandoned runs) cost no CPU; a task still cannot complete before its clip exists.
        """
        if task.work_started:
            return
        task.work_started = True
        self._spawner.start_soon(self._work_on, task)

    def add_completed_task(self, content_size: int, model: str) -> str:
        """A task finished long ago whose clip is ``content_size`` synthetic bytes."""
        body = {"model": model, "prompt": "synthetic clip", "seconds": "5"}
        submission = parse_submission(body, self.media)
        task = self._new_task(self._fresh_id(), submission, None, past=True)
        task.work_started = True
        task.clip = SyntheticClip(content_size)
        task.ready_at = task.planned_end
        return task.id

    def task(self, task_id: str) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)

    def stored_clip(self, name: str) -> ClipSource | None:
        with self._lock:
            task = self._by_upstream.get(name)
        return task.clip if task is not None else None

    def download_url(self, task: Task, now: float) -> str:
        """A freshly signed storage URL for a completed task's clip, else ``""``."""
        if task.lifecycle(now) is not TaskLifecycle.COMPLETED:
            return ""
        expires = int(now + self.url_lifetime())
        return self.signer.sign(self.storage_url, clip_path(task.upstream_id), expires)

    def url_lifetime(self) -> float:
        """Seconds a signed storage URL issued now stays valid (negative: already expired)."""
        return -1.0 if self.faults.expired_urls else self.config.timing.url_lifetime

    def created_task_ids(self) -> list[str]:
        with self._lock:
            return list(self._created)

    def callbacks(self) -> list[CallbackDelivery]:
        with self._lock:
            return list(self._callbacks)

    def clear_observations(self) -> None:
        """Forget counters, logged requests, created ids, webhook deliveries and the gate's
        counters."""
        self.recorder.clear()
        self.gate.reset_counts()
        with self._lock:
            self._created.clear()
            self._callbacks.clear()

    def _fresh_id(self) -> str:
        with self._lock:
            task_id = self._ids.task_id()
            while task_id in self._tasks:  # 190 random bits: a guarantee, not an expectation
                task_id = self._ids.task_id()
            return task_id

    def _new_task(
        self, task_id: str, submission: Submission, failure: TaskFailure | None, past: bool = False
    ) -> Task:
        timing = self.config.timing
        now = self.clock()
        unknown = timing.unknown + self.faults.extra_unknown
        created = now - (unknown + timing.queued + timing.running + 1) if past else now
        task = Task(
            id=task_id,
            upstream_id=self._ids.upstream_id(created),
            submission=submission,
            created_at=created,
            queued_at=created + unknown,
            started_at=created + unknown + timing.queued,
            planned_end=created + unknown + timing.queued + timing.running,
            will_fail=failure is not None,
            error=failure,
        )
        with self._lock:
            self._tasks[task.id] = task
            self._by_upstream[task.upstream_id] = task
        return task

    async def _work_on(self, task: Task) -> None:
        if not task.will_fail:
            await self._render(task)
        if task.submission.callback_url:
            await self._call_back(task)

    async def _render(self, task: Task) -> None:
        if self.config.clip_file is not None:
            task.clip = FileClip(self.config.clip_file)
            task.ready_at = self.clock()
            return
        try:
            path = await self.cache.clip_path(clip_spec_for(task.submission))
        except RenderFailed as error:
            task.error = TaskFailure(RENDER_FAILURE_CODE, error.message)
        else:
            task.clip = FileClip(path)
        task.ready_at = self.clock()

    async def _call_back(self, task: Task) -> None:
        while (finished := task.finished_at(self.clock())) is None:
            await anyio.sleep(min(max(task.planned_end - self.clock(), 0.01), _POLL_LIMIT))
        url = task.submission.callback_url or ""
        for _ in range(self.faults.callback_deliveries):
            now = max(self.clock(), finished)
            body = callback_body(task, now, self.download_url(task, now))
            delivery = await post_json(url, body)
            with self._lock:
                self._callbacks.append(delivery)


def _insufficient_quota(remaining: int, precharge: int) -> Rejection:
    """new-api's 403 when the balance cannot hold a task's pre-charge (relay style, §6)."""
    message = (
        f"用户额度不足, 剩余额度: ${remaining / QUOTA_PER_UNIT:.6f}, "
        f"需要预扣费额度: ${precharge / QUOTA_PER_UNIT:.6f} "
        "(insufficient user quota for the pre-charge)"
    )
    return relay_error(403, "insufficient_user_quota", message)
