"""The retry policy: what is retried, how long it waits, and what a submit never repeats."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import anyio
import httpx
import pytest
from trio.testing import MockClock

from rdpipe.client import (
    ClientConfig,
    NotSent,
    RateLimited,
    RecordingClock,
    RelayDanceClient,
    RetryPolicy,
    ServerError,
    SubmitOutcomeUnknown,
    TaskState,
)
from rdpipe.client.retry import parse_retry_after
from tests.client.mock_server import Script

pytestmark = pytest.mark.anyio

TASK = "task_" + "c" * 32
BODY = b'{"model":"m","prompt":"p"}'
SUBMIT = "/v1/video/generations"
POLL = f"/v1/video/generations/{TASK}"
OK_SUBMIT = httpx.Response(200, json={"task_id": TASK, "status": "queued"})
OK_POLL = httpx.Response(200, json={"code": "success", "data": {"status": "QUEUED"}})
NOW = 1_780_000_000.0


def test_retry_after_seconds_and_dates() -> None:
    """Retry-After is read as seconds or as an HTTP date relative to now; junk is None."""
    in_ninety = format_datetime(datetime.fromtimestamp(NOW + 90, UTC), usegmt=True)
    assert parse_retry_after("7", NOW) == 7.0
    assert parse_retry_after("0.25", NOW) == 0.25
    assert parse_retry_after(in_ninety, NOW) == 90.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NOW) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_full_jitter_stays_under_the_exponential_ceiling() -> None:
    """Back-off after the n-th failure is uniform in [0, min(max, initial * 2**(n-1))]."""
    policy = RetryPolicy(initial_wait=0.5, max_wait=4.0)
    draws = random.Random(1)
    for failures, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        waits = [policy.backoff(failures, draws) for _ in range(200)]
        assert min(waits) >= 0.0 and max(waits) <= ceiling
        assert max(waits) > ceiling * 0.8  # spread over the whole range, not a fixed delay


async def test_poll_retries_5xx_then_succeeds(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock
) -> None:
    """A poll answered 502, 503 then 200 succeeds after two jittered back-offs."""
    script.add(
        "GET",
        POLL,
        httpx.Response(502, text="bad gateway"),
        httpx.Response(503, text="busy"),
        OK_POLL,
    )
    assert (await client.get_task(TASK)).state is TaskState.PENDING
    assert script.count("GET", POLL) == 3
    assert len(fake_time.waits) == 2
    assert 0 <= fake_time.waits[0] <= 0.5 and 0 <= fake_time.waits[1] <= 1.0


async def test_poll_gives_up_after_attempts(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock
) -> None:
    """A poll that keeps failing raises the last ServerError after the policy's 4 attempts."""
    script.add("GET", POLL, httpx.Response(500, text="boom"))
    with pytest.raises(ServerError, match="500"):
        await client.get_task(TASK)
    assert script.count("GET", POLL) == 4
    assert len(fake_time.waits) == 3


@pytest.mark.parametrize("status", [408, 409, 425])
async def test_poll_retries_transient_statuses(
    client: RelayDanceClient, script: Script, status: int
) -> None:
    """408, 409 and 425 are retried on reads."""
    script.add("GET", POLL, httpx.Response(status, text="again"), OK_POLL)
    await client.get_task(TASK)
    assert script.count("GET", POLL) == 2


async def test_poll_retries_timeouts_and_drops(client: RelayDanceClient, script: Script) -> None:
    """Read timeouts, dropped connections and connect errors are retried on reads."""
    script.add(
        "GET",
        POLL,
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed"),
        httpx.ConnectError("refused"),
        OK_POLL,
    )
    await client.get_task(TASK)
    assert script.count("GET", POLL) == 4


async def test_retry_after_seconds_honoured(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock
) -> None:
    """A 429 with Retry-After: 3 waits exactly 3 s before the next try."""
    script.add(
        "GET", POLL, httpx.Response(429, text="slow down", headers={"Retry-After": "3"}), OK_POLL
    )
    await client.get_task(TASK)
    assert fake_time.waits == [3.0]


async def test_retry_after_date_honoured(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock
) -> None:
    """A 429 with an HTTP-date Retry-After waits until that date (on the injected wall clock)."""
    date = format_datetime(datetime.fromtimestamp(NOW + 12, UTC), usegmt=True)
    script.add("GET", POLL, httpx.Response(429, headers={"Retry-After": date}), OK_POLL)
    await client.get_task(TASK)
    assert fake_time.waits == [12.0]


async def test_retry_after_capped(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock
) -> None:
    """A Retry-After above the cap (30 s here) waits only the cap."""
    script.add("GET", POLL, httpx.Response(429, headers={"Retry-After": "3600"}), OK_POLL)
    await client.get_task(TASK)
    assert fake_time.waits == [30.0]


