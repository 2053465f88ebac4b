"""Fixtures for the simulator's tests: shared httpx clients for the reset simulator."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from rdpipe.sim import SimServer


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
