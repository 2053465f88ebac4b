"""Reading both task forms, submit replies and the model list."""

from __future__ import annotations

import pytest

from rdpipe.client import ModelEntry, TaskState, TaskStatus
from rdpipe.client.shapes import parse_models, parse_progress, parse_task, parse_task_id

TASK = "task_" + "a" * 32


def test_video_object_running() -> None:
    """The OpenAI video object in progress reads as running with integer progress."""
    payload = {
        "id": TASK,
        "task_id": TASK,
        "object": "video",
        "model": "doubao-seedance-2-0-720p",
        "status": "in_progress",
        "progress": 50,
        "created_at": 1780000000,
        "completed_at": 1780000054,
        "metadata": {"url": ""},
    }
    assert parse_task(payload, TASK) == TaskStatus(
        task_id=TASK, state=TaskState.RUNNING, progress=50, raw_status="in_progress"
    )


def test_video_object_completed_has_url() -> None:
    """A completed video object gives the signed URL from metadata.url."""
    payload = {
        "id": TASK,
        "status": "completed",
        "progress": 100,
        "metadata": {"url": "https://s/x.mp4?sig=1"},
    }
    status = parse_task(payload, TASK)
    assert (status.state, status.video_url, status.progress) == (
        TaskState.SUCCEEDED,
        "https://s/x.mp4?sig=1",
        100,
    )


def test_video_object_failed_has_code_and_message() -> None:
    """A failed video object carries the upstream error code and message."""
    payload = {
        "id": TASK,
        "status": "failed",
        "error": {"message": "sensitive output", "code": "OutputVideoSensitiveContentDetected"},
    }
    status = parse_task(payload, TASK)
    assert (status.state, status.error_code, status.error_message) == (
        TaskState.FAILED,
        "OutputVideoSensitiveContentDetected",
        "sensitive output",
    )


def test_envelope_with_upstream_seed_and_duration() -> None:
    """The relay envelope reads upper-case status, "50%" progress and the nested seed/duration."""
    payload = {
        "code": "success",
        "message": "",
        "data": {
            "task_id": TASK,
            "status": "SUCCESS",
            "progress": "100%",
            "fail_reason": "",
            "result_url": "https://s/clip.mp4",
            "properties": {"origin_model_name": "m"},
            "data": {"id": "cgt-1", "status": "succeeded", "seed": 4242, "duration": 5, "extra": 1},
        },
    }
    assert parse_task(payload, TASK) == TaskStatus(
        task_id=TASK,
        state=TaskState.SUCCEEDED,
        progress=100,
        video_url="https://s/clip.mp4",
        seed=4242,
        duration=5.0,
        raw_status="SUCCESS",
        upstream_status="succeeded",
    )


def test_envelope_failure_reason() -> None:
    """A FAILURE envelope gives fail_reason as the message and the upstream error code."""
    payload = {
        "code": "success",
        "data": {
            "status": "FAILURE",
            "progress": "100%",
            "fail_reason": "content rejected",
            "data": {"status": "failed", "error": {"code": "InputTextSensitive", "message": "x"}},
        },
    }
    status = parse_task(payload, TASK)
    assert (status.task_id, status.state, status.error_code, status.error_message) == (
        TASK,
        TaskState.FAILED,
        "InputTextSensitive",
        "content rejected",
    )


def test_envelope_url_from_upstream_content() -> None:
    """Without result_url, the envelope's URL comes from the upstream content.video_url."""
    payload = {
        "code": "success",
        "data": {
            "status": "SUCCESS",
            "result_url": "",
            "data": {"content": {"video_url": "https://u/v.mp4"}},
        },
    }
    assert parse_task(payload, TASK).video_url == "https://u/v.mp4"


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("queued", TaskState.PENDING),
        ("unknown", TaskState.PENDING),
        ("NOT_START", TaskState.PENDING),
        ("SUBMITTED", TaskState.PENDING),
        ("QUEUED", TaskState.PENDING),
        ("UNKNOWN", TaskState.PENDING),
        ("IN_PROGRESS", TaskState.RUNNING),
        ("running", TaskState.RUNNING),
        ("completed", TaskState.SUCCEEDED),
        ("SUCCESS", TaskState.SUCCEEDED),
        ("failed", TaskState.FAILED),
        ("FAILURE", TaskState.FAILED),
        ("cancelled", TaskState.FAILED),
        ("expired", TaskState.FAILED),
        ("warming_up", TaskState.PENDING),
    ],
)
def test_every_status_maps(raw: str, state: TaskState) -> None:
    """Every documented status of both forms maps to a state; an unknown one is pending."""
    assert parse_task({"status": raw}, TASK).state is state


@pytest.mark.parametrize(
    ("value", "percent"),
    [
        (50, 50),
        ("50%", 50),
        (" 7 % ", 7),
        (99.9, 99),
        ("250%", 100),
        ("", None),
        (None, None),
        ("n/a", None),
    ],
)
def test_progress_forms(value: object, percent: int | None) -> None:
    """Progress as a number or a percent string becomes whole percent, clamped; junk is None."""
    assert parse_progress(value) == percent


def test_submit_reply_forms() -> None:
    """The task id is read from task_id, else id, else inside data; absence gives None."""
    assert parse_task_id({"task_id": "task_1", "id": "task_2"}) == "task_1"
    assert parse_task_id({"id": "task_2", "status": "queued"}) == "task_2"
    assert parse_task_id({"code": "success", "data": {"task_id": "task_3"}}) == "task_3"
    assert parse_task_id({"status": "submitted"}) is None
    assert parse_task_id(["not", "an", "object"]) is None


def test_models_list() -> None:
    """The model list keeps ids, owners and endpoint types, and skips entries without an id."""
    payload = {
        "object": "list",
        "success": True,
        "data": [
            {
                "id": "doubao-seedance-2-0-1080p",
                "object": "model",
                "owned_by": "volc",
                "supported_endpoint_types": ["openai-video"],
            },
            {"object": "model"},
            {"id": "seedance-1-5-pro-with-audio"},
        ],
    }
    assert parse_models(payload) == [
        ModelEntry("doubao-seedance-2-0-1080p", "volc", ("openai-video",)),
        ModelEntry("seedance-1-5-pro-with-audio"),
    ]
