"""Helpers for the simulator's tests: submit a small clip, poll a task until it is final."""

from __future__ import annotations

import time
from typing import Any

import httpx

FINAL = {"completed", "failed"}
SMALL_MODEL = "doubao-seedance-2-0-480p"


def submit(api: httpx.Client, **fields: Any) -> str:
    """Submit a small clip (480p, 4 s) with ``fields`` overriding the body; return its id."""
    body: dict[str, Any] = {"model": SMALL_MODEL, "prompt": "a red kite", "seconds": "4"}
    body.update(fields)
    response = api.post("/v1/video/generations", json=body)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["task_id"]
    return task_id


def wait_final(api: httpx.Client, task_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll ``GET /v1/videos/{id}`` until the task is final; return that video object."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        video: dict[str, Any] = api.get(f"/v1/videos/{task_id}").json()
        if video["status"] in FINAL:
            return video
        time.sleep(0.02)
    raise AssertionError(f"task {task_id} did not finish within {timeout} s")
