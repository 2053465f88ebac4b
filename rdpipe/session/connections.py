"""What a run talks to: the RelayDance client, or one pointed at the offline simulator, and the
webhook receiver of ``--listen``.

Each is imported only in the branch that needs it: a fully cached run loads neither httpx nor
the simulator, and a run without ``--listen`` no webhook server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from rdpipe.concurrency import DEFAULT_DOWNLOADS

if TYPE_CHECKING:
    from rdpipe.client import RelayDanceClient, RetryPolicy, Timeouts
    from rdpipe.plan import Plan
    from rdpipe.scheduler import GenerationApi, Waker
    from rdpipe.send_record import SendRecord
    from rdpipe.session.settings import RunSettings
    from rdpipe.session.workspace import Workspace


#: Connections to each host beside the downloads: for the submits and polls of the tasks in
#: flight, which are short (a connection is back in the pool in milliseconds).
REQUEST_CONNECTIONS = 8


def pool_size(downloads: int) -> int:
    """The client's connections per host for a run of ``downloads`` clip downloads at once.

    A download through the API holds a connection until its last byte, so ``downloads`` of them
    can all run with :data:`REQUEST_CONNECTIONS` left for submits and polls: no download waits
    for a connection. A small pool is also a cheap one: httpcore looks at every pooled
    connection on each request (3.4 ms a request with 64 connections, 0.9 ms with 8).
    """
    return downloads + REQUEST_CONNECTIONS


@asynccontextmanager
async def open_api(
    settings: RunSettings,
    workspace: Workspace,
    environ: Mapping[str, str],
    *,
    sends: SendRecord,
    downloads: int = DEFAULT_DOWNLOADS,
    reads: bool = False,
) -> AsyncIterator[RelayDanceClient]:
    """The RelayDance client, or one pointed at the built-in simulator with --offline.

    ``environ`` holds the API key and base URL (and where ffmpeg is, for the simulator). Every
    request sent is counted in ``sends``, the simulator's too. ``downloads``: the clip
    downloads the run makes at once, which sizes the client's pool (:func:`pool_size`).
    ``reads``: a client for a command's reads before it runs (prices, display currency,
    balance): it needs no key (without one, it makes the public reads only), tries twice
    within seconds (an unreachable relay costs a note, not minutes), and offline its simulator
    writes nothing in the state folder.
    """
    from rdpipe.client import ApiKey, ClientConfig, RelayDanceClient

    if not settings.offline:
        if reads:
            config = replace(
                ClientConfig.public_from_environ(environ),
                retry=_quick_retry(),
                timeouts=_quick_timeouts(),
            )
        else:
            config = ClientConfig.from_environ(environ)
        config = replace(config, pool_size=pool_size(downloads))
        async with RelayDanceClient(
            config, on_send=sends.note, on_retry=settings.on_retry
        ) as client:
            yield client
        return
    from rdpipe.sim import SimConfig, Timing, open_simulator

    sim_config = SimConfig(
        api_key=None,
        timing=Timing.fast(),
        work_dir=None if reads else workspace.state.state_dir / "sim",
        environ=environ,
    )
    async with open_simulator(sim_config) as sim:
        config = ClientConfig(
            api_key=ApiKey("sk-offline"), base_url=sim.base_url, pool_size=pool_size(downloads)
        )
        async with RelayDanceClient(
            config, on_send=sends.note, on_retry=settings.on_retry
        ) as client:
            yield client


def _quick_retry() -> RetryPolicy:
    """Two tries, a short wait between: for reads a command can do without."""
    from rdpipe.client import RetryPolicy

    return RetryPolicy(attempts=2, initial_wait=0.25, max_wait=1.0, retry_after_cap=2.0)


def _quick_timeouts() -> Timeouts:
    from rdpipe.client import Timeouts

    return Timeouts(connect=5.0, read=15.0, write=15.0, pool=5.0)


def api_host_of(api: GenerationApi, settings: RunSettings) -> str | None:
    """The API host recorded with each submit and checked before a task is followed.

    ``None`` offline: every offline run starts its own simulator on a new port, in a state of
    its own. Else the API's own.
    """
    return None if settings.offline else api.api_host


@asynccontextmanager
async def open_webhooks(
    settings: RunSettings, plan: Plan
) -> AsyncIterator[tuple[Waker | None, Callable[[str], str] | None]]:
    """With --listen, a webhook receiver that wakes shots as their callbacks arrive.

    Yields the waker and each shot label's callback URL; ``(None, None)`` without --listen.
    """
    if settings.listen is None:
        yield None, None
        return
    from rdpipe.scheduler import Waker
    from rdpipe.session.webhooks import WebhookReceiver, parse_listen, serve_webhooks

    host, port = parse_listen(settings.listen)
    public = settings.public_url or f"http://{host}:{port}"
    waker = Waker()
    receiver = WebhookReceiver(waker, {job.shot.label for job in plan.jobs})
    async with serve_webhooks(receiver, host, port):
        yield waker, lambda label: receiver.callback_url(public, label)
