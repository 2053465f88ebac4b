"""The client's connection pool: ``ClientConfig.pool_size`` connections per host at most.

Against the served simulator, so requests go through the HTTP library's real pool: an open
download holds its connection until it is closed.
"""

from __future__ import annotations

import anyio
import pytest

from rdpipe.client import ApiKey, ClientConfig, NotSent
from rdpipe.client.config import Timeouts
from rdpipe.client.http import HttpSession
from rdpipe.sim import SimServer
from tests.conftest import SIM_API_KEY

pytestmark = pytest.mark.anyio


def config_for(sim: SimServer, pool_size: int | None) -> ClientConfig:
    """The simulator's client config, waiting a fifth of a second at most for a connection."""
    return ClientConfig(
        ApiKey(SIM_API_KEY), sim.base_url, timeouts=Timeouts(pool=0.2), pool_size=pool_size
    )


async def request_during_stream(config: ClientConfig) -> int:
    """The status of a request sent while a streamed answer holds a connection open."""
    session = HttpSession(config)
    try:
        with anyio.fail_after(30):
            async with session.stream("/v1/models", operation="list models") as held:
                assert held.status == 200
                answer = await session.send("GET", "/v1/models", operation="list models")
                return answer.status
    finally:
        await session.aclose()


@pytest.mark.parametrize("pool_size", [2, None])
async def test_a_request_beside_an_open_stream_gets_a_connection_of_its_own(
    sim: SimServer, pool_size: int | None
) -> None:
    """With room in the pool (or no limit), a request does not wait for an open download."""
    assert await request_during_stream(config_for(sim, pool_size)) == 200


async def test_a_full_pool_makes_a_request_wait_for_a_connection(sim: SimServer) -> None:
    """With ``pool_size=1`` held by an open stream, the next request waits for the connection
    and, after ``timeouts.pool``, is reported as never sent."""
    with pytest.raises(NotSent, match=r"no free connection within 0\.2 s; nothing was sent"):
        await request_during_stream(config_for(sim, 1))


def test_a_pool_holds_at_least_one_connection() -> None:
    """A pool size below 1 is refused where the config is made."""
    with pytest.raises(ValueError, match="pool_size must be at least 1, not 0"):
        ClientConfig(ApiKey("sk-x"), pool_size=0)
