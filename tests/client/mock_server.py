"""A scripted mock server for the client's unit tests, on httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

API_KEY = "sk-test-0123456789abcdef"
BASE_URL = "https://api.relay.test"
STORAGE = "https://storage.cdn.test"
SIM_KEY = "sk-sim-client-secret-7f3a9c"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """A mock server: answers each (method, path) from a queue, and records every request."""

    def __init__(self) -> None:
        self.replies: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[httpx.Request] = []

    def add(self, method: str, path: str, *replies: Reply) -> None:
        self.replies.setdefault((method, path), []).extend(replies)

    def json(self, method: str, path: str, status: int, body: Any, **headers: str) -> None:
        self.add(method, path, httpx.Response(status, json=body, headers=headers))

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.url.path == path)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.replies.get((request.method, request.url.path))
        if not queue:
            return httpx.Response(404, json={"error": {"message": "no such route"}})
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)
