"""Fixtures shared by every test area.

``sim_server`` (session scope)
    One RelayDance simulator for the whole session: fast timing (a task's lifecycle takes
    about 0.3 s plus its render), API key ``"sk-sim-test"``, seed 0, no faults, served from a
    background thread on two free ports of 127.0.0.1 (``sim_server.base_url`` for the API,
    ``sim_server.storage_url`` for clip downloads). Clips render into a session temp dir.

``sim`` (function scope)
    The same server, reset for one test: faults back to none and observations (counters,
    logged requests, created task ids, webhook deliveries) cleared before the test; faults are
    reset again afterwards so a failing test cannot leak them. Set ``sim.faults = Faults(...)``
    inside a test to inject faults.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rdpipe.sim import Faults, SimConfig, SimServer, Timing, run_simulator

SIM_API_KEY = "sk-sim-test"


@pytest.fixture(scope="session")
def sim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    """A simulator shared by the whole session (fast timing, key ``sk-sim-test``)."""
    work_dir: Path = tmp_path_factory.mktemp("sim")
    config = SimConfig(api_key=SIM_API_KEY, timing=Timing.fast(), seed=0, work_dir=work_dir)
    with run_simulator(config) as server:
        yield server


@pytest.fixture
def sim(sim_server: SimServer) -> Iterator[SimServer]:
    """The session simulator with no faults and empty counters for this test."""
    sim_server.faults = Faults()
    sim_server.clear_observations()
    yield sim_server
    sim_server.faults = Faults()
