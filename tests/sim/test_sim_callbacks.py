"""Webhooks: the final task state is POSTed to metadata.callback_url once (or as configured)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from rdpipe.sim import Faults, SimServer
from tests.sim.simclient import submit


class _Receiver:
    """A tiny local webhook receiver that keeps every JSON body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?run=1"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.bodies)


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    """A webhook receiver serving on a free local port for one test."""
    hook = _Receiver()
    thread = threading.Thread(target=hook.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()
    thread.join()


def test_finished_task_is_posted_once(
    api: httpx.Client, sim: SimServer, receiver: _Receiver
) -> None:
    """A completed task's upstream object, with the relay task_id, is POSTed exactly once."""
    task_id = submit(api, metadata={"callback_url": receiver.url})
    (body,) = receiver.wait_for(1)
    time.sleep(0.2)
    assert len(receiver.bodies) == 1
    assert body["task_id"] == task_id
    assert body["id"].startswith("cgt-")
    assert body["status"] == "succeeded"
    assert body["content"]["video_url"].startswith(sim.storage_url)
    assert api.get(f"/v1/videos/{task_id}").json()["status"] == "completed"
    assert [delivery.status for delivery in sim.callbacks()] == [204]


def test_failed_task_is_posted_with_its_error(
    api: httpx.Client, sim: SimServer, receiver: _Receiver
) -> None:
    """A failed task's webhook says failed and carries the upstream error code."""
    sim.faults = Faults(task_failure_rate=1.0)
    task_id = submit(api, metadata={"callback_url": receiver.url})
    (body,) = receiver.wait_for(1)
    assert (body["task_id"], body["status"]) == (task_id, "failed")
    assert body["error"]["code"] == "OutputVideoSensitiveContentDetected"


def test_callback_can_be_delivered_twice(
    api: httpx.Client, sim: SimServer, receiver: _Receiver
) -> None:
    """With callback_deliveries=2 the same final state arrives twice, to test de-duplication."""
    sim.faults = Faults(callback_deliveries=2)
    task_id = submit(api, metadata={"callback_url": receiver.url})
    first, second = receiver.wait_for(2)
    assert first["task_id"] == second["task_id"] == task_id
    assert first["status"] == second["status"] == "succeeded"


def test_unreachable_receiver_is_recorded_not_fatal(api: httpx.Client, sim: SimServer) -> None:
    """A webhook nobody answers is logged as a failed delivery and the task still completes."""
    task_id = submit(api, metadata={"callback_url": "http://127.0.0.1:9/hook"})
    deadline = time.monotonic() + 20
    while not sim.callbacks() and time.monotonic() < deadline:
        time.sleep(0.02)
    (delivery,) = sim.callbacks()
    assert (delivery.status, delivery.error is not None) == (0, True)
    assert api.get(f"/v1/videos/{task_id}").json()["status"] == "completed"
