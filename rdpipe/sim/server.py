"""Running the simulator: both origins under uvicorn on 127.0.0.1, in a loop or a thread.

:func:`open_simulator` serves inside the caller's event loop; :func:`run_simulator` starts a
loop in a background thread for synchronous callers (tests, ``rdpipe run --offline``). Both
return once both origins accept connections, on ports picked by the OS unless configured.
"""

from __future__ import annotations

import logging
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import anyio
import anyio.from_thread
import uvicorn
from starlette.types import ASGIApp

from rdpipe.errors import RdpipeError
from rdpipe.ffmpeg_path import find_ffmpeg
from rdpipe.local_server import LocalServer
from rdpipe.sim.api import build_api_app
from rdpipe.sim.config import SimConfig
from rdpipe.sim.hosting import HostedFiles
from rdpipe.sim.middleware import ConnectionDropped, FaultMiddleware
from rdpipe.sim.preview_clips import ClipCache
from rdpipe.sim.sim_server import SimServer
from rdpipe.sim.state import SimState
from rdpipe.sim.storage import build_storage_app
from rdpipe.sockets import listen_tcp

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 5.0


class PortUnavailable(RdpipeError):
    """The simulator could not listen where it was asked to."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(
            f"the simulator cannot listen on {host}:{port}: {reason}",
            hint="Pick another port with --port / --storage-port, or 0 for any free port.",
        )


class _DroppedConnectionFilter(logging.Filter):
    """Hides uvicorn's traceback for connections the simulator drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = record.exc_info
        return not (info and isinstance(info[1], ConnectionDropped))


def _listen(host: str, port: int) -> socket.socket:
    try:
        return listen_tcp(host, port)
    except OSError as error:
        raise PortUnavailable(host, port, error.strerror or str(error)) from error


def _server(app: ASGIApp) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    return LocalServer(config)  # the run's Ctrl-C watch, not uvicorn, handles SIGINT


@asynccontextmanager
async def open_simulator(config: SimConfig) -> AsyncIterator[SimServer]:
    """Serve the simulator in the current (asyncio) event loop until the block ends."""
    with tempfile.TemporaryDirectory(prefix="rdpipe-sim-") as scratch:
        work_dir = config.work_dir or Path(scratch)
        cache = ClipCache(work_dir / "clips", find_ffmpeg(config.environ))
        api_socket = _listen(config.host, config.port)
        storage_socket = _listen(config.host, config.storage_port)
        log_filter = _DroppedConnectionFilter()
        logging.getLogger("uvicorn.error").addFilter(log_filter)
        try:
            async with anyio.create_task_group() as group:
                state = SimState(config, cache, HostedFiles(work_dir / "media"), group)
                sim = SimServer(state, _url(api_socket), _url(storage_socket))
                state.storage_url = sim.storage_url
                servers = _servers(state)
                stopped = [anyio.Event(), anyio.Event()]
                for server, sock, done in zip(
                    servers, (api_socket, storage_socket), stopped, strict=True
                ):
                    group.start_soon(_serve, server, sock, done)
                await _wait_started(servers)
                try:
                    yield sim
                finally:
                    await _stop(servers, stopped)
                    group.cancel_scope.cancel()
        finally:
            logging.getLogger("uvicorn.error").removeFilter(log_filter)
            api_socket.close()
            storage_socket.close()


@contextmanager
def run_simulator(config: SimConfig) -> Iterator[SimServer]:
    """Serve the simulator from a background thread until the block ends."""
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(open_simulator(config)) as sim,
    ):
        yield sim


def _servers(state: SimState) -> list[uvicorn.Server]:
    api = FaultMiddleware(build_api_app(state), origin="api", recorder=state.recorder,
                          faults=state)  # fmt: skip
    storage_app = build_storage_app(state, state.signer, state.clock, state.media)
    storage = FaultMiddleware(storage_app, origin="storage", recorder=state.recorder,
                              faults=state)  # fmt: skip
    return [_server(api), _server(storage)]


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


async def _wait_started(servers: list[uvicorn.Server]) -> None:
    with anyio.fail_after(STARTUP_TIMEOUT):
        while not all(server.started for server in servers):
            await anyio.sleep(0.005)


async def _serve(server: uvicorn.Server, sock: socket.socket, done: anyio.Event) -> None:
    try:
        await server.serve([sock])
    finally:
        done.set()


async def _stop(servers: list[uvicorn.Server], stopped: list[anyio.Event]) -> None:
    for server in servers:
        server.should_exit = True
    with anyio.move_on_after(SHUTDOWN_TIMEOUT):
        for done in stopped:
            await done.wait()
