"""Submit, poll and list models over a scripted mock transport: requests, parsing, errors."""

from __future__ import annotations

import logging

import httpx
import pytest

from rdpipe.client import (
    AuthenticationFailed,
    InvalidRequest,
    QuotaExceeded,
    RelayDanceClient,
    TaskNotFound,
    TaskState,
)
from tests.client.mock_server import API_KEY, Script, body_of

pytestmark = pytest.mark.anyio

TASK = "task_" + "b" * 32
BODY = (
    '{"metadata":{"ratio":"16:9"},"model":"doubao-seedance-2-0-720p",'
    '"prompt":"a cat ☕","seconds":"5"}'
).encode()


async def test_submit_posts_body_with_key(client: RelayDanceClient, script: Script) -> None:
    """Submit POSTs the body byte for byte, as JSON, with the bearer key and returns task_id."""
    script.json(
        "POST", "/v1/video/generations", 200, {"id": "x", "task_id": TASK, "status": "queued"}
    )
    assert await client.submit(BODY) == TASK
    (request,) = script.requests
    assert request.content == BODY
    assert body_of(request)["prompt"] == "a cat ☕"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert str(request.url) == "https://api.relay.test/v1/video/generations"


async def test_submit_reads_id_when_task_id_missing(
    client: RelayDanceClient, script: Script
) -> None:
    """A reply with only id gives that id."""
    script.json("POST", "/v1/video/generations", 200, {"id": TASK, "status": "submitted"})
    assert await client.submit(BODY) == TASK


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, {"error": {"message": "bad key", "type": "new_api_error"}}, AuthenticationFailed),
        (403, {"code": "insufficient_user_quota", "message": "quota", "data": None}, QuotaExceeded),
        (
            400,
            {"code": "invalid_request", "message": "prompt is blank", "data": None},
            InvalidRequest,
        ),
    ],
)
async def test_submit_refusals_are_typed_and_not_retried(
    client: RelayDanceClient, script: Script, status: int, body: object, kind: type[Exception]
) -> None:
    """A refused submit raises its typed error after exactly one request."""
    script.json("POST", "/v1/video/generations", status, body)
    with pytest.raises(kind):
        await client.submit(BODY)
    assert script.count("POST", "/v1/video/generations") == 1


async def test_get_task_polls_envelope_first(client: RelayDanceClient, script: Script) -> None:
    """get_task reads the relay envelope form by default and normalises it."""
    script.json(
        "GET",
        f"/v1/video/generations/{TASK}",
        200,
        {"code": "success", "data": {"task_id": TASK, "status": "IN_PROGRESS", "progress": "30%"}},
    )
    status = await client.get_task(TASK)
    assert (status.state, status.progress) == (TaskState.RUNNING, 30)
    assert [r.url.path for r in script.requests] == [f"/v1/video/generations/{TASK}"]


async def test_get_task_falls_back_on_404_and_remembers(
    client: RelayDanceClient, script: Script
) -> None:
    """On 404 from the envelope route, get_task reads /v1/videos/{id} and goes there first after."""
    script.add(
        "GET", f"/v1/video/generations/{TASK}", httpx.Response(404, text="404 page not found")
    )
    script.json("GET", f"/v1/videos/{TASK}", 200, {"id": TASK, "status": "queued", "progress": 0})
    assert (await client.get_task(TASK)).state is TaskState.PENDING
    assert (await client.get_task(TASK)).state is TaskState.PENDING
    assert [r.url.path for r in script.requests] == [
        f"/v1/video/generations/{TASK}",
        f"/v1/videos/{TASK}",
        f"/v1/videos/{TASK}",
    ]


async def test_unknown_task_400_is_task_not_found(client: RelayDanceClient, script: Script) -> None:
    """The relay's 400 task_not_exist is TaskNotFound, without trying the other form."""
    script.json(
        "GET",
        f"/v1/video/generations/{TASK}",
        400,
        {"code": "task_not_exist", "message": "task_not_exist", "data": None},
    )
    with pytest.raises(TaskNotFound, match=TASK):
        await client.get_task(TASK)
    assert len(script.requests) == 1


async def test_unknown_task_404_on_both_forms(client: RelayDanceClient, script: Script) -> None:
    """A task unknown to both forms raises TaskNotFound."""
    with pytest.raises(TaskNotFound):
        await client.get_task(TASK)
    assert len(script.requests) == 2


async def test_unknown_status_logged_once(
    client: RelayDanceClient, script: Script, caplog: pytest.LogCaptureFixture
) -> None:
    """An unknown status reads as pending and is logged once, however often it is seen."""
    script.json(
        "GET",
        f"/v1/video/generations/{TASK}",
        200,
        {"code": "success", "data": {"status": "WARMING"}},
    )
    with caplog.at_level(logging.WARNING, logger="rdpipe.client"):
        states = [(await client.get_task(TASK)).state for _ in range(3)]
    assert states == [TaskState.PENDING] * 3
    messages = [r.getMessage() for r in caplog.records if r.name == "rdpipe.client"]
    assert messages == [
        f"task {TASK} has status 'WARMING', which rdpipe does not know; treating it as pending"
    ]


async def test_list_models(client: RelayDanceClient, script: Script) -> None:
    """list_models returns the ids the server lists."""
    script.json("GET", "/v1/models", 200, {"object": "list", "data": [{"id": "m1"}, {"id": "m2"}]})
    assert [m.id for m in await client.list_models()] == ["m1", "m2"]


async def test_key_absent_from_errors_and_their_causes(
    client: RelayDanceClient, script: Script
) -> None:
    """No raised error, nor the httpx exception chained under it, shows the key."""
    script.add("GET", "/v1/models", httpx.Response(401, json={"error": {"message": "bad key"}}))
    script.add("POST", "/v1/video/generations", httpx.ReadTimeout("timed out"))
    script.add("GET", f"/v1/video/generations/{TASK}", httpx.ConnectError("refused"))
    calls = [client.list_models(), client.submit(BODY), client.get_task(TASK)]
    for call in calls:
        with pytest.raises(Exception) as caught:
            await call
        chain = [caught.value, caught.value.__cause__]
        text = " ".join(f"{e!s} {e!r} {getattr(e, '__dict__', '')}" for e in chain)
        assert API_KEY not in text
    assert repr(client.config).count("********") == 1