async def test_cool_down_is_shared_by_concurrent_workers(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock
) -> None:
    """After a 429 with Retry-After 5 on one call, a later call to the host waits out the rest."""
    script.add("GET", POLL, httpx.Response(429, headers={"Retry-After": "5"}), OK_POLL)
    script.json("GET", "/v1/models", 200, {"data": [{"id": "m"}]})
    await client.get_task(TASK)  # leaves the host cooling down until t0 + 5 s...
    fake_time.waits.clear()
    fake_time.now -= 2.0  # ...and a second worker arrives 2 s before that ends
    await client.list_models()
    assert fake_time.waits == [2.0]


@pytest.mark.parametrize("anyio_backend", [("trio", {"clock": MockClock(autojump_threshold=0)})])
async def test_cool_down_holds_parallel_requests(
    config: ClientConfig, anyio_backend: object
) -> None:
    """Workers that start during another's 429 cool-down send nothing until it ends."""
    sent_at: list[tuple[str, float]] = []
    rate_limited = iter([True])

    def answer(request: httpx.Request) -> httpx.Response:
        sent_at.append((request.url.path, round(anyio.current_time() - start, 3)))
        if next(rate_limited, False):
            return httpx.Response(429, headers={"Retry-After": "4"})
        return httpx.Response(200, json={"code": "success", "data": {"status": "QUEUED"}})

    async def late_worker(delay: float) -> None:
        await anyio.sleep(delay)
        await client.get_task(TASK)

    start = anyio.current_time()
    client = RelayDanceClient(config, transport=httpx.MockTransport(answer))
    async with client, anyio.create_task_group() as group:
        group.start_soon(client.get_task, TASK)
        group.start_soon(late_worker, 1.0)
        group.start_soon(late_worker, 2.5)
    assert [t for _, t in sent_at] == [0.0, 4.0, 4.0, 4.0]


async def test_submit_not_retried_after_read_timeout(
    client: RelayDanceClient, script: Script
) -> None:
    """A submit whose answer timed out raises SubmitOutcomeUnknown after exactly one POST."""
    script.add("POST", SUBMIT, httpx.ReadTimeout("timed out"), OK_SUBMIT)
    with pytest.raises(SubmitOutcomeUnknown) as caught:
        await client.submit(BODY)
    assert script.count("POST", SUBMIT) == 1
    assert isinstance(caught.value.__cause__, Exception)
    assert str(caught.value) == (
        "the submit (POST /v1/video/generations) was sent but its outcome is unknown "
        "(timed out after 60 s waiting for the answer); a task may have been created and billed.\n"
        "rdpipe does not resubmit it on its own, to avoid paying twice. "
        "Check the task list on relaydance.com before running the shot again."
    )


async def test_submit_not_retried_after_dropped_connection(
    client: RelayDanceClient, script: Script
) -> None:
    """A submit whose connection dropped before the answer is never sent again."""
    script.add("POST", SUBMIT, httpx.RemoteProtocolError("Server disconnected"), OK_SUBMIT)
    with pytest.raises(SubmitOutcomeUnknown):
        await client.submit(BODY)
    assert script.count("POST", SUBMIT) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_submit_not_retried_after_5xx(
    client: RelayDanceClient, script: Script, status: int
) -> None:
    """A submit answered 5xx raises SubmitOutcomeUnknown (chained from ServerError), once."""
    script.add("POST", SUBMIT, httpx.Response(status, text="upstream broke"), OK_SUBMIT)
    with pytest.raises(SubmitOutcomeUnknown) as caught:
        await client.submit(BODY)
    assert isinstance(caught.value.__cause__, ServerError)
    assert script.count("POST", SUBMIT) == 1


async def test_submit_retried_after_connect_error(client: RelayDanceClient, script: Script) -> None:
    """A submit that could not connect is sent again and succeeds."""
    script.add(
        "POST", SUBMIT, httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), OK_SUBMIT
    )
    assert await client.submit(BODY) == TASK
    assert script.count("POST", SUBMIT) == 3


async def test_submit_retried_after_429(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock
) -> None:
    """A submit refused with 429 is sent again after the Retry-After wait."""
    script.add(
        "POST", SUBMIT, httpx.Response(429, headers={"Retry-After": "2"}, text="busy"), OK_SUBMIT
    )
    assert await client.submit(BODY) == TASK
    assert fake_time.waits == [2.0]


async def test_submit_connect_errors_exhausted_say_nothing_sent(
    client: RelayDanceClient, script: Script
) -> None:
    """When every connect attempt fails, NotSent says nothing was sent."""
    script.add("POST", SUBMIT, httpx.ConnectError("refused"))
    with pytest.raises(NotSent, match="nothing was sent") as caught:
        await client.submit(BODY)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert script.count("POST", SUBMIT) == 4


async def test_submit_429_exhausted_raises_rate_limited(
    client: RelayDanceClient, script: Script
) -> None:
    """A submit refused with 429 every time ends in RateLimited, a clear refusal."""
    script.add("POST", SUBMIT, httpx.Response(429, text="请求过于频繁"))
    with pytest.raises(RateLimited, match="请求过于频繁"):
        await client.submit(BODY)
