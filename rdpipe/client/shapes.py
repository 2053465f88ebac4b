"""Reading the server's answers: task status in both forms, submit replies and the model list.

RelayDance serves one task in two forms (see the API contract, sections 2 and 3): the OpenAI
video object from ``GET /v1/videos/{id}``, and the ``{code, message, data}`` envelope with
upper-case statuses, ``"50%"`` progress and the raw upstream task in ``data.data`` from
``GET /v1/video/generations/{id}``. Both are normalised to one :class:`TaskStatus`. Unknown
fields are ignored; an unknown status counts as pending. Pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class TaskState(StrEnum):
    """Where a task is in its life: waiting, generating, or finished one way or the other."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (TaskState.SUCCEEDED, TaskState.FAILED)


_STATES: dict[str, TaskState] = {
    # OpenAI video object; "unknown" is the relay's "not polled upstream yet".
    "queued": TaskState.PENDING,
    "unknown": TaskState.PENDING,
    "in_progress": TaskState.RUNNING,
    "completed": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
    # Relay envelope, upper case on the wire.
    "not_start": TaskState.PENDING,
    "submitted": TaskState.PENDING,
    "success": TaskState.SUCCEEDED,
    "failure": TaskState.FAILED,
    # Raw upstream task.
    "running": TaskState.RUNNING,
    "succeeded": TaskState.SUCCEEDED,
    "cancelled": TaskState.FAILED,
    "expired": TaskState.FAILED,
}


def is_known_status(raw_status: str) -> bool:
    """Say whether ``raw_status`` is one the client knows (any case)."""
    return raw_status.lower() in _STATES


def state_of(raw_status: str) -> TaskState:
    """Map a wire status of any form to a :class:`TaskState`; unknown ones are pending."""
    return _STATES.get(raw_status.lower(), TaskState.PENDING)


@dataclass(frozen=True)
class TaskStatus:
    """One reading of a task: state, progress in percent, and the result or the failure.

    ``raw_status`` is the status as the server spelled it. ``seed`` and ``duration`` (seconds)
    come from the upstream task when the server passes them on.

    ``settled_quota``: what the relay charged for the task, in quota units (an int), read from
    the envelope form's ``data.quota`` (relaydance-api.md §12): meaningful once the task has
    finished (the settled charge of a success; 0 for a refunded failure); while it runs the
    relay may show the pre-charge there. ``None`` when the
    field is absent or not a whole non-negative number (a numeric string such as
    ``"1093750"`` is read), and always in the video-object form, which does not carry it: the
    client polls the envelope form first and keeps to the video object only on a relay
    without the envelope route, where the settled charge cannot be known.
    ``upstream_status``: the raw upstream task's own status (envelope ``data.data.status``,
    lower case: ``queued``, ``running``, ``succeeded``, ``failed``, ``cancelled``,
    ``expired``, §3), which tells an expired task from a failed one; ``None`` when absent and
    in the video-object form.
    """

    task_id: str
    state: TaskState
    progress: int | None = None
    video_url: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    seed: int | None = None
    duration: float | None = None
    raw_status: str = ""
    settled_quota: int | None = None
    upstream_status: str | None = None


@dataclass(frozen=True)
class ModelEntry:
    """One model the server offers, as ``GET /v1/models`` lists it."""

    id: str
    owned_by: str | None = None
    endpoint_types: tuple[str, ...] = ()


def parse_task(payload: object, task_id: str) -> TaskStatus:
    """Normalise either task form to a :class:`TaskStatus`; ``task_id`` fills a missing id."""
    document = _mapping(payload)
    if isinstance(document.get("data"), Mapping) and "code" in document:
        return _parse_envelope(_mapping(document["data"]), task_id)
    return _parse_video_object(document, task_id)


def _parse_video_object(document: Mapping[str, Any], task_id: str) -> TaskStatus:
    raw_status = _text(document.get("status")) or "unknown"
    metadata = _mapping(document.get("metadata"))
    error = _mapping(document.get("error"))
    seconds = document.get("seconds", metadata.get("seconds"))
    return TaskStatus(
        task_id=_text(document.get("task_id")) or _text(document.get("id")) or task_id,
        state=state_of(raw_status),
        progress=parse_progress(document.get("progress")),
        video_url=_text(metadata.get("url")) or _text(document.get("video_url")),
        error_code=_text(error.get("code")),
        error_message=_text(error.get("message")),
        seed=_integer(document.get("seed", metadata.get("seed"))),
        duration=_number(seconds),
        raw_status=raw_status,
    )


