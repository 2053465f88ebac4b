"""Helpers for the simulator's tests: an authorised httpx client and a status poller."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from rdpipe.sim import SimServer

FINAL = {"completed", "failed"}
SMALL_MODEL = "doubao-seedance-2-0-480p"


@pytest.fixture(scope="session")
def _session_api(sim_server: SimServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {sim_server.api_key}"}
    with httpx.Client(base_url=sim_server.base_url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def _session_plain() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture
def api(sim: SimServer, _session_api: httpx.Client) -> httpx.Client:
    """An httpx client for the reset simulator's API, with the right bearer key.

    Shared by the session: building an httpx client costs tens of milliseconds.
    """
    return _session_api


@pytest.fixture
def plain(sim: SimServer, _session_plain: httpx.Client) -> httpx.Client:
    """An httpx client with no base URL and no credentials (for storage and auth tests)."""
    return _session_plain


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
