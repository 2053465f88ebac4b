"""The webhook receiver of ``rdpipe run --listen``: a finished task's callback wakes its shot.

A delivery is only a hint: it wakes the shot's poller, which then confirms the state with a GET.
Every callback URL carries a per-run secret (a wrong one gets 404, like any unknown path),
bodies over a size limit are refused (413), and deliveries for unknown shots or repeated ones
are answered 200 and ignored, so the sender does not retry them.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from rdpipe.errors import UsageError
from rdpipe.scheduler import Waker
from rdpipe.sockets import listen_tcp

if TYPE_CHECKING:
    from starlette.applications import Starlette

#: Callback bodies are task objects of a few kilobytes.
MAX_BODY = 64 * 1024


@dataclass
class Deliveries:
    """What the receiver saw, for reports and tests."""

    accepted: int = 0
    ignored: int = 0
    refused: int = 0
    labels: list[str] = field(default_factory=list)


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` -> (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise UsageError(f"--listen {value!r}: expected HOST:PORT, e.g. 127.0.0.1:8787")
    return host.strip("[]"), int(port)


class WebhookReceiver:
    """An ASGI app that maps ``POST /hook/<secret>/<label>`` to a wake-up of that shot."""

    def __init__(self, waker: Waker, labels: set[str], *, secret: str | None = None) -> None:
        self.waker = waker
        self.labels = labels
        self.secret = secret or secrets.token_urlsafe(18)
        self.deliveries = Deliveries()

    def callback_url(self, public_url: str, label: str) -> str:
        """The callback URL of one shot's take under ``public_url``."""
        return f"{public_url.rstrip('/')}/hook/{self.secret}/{quote(label, safe='')}"

    def app(self) -> Starlette:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route

        async def receive(request: Request) -> Response:
            given = str(request.path_params["secret"])
            if not hmac.compare_digest(given.encode(), self.secret.encode()):
                self.deliveries.refused += 1
                return Response(status_code=404)
            body = bytearray()
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > MAX_BODY:
                    self.deliveries.refused += 1
                    return JSONResponse({"error": "body too large"}, status_code=413)
            label = str(request.path_params["label"])
            if label not in self.labels or not self.waker.wake(label):
                self.deliveries.ignored += 1
                return JSONResponse({"ignored": True})
            self.deliveries.accepted += 1
            self.deliveries.labels.append(label)
            return JSONResponse({"ok": True})

        return Starlette(routes=[Route("/hook/{secret}/{label}", receive, methods=["POST"])])


@asynccontextmanager
async def serve_webhooks(receiver: WebhookReceiver, host: str, port: int) -> AsyncIterator[None]:
    """Serve the receiver in the current event loop for the duration of the block."""
    import anyio
    import uvicorn

    from rdpipe.local_server import LocalServer

    try:
        listener = listen_tcp(host, port)
    except OSError as error:
        raise UsageError(
            f"--listen {host}:{port}: cannot listen there ({error.strerror})"
        ) from None
    config = uvicorn.Config(
        receiver.app(),
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    server = LocalServer(config)  # leaves SIGINT to the run's Ctrl-C watch
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve, [listener])
        while not server.started:
            await anyio.sleep(0.02)
        try:
            yield
        finally:
            server.should_exit = True
