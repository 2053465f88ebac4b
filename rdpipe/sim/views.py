"""The JSON shapes a task is shown in: the OpenAI video object, the relay envelope with the raw
upstream object inside, the webhook body, and the model list.

Each function is pure: a task, the clock time and the download URL in, a dict out.
"""

from __future__ import annotations

from typing import Any

from rdpipe.sim.catalog import FPS, MODELS
from rdpipe.sim.pricing import precharge_quota, settled_quota, used_tokens
from rdpipe.sim.tasks import Task, TaskLifecycle

JsonObject = dict[str, Any]

ENVELOPE_STATUS = {
    TaskLifecycle.UNKNOWN: "SUBMITTED",
    TaskLifecycle.QUEUED: "QUEUED",
    TaskLifecycle.IN_PROGRESS: "IN_PROGRESS",
    TaskLifecycle.COMPLETED: "SUCCESS",
    TaskLifecycle.FAILED: "FAILURE",
}
UPSTREAM_STATUS = {
    TaskLifecycle.UNKNOWN: "queued",
    TaskLifecycle.QUEUED: "queued",
    TaskLifecycle.IN_PROGRESS: "running",
    TaskLifecycle.COMPLETED: "succeeded",
    TaskLifecycle.FAILED: "failed",
}


def submit_answer(task: Task) -> JsonObject:
    """The body of a successful submit (the relay's richer form of the documented one)."""
    return {
        "id": task.id,
        "task_id": task.id,
        "object": "video",
        "model": task.submission.model.id,
        "status": "queued",
        "progress": 0,
        "created_at": int(task.created_at),
    }


def video_object(task: Task, now: float, url: str) -> JsonObject:
    """``GET /v1/videos/{id}``: the OpenAI video object."""
    lifecycle = task.lifecycle(now)
    submission = task.submission
    body: JsonObject = {
        "id": task.id,
        "task_id": task.id,
        "object": "video",
        "model": submission.model.id,
        "status": lifecycle.value,
        "progress": task.progress(now),
        "created_at": int(task.created_at),
        # The relay fills completed_at with the last update time even while running.
        "completed_at": int(task.finished_at(now) or now),
        "seconds": str(submission.seconds),
        "size": f"{submission.width}x{submission.height}",
        "metadata": {"url": url},
    }
    if lifecycle is TaskLifecycle.FAILED:
        failure = task.failure()
        body["error"] = {"message": failure.message, "code": failure.code}
    return body


def generation_envelope(task: Task, now: float, url: str) -> JsonObject:
    """``GET /v1/video/generations/{id}``: the relay envelope around the raw upstream task.

    ``data.quota`` is the task's charge in quota units, as new-api keeps it: the pre-charge
    while the task runs, the settled charge once it succeeded, 0 once it failed (refunded).
    """
    lifecycle = task.lifecycle(now)
    finished = task.finished_at(now)
    started = lifecycle not in (TaskLifecycle.UNKNOWN, TaskLifecycle.QUEUED)
    data: JsonObject = {
        "task_id": task.id,
        "status": ENVELOPE_STATUS[lifecycle],
        "progress": f"{task.progress(now)}%",
        "fail_reason": task.failure().message if lifecycle is TaskLifecycle.FAILED else "",
        "result_url": url,
        "submit_time": int(task.created_at),
        "start_time": int(task.started_at) if started else 0,
        "finish_time": int(finished) if finished is not None else 0,
        "quota": task_quota(task, lifecycle),
        "properties": {
            "origin_model_name": task.submission.model.id,
            "upstream_model_name": task.submission.model.upstream,
        },
        "data": upstream_object(task, now, url),
    }
    return {"code": "success", "message": "", "data": data}


def upstream_object(task: Task, now: float, url: str) -> JsonObject:
    """The raw upstream (``cgt-``) task, as the model service reports it."""
    lifecycle = task.lifecycle(now)
    submission = task.submission
    body: JsonObject = {
        "id": task.upstream_id,
        "model": submission.model.upstream,
        "status": _upstream_status(task, lifecycle),
        "created_at": int(task.created_at),
        "updated_at": int(task.finished_at(now) or now),
        "seed": submission.seed if submission.seed >= 0 else _drawn_seed(task.id),
        "resolution": submission.resolution,
        "ratio": submission.ratio,
        "duration": submission.seconds,
        "framespersecond": FPS,
        "generate_audio": submission.audio,
    }
    if lifecycle is TaskLifecycle.COMPLETED:
        body["content"] = {"video_url": url}
        tokens = used_tokens(submission, task.id)
        body["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
    if lifecycle is TaskLifecycle.FAILED:
        failure = task.failure()
        body["error"] = {"code": failure.code, "message": failure.message}
    return body


def task_quota(task: Task, lifecycle: TaskLifecycle) -> int:
    """The task's charge in quota units at ``lifecycle`` (see :func:`generation_envelope`)."""
    if lifecycle is TaskLifecycle.FAILED:
        return 0
    if lifecycle is TaskLifecycle.COMPLETED:
        return settled_quota(task.submission, task.id)
    return precharge_quota(task.submission)


def _upstream_status(task: Task, lifecycle: TaskLifecycle) -> str:
    if lifecycle is TaskLifecycle.FAILED:
        return task.failure().upstream_status
    return UPSTREAM_STATUS[lifecycle]


def callback_body(task: Task, now: float, url: str) -> JsonObject:
    """The webhook body: the upstream task object plus the relay's ``task_id``."""
    return {**upstream_object(task, now, url), "task_id": task.id}


def model_list() -> JsonObject:
    """``GET /v1/models``."""
    data = [
        {"id": spec.id, "object": "model", "created": spec.created, "owned_by": "volcengine",
         "supported_endpoint_types": ["openai-video"]}
        for spec in MODELS.values()
    ]  # fmt: skip
    return {"object": "list", "success": True, "data": data}


def _drawn_seed(task_id: str) -> int:
    """The seed the upstream "chose" when none was given: stable for a task."""
    return int.from_bytes(task_id.encode()[-4:], "big") % 2**31
