"""The process-level pieces of a run: the API (real or simulated), webhooks, progress, Ctrl-C."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from rich.console import Console

    from rdpipe.client import DownloadedClip, TaskStatus
    from rdpipe.plan import Plan
    from rdpipe.run import RunSettings, Workspace
    from rdpipe.scheduler import GenerationApi, Reporter, Waker

T = TypeVar("T")


@asynccontextmanager
async def open_api(
    settings: RunSettings, workspace: Workspace, environ: dict[str, str], *, needed: bool
) -> AsyncIterator[GenerationApi]:
    """The RelayDance client, or one pointed at the built-in simulator with --offline."""
    if not needed:
        yield _NoApi()
        return
    from rdpipe.client import ApiKey, ClientConfig, RelayDanceClient

    if not settings.offline:
        async with RelayDanceClient(ClientConfig.from_environ(environ)) as client:
            yield client
        return
    from rdpipe.sim import SimConfig, Timing, run_simulator

    sim_config = SimConfig(
        api_key=None,
        timing=Timing.fast(),
        work_dir=workspace.state.state_dir / "sim",
        environ=environ,
    )
    with run_simulator(sim_config) as sim:
        config = ClientConfig(api_key=ApiKey("sk-offline"), base_url=sim.base_url)
        async with RelayDanceClient(config) as client:
            yield client


def api_host_of(api: GenerationApi, settings: RunSettings) -> str | None:
    """The API host recorded with each submit and checked before a task is followed.

    ``None`` offline: every offline run starts its own simulator on a new port, in a state of
    its own.
    """
    if settings.offline or isinstance(api, _NoApi):
        return None  # a cached run: importing the client would cost httpx (~0.09 s)
    from rdpipe.client import RelayDanceClient

    return api.api_host if isinstance(api, RelayDanceClient) else None


@asynccontextmanager
async def open_webhooks(
    settings: RunSettings, plan: Plan
) -> AsyncIterator[tuple[Waker | None, Callable[[str], str] | None]]:
    """With --listen, a webhook receiver that wakes shots as their callbacks arrive."""
    if settings.listen is None:
        yield None, None
        return
    from rdpipe.scheduler import Waker
    from rdpipe.webhook import WebhookReceiver, parse_listen, serve_webhooks

    host, port = parse_listen(settings.listen)
    public = settings.public_url or f"http://{host}:{port}"
    waker = Waker()
    receiver = WebhookReceiver(waker, {job.shot.label for job in plan.jobs})
    async with serve_webhooks(receiver, host, port):
        yield waker, lambda label: receiver.callback_url(public, label)


class _NoApi:
    """Stands in for the client when every shot is cached: no key needed, nothing sent."""

    async def submit(self, body: bytes) -> str:
        raise AssertionError("a fully cached run must not submit")

    async def get_task(self, task_id: str) -> TaskStatus:
        raise AssertionError("a fully cached run must not poll")

    async def download(
        self, task_id: str, dest: Path, *, video_url: str | None = None, through_api: bool = False
    ) -> DownloadedClip:
        raise AssertionError("a fully cached run must not download")


@contextmanager
def open_reporter(console: Console, plan: Plan, as_json: bool) -> Iterator[Reporter]:
    from rdpipe.cli.progress import JsonLinesReporter, LiveReporter, PlainReporter

    if as_json:
        yield JsonLinesReporter(sys.stdout)
    elif console.is_terminal:
        with LiveReporter(console, [job.shot.label for job in plan.jobs]) as live:
            yield live
    else:
        yield PlainReporter(console)


async def interruptible(work: Awaitable[T], console: Console) -> T:
    """Run ``work``; the first Ctrl-C stops it cleanly, a second one exits at once.

    Either way the process ends with :class:`KeyboardInterrupt` (exit 130), also when the
    stopped work raised on its way out (ffmpeg, which a terminal's Ctrl-C reaches too, fails).
    """
    import signal

    import anyio

    interrupted = False

    async def watch(scope: anyio.CancelScope) -> None:
        nonlocal interrupted
        with anyio.open_signal_receiver(signal.SIGINT) as signals:
            async for _ in signals:
                if interrupted:
                    console.print("interrupted again: exiting now (the run state is consistent)")
                    os._exit(130)
                interrupted = True
                console.print(
                    "[yellow]stopping: no new submits. Tasks already submitted are recorded: "
                    "run the same command again to pick them up without paying twice. "
                    "Press Ctrl-C again to exit at once.[/]"
                )
                scope.cancel()

    try:
        async with anyio.create_task_group() as group:
            with anyio.CancelScope() as scope:
                group.start_soon(watch, scope)
                result = await work
            group.cancel_scope.cancel()
    except Exception:
        if not interrupted:
            raise
    if interrupted:
        raise KeyboardInterrupt
    return result
