"""Turning an error answer into a typed :class:`~rdpipe.client.errors.ApiError`.

The server speaks two error formats and sometimes plain text (API contract, section 6): the
OpenAI style ``{"error": {"message", "type", "code"}}`` and the relay style
``{"code", "message", "data": null}``. Pure functions, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rdpipe.client.errors import (
    ApiError,
    AuthenticationFailed,
    ConcurrencyLimitReached,
    GateUnavailable,
    InvalidRequest,
    ModelNotServed,
    QuotaExceeded,
    RateLimited,
    ServerError,
    TaskNotFound,
)

_MESSAGE_LIMIT = 500
#: The concurrency gate's codes (relaydance-api.md §13): over the key's limit (429), and its
#: own store down (503).
CONCURRENCY_LIMIT_CODE = "token_concurrency_limit_reached"
GATE_UNAVAILABLE_CODE = "token_concurrency_unavailable"


def read_error_body(text: str) -> tuple[str | None, str]:
    """Return the error ``(code, message)`` from a body in either JSON format or plain text."""
    try:
        document = json.loads(text)
    except ValueError:
        return None, _shorten(text)
    if not isinstance(document, Mapping):
        return None, _shorten(text)
    nested = document.get("error")
    if isinstance(nested, Mapping):
        return _string(nested.get("code")) or _string(nested.get("type")), _message(nested)
    if isinstance(nested, str):
        return _string(document.get("code")), _shorten(nested)
    return _string(document.get("code")), _message(document)


def _message(document: Mapping[str, Any]) -> str:
    message = document.get("message", document.get("detail", ""))
    if not isinstance(message, str):
        message = json.dumps(message, ensure_ascii=False)
    # Upstream rejections arrive as the upstream JSON inside "message": show its own message.
    _, inner = read_error_body(message) if message.lstrip().startswith("{") else (None, message)
    return _shorten(inner)


def _string(value: object) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
        return printable(str(value))
    return None


def _shorten(text: str) -> str:
    """A server's words on one line, at most ``_MESSAGE_LIMIT`` characters, with characters a
    terminal would act on (ESC...) written as escapes: they are data, never colour."""
    text = printable(" ".join(text.split()))
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def printable(text: str) -> str:
    """``text`` with each character that is not printable written as its Python escape."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def error_for_answer(
    operation: str,
    status: int,
    text: str,
    *,
    retry_after: float | None = None,
    task_id: str | None = None,
) -> ApiError:
    """Build the typed error for an error answer of ``status`` with body ``text``."""
    code, message = read_error_body(text)
    kind = _error_class(status, code, task_id)
    return kind(operation, status, code, message, retry_after=retry_after, task_id=task_id)


def _error_class(status: int, code: str | None, task_id: str | None) -> type[ApiError]:
    if status == 401:
        return AuthenticationFailed
    if status in (402, 403):
        return QuotaExceeded
    if code == "task_not_exist" or (status == 404 and task_id is not None):
        return TaskNotFound
    if code == "model_not_found":
        # The relay answers an unknown model with 503 model_not_found: a refusal, not an outage.
        return ModelNotServed
    if status == 400:
        return InvalidRequest
    if status == 429:
        return ConcurrencyLimitReached if code == CONCURRENCY_LIMIT_CODE else RateLimited
    if status >= 500:
        return GateUnavailable if code == GATE_UNAVAILABLE_CODE else ServerError
    return ApiError
