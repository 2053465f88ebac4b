"""rdpipe's uvicorn servers, served in the main thread's event loop as a run serves them, leave
the process's SIGINT and SIGTERM handlers alone (:mod:`rdpipe.local_server`).

uvicorn's own ``Server`` swaps both handlers while it serves, puts back a stale one when two
servers stop in the order they started, and raises each signal it caught again on its way out:
one Ctrl-C reached the run's Ctrl-C watch twice.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import pytest

from rdpipe.scheduler import Waker
from rdpipe.session.webhooks import WebhookReceiver, serve_webhooks
from rdpipe.sim import SimConfig
from rdpipe.sim.server import open_simulator


def _handlers() -> tuple[Any, Any]:
    return signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)


def _simulator() -> AbstractAsyncContextManager[object]:
    return open_simulator(SimConfig())


def _webhooks() -> AbstractAsyncContextManager[None]:
    return serve_webhooks(WebhookReceiver(Waker(), {"a"}), "127.0.0.1", 0)


@pytest.mark.parametrize("serve", [_simulator, _webhooks], ids=["simulator", "webhooks"])
def test_a_server_in_the_main_threads_loop_leaves_signal_handlers_alone(
    serve: Callable[[], AbstractAsyncContextManager[object]],
) -> None:
    """The handlers are the loop's own before, while and after the server serves."""

    async def main() -> list[tuple[Any, Any]]:
        seen = [_handlers()]
        async with serve():
            await anyio.sleep(0.2)  # serving: past uvicorn's start-up
            seen.append(_handlers())
        seen.append(_handlers())
        return seen

    before, serving, after = anyio.run(main)
    assert (serving, after) == (before, before)