def _parse_envelope(data: Mapping[str, Any], task_id: str) -> TaskStatus:
    raw_status = _text(data.get("status")) or "unknown"
    upstream = _mapping(data.get("data"))
    upstream_error = _mapping(upstream.get("error"))
    content = _mapping(upstream.get("content"))
    return TaskStatus(
        task_id=_text(data.get("task_id")) or task_id,
        state=state_of(raw_status),
        progress=parse_progress(data.get("progress")),
        video_url=_text(data.get("result_url")) or _text(content.get("video_url")),
        error_code=_text(upstream_error.get("code")),
        error_message=_text(data.get("fail_reason")) or _text(upstream_error.get("message")),
        seed=_integer(upstream.get("seed")),
        duration=_number(upstream.get("duration")),
        raw_status=raw_status,
        settled_quota=_quota(data.get("quota")),
        upstream_status=(_text(upstream.get("status")) or "").strip().lower() or None,
    )


def parse_progress(value: object) -> int | None:
    """Read progress given as ``50``, ``50.0`` or ``"50%"`` as whole percent, clamped to 0-100."""
    if isinstance(value, str):
        value = value.strip().removesuffix("%").strip()
    number = _number(value)
    if number is None:
        return None
    return max(0, min(100, int(number)))


def parse_task_id(payload: object) -> str | None:
    """Read the task id of a submit reply: ``task_id``, else ``id``, also inside ``data``."""
    document = _mapping(payload)
    for source in (document, _mapping(document.get("data"))):
        found = _text(source.get("task_id")) or _text(source.get("id"))
        if found:
            return found
    return None


class ModelListUnreadable(ValueError):
    """``GET /v1/models`` answered JSON that is not a model list; ``str()`` says what it is."""


def parse_models(payload: object) -> list[ModelEntry]:
    """Read the ``data`` list of ``GET /v1/models``: ``{"data": [{"id": "...", ...}, ...]}``.

    An object without ``id`` is skipped. Raises :class:`ModelListUnreadable` for anything
    else (no object, no ``data`` list, an entry that is not an object, an ``id`` that is not
    a non-empty string, no model left): such an answer says nothing about which ids are
    served, so it is never read as "none"."""
    if not isinstance(payload, Mapping):
        raise ModelListUnreadable(f"the answer is {_json_kind(payload)}, not an object")
    entries = payload.get("data")
    if not isinstance(entries, list):
        raise ModelListUnreadable(f"its data is {_json_kind(entries)}, not a list of models")
    if not entries:
        raise ModelListUnreadable("its list of models is empty")
    models = []
    for number, entry in enumerate(entries, start=1):
        if isinstance(entry, Mapping) and "id" not in entry:
            continue  # not a model (a relay's note, a group header)
        model_id = entry.get("id") if isinstance(entry, Mapping) else None
        if not isinstance(model_id, str) or not model_id.strip():
            raise ModelListUnreadable(f"entry {number} of its list is not a model with an id")
        types = entry.get("supported_endpoint_types")
        models.append(
            ModelEntry(
                id=model_id,
                owned_by=_text(entry.get("owned_by")),
                endpoint_types=tuple(str(t) for t in types) if isinstance(types, list) else (),
            )
        )
    if not models:
        raise ModelListUnreadable("no entry of its list has an id")
    return models


def _json_kind(value: object) -> str:
    """A JSON value's kind in words: ``null``, ``a string``, ``an object``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    """Return a non-empty string, or None for missing, empty or non-string values."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _quota(value: object) -> int | None:
    """A charge in quota units: a whole, non-negative number (or such a numeric string)."""
    number = _integer(value)
    return number if number is not None and number >= 0 else None


def _integer(value: object) -> int | None:
    number = _number(value)
    return None if number is None or number != int(number) else int(number)
