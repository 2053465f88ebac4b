"""Fixtures for the client tests: a scripted mock server and a client wired to it."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from rdpipe.client import ApiKey, ClientConfig, RecordingClock, RelayDanceClient, RetryPolicy

API_KEY = "sk-test-0123456789abcdef"
BASE_URL = "https://api.relay.test"
STORAGE = "https://storage.cdn.test"

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


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def fake_time() -> RecordingClock:
    return RecordingClock(start=1000.0)


@pytest.fixture
def config() -> ClientConfig:
    return ClientConfig(
        api_key=ApiKey(API_KEY),
        base_url=BASE_URL,
        retry=RetryPolicy(attempts=4, initial_wait=0.5, max_wait=4.0, retry_after_cap=30.0),
    )


@pytest.fixture
async def client(
    config: ClientConfig, script: Script, fake_time: RecordingClock
) -> AsyncIterator[RelayDanceClient]:
    transport = httpx.MockTransport(script)
    async with RelayDanceClient(
        config,
        transport=transport,
        storage_transport=transport,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        random=random.Random(7),
        wall_clock=lambda: 1_780_000_000.0,
    ) as made:
        yield made


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)
