"""Starting the simulator: inside an event loop, on separate ports, with the documented pace."""

from __future__ import annotations

import anyio
import httpx
import pytest

from rdpipe.sim import PortUnavailable, SimConfig, SimServer, Timing, open_simulator, run_simulator


def test_open_simulator_serves_inside_a_running_loop() -> None:
    """open_simulator serves from the caller's asyncio loop and stops when the block ends."""

    async def main() -> int:
        async with open_simulator(SimConfig(api_key="k")) as sim:
            headers = {"Authorization": "Bearer k"}
            async with httpx.AsyncClient(base_url=sim.base_url, headers=headers) as client:
                return (await client.get("/v1/models")).status_code

    assert anyio.run(main) == 200


def test_api_and_storage_listen_on_different_local_ports(sim: SimServer) -> None:
    """The API and the storage origin are separate 127.0.0.1 ports."""
    assert sim.base_url.startswith("http://127.0.0.1:")
    assert sim.storage_url.startswith("http://127.0.0.1:")
    assert sim.base_url != sim.storage_url


def test_busy_port_is_reported(sim: SimServer) -> None:
    """Asking for a port already in use fails with a message naming host and port."""
    port = int(sim.base_url.rsplit(":", 1)[1])
    with (
        pytest.raises(PortUnavailable, match=f"127.0.0.1:{port}"),
        run_simulator(SimConfig(port=port)),
    ):
        pass


def test_timing_presets() -> None:
    """Fast timing finishes in about 0.3 s; realistic starts after 6 s and ends after 3 min."""
    fast, realistic = Timing.fast(), Timing.realistic()
    assert fast.total == pytest.approx(0.3)
    assert realistic.unknown + realistic.queued == pytest.approx(6)
    assert realistic.total == pytest.approx(180)
    with pytest.raises(ValueError):
        Timing(running=-1)
