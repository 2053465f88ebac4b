"""Error answers in both JSON formats and plain text become typed, readable errors."""

from __future__ import annotations

import json

import pytest

from rdpipe.client import (
    ApiError,
    AuthenticationFailed,
    InvalidRequest,
    ModelNotServed,
    QuotaExceeded,
    RateLimited,
    ServerError,
    TaskNotFound,
)
from rdpipe.client.refusals import error_for_answer, read_error_body

OPENAI_401 = json.dumps(
    {"error": {"message": "invalid token", "type": "new_api_error", "code": "invalid_api_key"}}
)
RELAY_400 = json.dumps({"code": "invalid_request", "message": "prompt is required", "data": None})


def test_reads_openai_style() -> None:
    """The OpenAI-style body gives error.code and error.message."""
    assert read_error_body(OPENAI_401) == ("invalid_api_key", "invalid token")


def test_reads_relay_style() -> None:
    """The relay-style body gives code and message."""
    assert read_error_body(RELAY_400) == ("invalid_request", "prompt is required")


def test_reads_upstream_json_inside_message() -> None:
    """An upstream rejection nested as JSON in message shows the upstream's own message."""
    inner = json.dumps({"error": {"code": "InvalidParameter", "message": "duration must be 4-15"}})
    body = json.dumps({"code": "upstream_error", "message": inner, "data": None})
    assert read_error_body(body) == ("upstream_error", "duration must be 4-15")


def test_reads_plain_text() -> None:
    """A plain-text body becomes the message, whitespace squeezed, with no code."""
    assert read_error_body("<html>\n 502  Bad Gateway\n</html>") == (
        None,
        "<html> 502 Bad Gateway </html>",
    )


@pytest.mark.parametrize(
    ("status", "body", "task_id", "kind"),
    [
        (401, OPENAI_401, None, AuthenticationFailed),
        (402, "payment required", None, QuotaExceeded),
        (
            403,
            json.dumps({"code": "insufficient_user_quota", "message": "余额不足", "data": None}),
            None,
            QuotaExceeded,
        ),
        (400, RELAY_400, None, InvalidRequest),
        (
            400,
            json.dumps({"code": "task_not_exist", "message": "task_not_exist", "data": None}),
            "task_x",
            TaskNotFound,
        ),
        (404, "404 page not found", "task_x", TaskNotFound),
        (404, "404 page not found", None, ApiError),
        (429, "请求过于频繁", None, RateLimited),
        (
            503,
            json.dumps({"error": {"message": "no channel", "code": "model_not_found"}}),
            None,
            ModelNotServed,  # an InvalidRequest: never retried
        ),
        (502, "bad gateway", None, ServerError),
        (409, "conflict", None, ApiError),
    ],
)
def test_status_maps_to_error_class(
    status: int, body: str, task_id: str | None, kind: type[ApiError]
) -> None:
    """Each status (and relay code) maps to the error class a user can act on."""
    error = error_for_answer("GET /x", status, body, task_id=task_id)
    assert type(error) is kind
    assert error.status == status


def test_invalid_request_message_carries_server_reason() -> None:
    """A 400 names the operation, the code and the server's reason, and says what to fix."""
    error = error_for_answer("POST /v1/video/generations", 400, RELAY_400)
    assert str(error) == (
        "RelayDance rejected POST /v1/video/generations as invalid (400 invalid_request): "
        "prompt is required\n"
        "Fix the shot's parameters (model, seconds, ratio, references) and run again."
    )


def test_rate_limited_message_mentions_wait() -> None:
    """A 429 with Retry-After says how long the server asked to wait."""
    error = error_for_answer("GET /v1/models", 429, "slow down", retry_after=3.0)
    assert error.retry_after == 3.0
    assert str(error).startswith(
        "RelayDance is rate limiting GET /v1/models (429): slow down; it asked to wait 3 s"
    )


def test_task_not_found_names_the_task() -> None:
    """TaskNotFound names the missing task id."""
    error = error_for_answer("GET /v1/videos/task_x", 404, "", task_id="task_x")
    assert str(error).startswith("RelayDance has no task task_x (404)")
