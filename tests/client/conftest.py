"""Fixtures for the client tests: a scripted mock server, a client wired to it, the simulator;
a scripted real HTTP server on 127.0.0.1 and a client that reaches it through its sockets."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from rdpipe.client import ApiKey, ClientConfig, RecordingClock, RelayDanceClient, RetryPolicy
from rdpipe.sim import Faults, SimConfig, SimServer, Timing, run_simulator
from tests.client.http_fixture import ScriptedServer, serve_script
from tests.client.mock_server import API_KEY, BASE_URL, SIM_KEY, Script


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


@pytest.fixture(scope="session")
def client_sim() -> Iterator[SimServer]:
    with run_simulator(SimConfig(api_key=SIM_KEY, timing=Timing.fast(), seed=0)) as server:
        yield server


@pytest.fixture
def fresh_sim(client_sim: SimServer) -> SimServer:
    client_sim.faults = Faults()
    client_sim.clear_observations()
    return client_sim


@pytest.fixture
def http_script() -> Iterator[ScriptedServer]:
    """A scripted HTTP server on 127.0.0.1 that counts the requests reaching it."""
    yield from serve_script()


@pytest.fixture
async def http_client(
    http_script: ScriptedServer, fake_time: RecordingClock
) -> AsyncIterator[RelayDanceClient]:
    """A client of ``http_script`` over real HTTP; its waits go to ``fake_time``."""
    config = ClientConfig(
        api_key=ApiKey(API_KEY),
        base_url=http_script.base_url,
        retry=RetryPolicy(attempts=4, initial_wait=0.5, max_wait=4.0, retry_after_cap=30.0),
    )
    async with RelayDanceClient(
        config,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        random=random.Random(7),
        wall_clock=lambda: 1_780_000_000.0,
    ) as made:
        yield made
