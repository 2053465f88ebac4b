"""The review server: the page with a live view of a run, and picks written into the pipeline.

It listens on 127.0.0.1 only. Picks are POSTed with a random per-server token that only the
served page knows, and every request must name this server as its Host, so another page in
the browser can neither forge a pick nor read the token (DNS rebinding).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from rdpipe.errors import RdpipeError
from rdpipe.hints import Invocation
from rdpipe.local_server import LocalServer
from rdpipe.review.page_data import ManifestUnusable, ReviewPage, load_review, waiting_page
from rdpipe.review.page_html import LiveView, render_cards, render_page
from rdpipe.sockets import listen_tcp
from rdpipe.yaml_edit import PickNotSet, ShotNotInFile, read_picks, set_pick

TOKEN_HEADER = "X-Rdpipe-Token"
STARTUP_TIMEOUT = 10.0
_NO_STORE = {"Cache-Control": "no-store"}


class ReviewNotServed(RdpipeError):
    """The review server could not start where it was asked to."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(
            f"the review server cannot listen on {host}:{port}: {reason}",
            hint="Pick another --port, or 0 for any free port. Only 127.0.0.1 is allowed.",
        )


@dataclass(frozen=True)
class ReviewServer:
    """A running review server: where to open it, and the token its page carries."""

    url: str
    port: int
    token: str


def create_review_app(
    manifest_path: Path,
    pipeline_file: Path,
    *,
    token: str,
    port: int,
    invocation: Invocation | None = None,
) -> ASGIApp:
    """The ASGI app: ``/`` the live page, ``/api/state`` its JSON, ``/api/pick`` picks.

    ``invocation``: how the user ran ``rdpipe review`` (the page's commands are written for it;
    default: ``pipeline_file`` from the current directory, paid mode).
    """
    review = _Review(
        manifest_path, pipeline_file, token, invocation or Invocation.start(pipeline_file)
    )
    app = Starlette(
        routes=[
            Route("/", review.page, methods=["GET"]),
            Route("/review.html", review.page, methods=["GET"]),
            Route("/api/state", review.state, methods=["GET"]),
            Route("/api/pick", review.pick, methods=["POST"]),
            Mount("/", StaticFiles(directory=manifest_path.parent, check_dir=False)),
        ]
    )
    return _HostCheck(app, port)


class _Review:
    """The endpoints, over one manifest and one pipeline file."""

    def __init__(
        self, manifest_path: Path, pipeline_file: Path, token: str, invocation: Invocation
    ) -> None:
        self.manifest_path = manifest_path
        self.pipeline_file = pipeline_file
        self.token = token
        self.invocation = invocation
        self.write_lock = threading.Lock()  # one pick at a time edits the file

    def load(self) -> ReviewPage:
        try:
            picks = read_picks(self.pipeline_file)
        except PickNotSet:
            picks = {}
        page_dir = self.manifest_path.parent
        try:
            return load_review(
                self.manifest_path, page_dir=page_dir, picks=picks, invocation=self.invocation
            )
        except ManifestUnusable as error:
            notice = f"Waiting for the run: {error.reason}."
            return waiting_page(self.pipeline_file.stem, self.pipeline_file, notice)

    def live(self, page: ReviewPage) -> LiveView:
        return LiveView(self.token, cache_tag=f"?v={page.updated_at or 0}")

    async def page(self, request: Request) -> Response:
        page = await anyio.to_thread.run_sync(self.load)
        return HTMLResponse(render_page(page, self.live(page)), headers=_NO_STORE)

    async def state(self, request: Request) -> Response:
        page = await anyio.to_thread.run_sync(self.load)
        return JSONResponse(render_cards(page, self.live(page)), headers=_NO_STORE)

    async def pick(self, request: Request) -> Response:
        if not hmac.compare_digest(request.headers.get(TOKEN_HEADER, ""), self.token):
            return _error(403, "missing or wrong review token: reload the review page")
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _error(415, "send the pick as application/json")
        try:
            body: Any = json.loads(await request.body())
            shot, take = body["shot"], body["take"]
        except (ValueError, KeyError, TypeError):
            return _error(400, 'expected {"shot": "<id>", "take": <number or null>}')
        if not isinstance(shot, str) or not (take is None or _is_take(take)):
            return _error(400, 'expected {"shot": "<id>", "take": <number or null>}')
        try:
            change = await anyio.to_thread.run_sync(self._write, shot, take)
        except PickNotSet as error:
            return _error(404 if isinstance(error, ShotNotInFile) else 400, error.message)
        edited = change.file or self.pipeline_file  # an included file holds some shots
        name = edited.name if edited == self.pipeline_file else f"{edited.name} (included)"
        what = f"take {take} picked" if take is not None else "pick cleared"
        assemble = self.invocation.command("assemble")
        message = (
            f"{shot}: {what} in {name}. Run `{assemble}` to rebuild the video."
            if change.changed
            else f"{shot}: already so in {name}; nothing changed."
        )
        body = {"shot": shot, "before": change.before, "after": change.after, "message": message}
        return JSONResponse(body, headers=_NO_STORE)

    def _write(self, shot: str, take: int | None) -> Any:
        with self.write_lock:
            return set_pick(self.pipeline_file, shot, take)


def _is_take(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=_NO_STORE)


class _HostCheck:
    """Refuses requests whose Host (or Origin) is not this server (DNS rebinding, forgeries)."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app = app
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            host = headers.get(b"host", b"").decode("latin-1")
            origin = headers.get(b"origin", b"").decode("latin-1")
            if host not in self.hosts or (origin and origin.removeprefix("http://") != host):
                response = _error(403, "requests must come from the review page itself")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _listen(host: str, port: int) -> socket.socket:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ReviewNotServed(host, port, "not a loopback address")
    try:
        return listen_tcp(host, port, backlog=64)
    except OSError as error:
        raise ReviewNotServed(host, port, error.strerror or str(error)) from error


@contextmanager
def serve(
    manifest_path: Path,
    pipeline_file: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    invocation: Invocation | None = None,
) -> Iterator[ReviewServer]:
    """Serve the review page from a background thread until the block ends.

    The page shows ``manifest_path`` (it may appear later: the page waits for the run) and
    picks are written into ``pipeline_file``. ``port=0`` takes any free port. ``invocation``:
    how the user ran ``rdpipe review`` (the page's commands are written for it).
    """
    token = token or secrets.token_urlsafe(32)
    sock = _listen(host, port)
    bound = int(sock.getsockname()[1])
    app = create_review_app(
        manifest_path, pipeline_file, token=token, port=bound, invocation=invocation
    )
    config = uvicorn.Config(app, lifespan="off", access_log=False, log_level="warning",
                            timeout_graceful_shutdown=1)  # fmt: skip
    server = LocalServer(config)
    shown_host = f"[{host}]" if ":" in host else host
    try:
        with anyio.from_thread.start_blocking_portal() as portal:
            stopped = portal.start_task_soon(server.serve, [sock])
            portal.call(_wait_started, server)
            try:
                yield ReviewServer(f"http://{shown_host}:{bound}/", bound, token)
            finally:
                server.should_exit = True
                stopped.result(timeout=STARTUP_TIMEOUT)
    finally:
        sock.close()


async def _wait_started(server: uvicorn.Server) -> None:
    with anyio.fail_after(STARTUP_TIMEOUT):
        while not server.started:
            await anyio.sleep(0.005)
