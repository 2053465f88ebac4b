"""The relay's per-key concurrency gate as the client meets it, over real HTTP (issue 15).

429 ``token_concurrency_limit_reached`` (OpenAI-style body, no Retry-After) goes up at once,
for the scheduler's gate to lower its concurrency: neither a submit nor a poll retries it, and
no host-wide cool-down follows. 503 ``token_concurrency_unavailable`` is retried, for a submit
too, since the gate refused before the relay created anything (relaydance-api.md §13).
Requests are counted at the server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rdpipe.client import (
    ConcurrencyLimitReached,
    GateUnavailable,
    RateLimited,
    RecordingClock,
    RelayDanceClient,
    ServerError,
    SubmitOutcomeUnknown,
    TaskState,
)
from rdpipe.client.refusals import error_for_answer
from rdpipe.client.retry import should_retry_download, should_retry_read, should_retry_submit
from tests.client.http_fixture import Reply, ScriptedServer
from tests.client.mock_server import API_KEY

pytestmark = pytest.mark.anyio

TASK = "task_" + "g" * 32
BODY = b'{"model":"doubao-seedance-2-0-720p","prompt":"p","seconds":"5"}'
SUBMIT = "/v1/video/generations"
POLL = f"/v1/video/generations/{TASK}"
CONTENT = f"/v1/videos/{TASK}/content"
OVER_LIMIT = Reply(
    429,
    {
        "error": {
            "message": "当前令牌并发请求数已达上限",
            "type": "new_api_error",
            "code": "token_concurrency_limit_reached",
        }
    },
)
GATE_DOWN = Reply(
    503,
    {
        "error": {
            "message": "concurrency store unavailable",
            "type": "new_api_error",
            "code": "token_concurrency_unavailable",
        }
    },
)
OK_SUBMIT = Reply(200, {"task_id": TASK, "status": "queued"})
OK_POLL = Reply(200, {"code": "success", "data": {"task_id": TASK, "status": "QUEUED"}})
OK_MODELS = Reply(200, {"object": "list", "data": [{"id": "m"}]})


async def test_a_submit_over_the_gate_is_not_retried(
    http_client: RelayDanceClient, http_script: ScriptedServer, fake_time: RecordingClock
) -> None:
    """One POST, ConcurrencyLimitReached at once, no wait; the next request to the host goes
    out without waiting either (no cool-down was set)."""
    http_script.add("POST", SUBMIT, OVER_LIMIT)
    http_script.add("GET", "/v1/models", OK_MODELS)
    with pytest.raises(ConcurrencyLimitReached) as caught:
        await http_client.submit(BODY)
    error = caught.value
    assert isinstance(error, RateLimited)
    assert (error.status, error.code, error.retry_after) == (
        429,
        "token_concurrency_limit_reached",
        None,
    )
    assert http_script.count("POST", SUBMIT) == 1
    await http_client.list_models()
    assert fake_time.waits == []
    assert str(error) == (
        "RelayDance's concurrency limit for this key was reached on POST /v1/video/generations "
        "(429 token_concurrency_limit_reached): 当前令牌并发请求数已达上限\n"
        "Too many requests with this key were in flight at once; lower --concurrency (-j), "
        "or stop other runs that use the same key."
    )
    assert API_KEY not in str(error)


async def test_a_poll_over_the_gate_is_not_retried(
    http_client: RelayDanceClient, http_script: ScriptedServer, fake_time: RecordingClock
) -> None:
    """The gate counts polls too: one GET, raised at once, no wait, no fallback to the
    video-object route."""
    http_script.add("GET", POLL, OVER_LIMIT)
    with pytest.raises(ConcurrencyLimitReached):
        await http_client.get_task(TASK)
    assert http_script.paths() == [f"GET {POLL}"]
    assert fake_time.waits == []


async def test_a_plain_429_is_still_retried_with_a_cool_down(
    http_client: RelayDanceClient, http_script: ScriptedServer, fake_time: RecordingClock
) -> None:
    """Another 429 (a rate limit, with Retry-After) is retried, submits and polls alike."""
    limited = Reply(429, {"error": {"message": "slow down", "code": "rate_limit"}})
    http_script.add("POST", SUBMIT, limited, OK_SUBMIT)
    http_script.add(
        "GET",
        POLL,
        Reply(
            429,
            {"code": "too_many", "message": "busy", "data": None},
            headers=(("Retry-After", "3"),),
        ),
        OK_POLL,
    )
    assert await http_client.submit(BODY) == TASK
    assert (await http_client.get_task(TASK)).state is TaskState.PENDING
    assert http_script.count("POST", SUBMIT) == 2
    assert http_script.count("GET", POLL) == 2
    assert len(fake_time.waits) == 2 and fake_time.waits[1] == 3.0


async def test_a_submit_finding_the_gate_unavailable_is_sent_again(
    http_client: RelayDanceClient, http_script: ScriptedServer, fake_time: RecordingClock
) -> None:
    """503 token_concurrency_unavailable twice, then the task: three POSTs, one task id,
    never "outcome unknown"."""
    http_script.add("POST", SUBMIT, GATE_DOWN, GATE_DOWN, OK_SUBMIT)
    assert await http_client.submit(BODY) == TASK
    assert http_script.count("POST", SUBMIT) == 3
    assert len(fake_time.waits) == 2
    assert all(a.body == BODY for a in http_script.arrived)


async def test_a_gate_unavailable_to_the_end_is_said_as_such(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    """After the policy's four attempts the 503 goes up as GateUnavailable (a ServerError),
    not SubmitOutcomeUnknown: nothing was created."""
    http_script.add("POST", SUBMIT, GATE_DOWN)
    with pytest.raises(GateUnavailable) as caught:
        await http_client.submit(BODY)
    assert isinstance(caught.value, ServerError)
    assert not isinstance(caught.value, SubmitOutcomeUnknown)
    assert http_script.count("POST", SUBMIT) == 4
    assert str(caught.value).startswith(
        "RelayDance's concurrency gate was unavailable for POST /v1/video/generations "
        "(503 token_concurrency_unavailable): concurrency store unavailable"
    )


async def test_another_503_on_a_submit_is_still_outcome_unknown(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    """A 503 without the gate's code may have created a task: one POST, outcome unknown."""
    http_script.add("POST", SUBMIT, Reply(503, {"error": {"message": "upstream busy"}}))
    with pytest.raises(SubmitOutcomeUnknown):
        await http_client.submit(BODY)
    assert http_script.count("POST", SUBMIT) == 1


async def test_a_poll_finding_the_gate_unavailable_is_retried(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    http_script.add("GET", POLL, GATE_DOWN, OK_POLL)
    assert (await http_client.get_task(TASK)).state is TaskState.PENDING
    assert http_script.count("GET", POLL) == 2


async def test_a_download_through_the_api_waits_out_the_gate(
    http_client: RelayDanceClient,
    http_script: ScriptedServer,
    fake_time: RecordingClock,
    tmp_path: Path,
) -> None:
    """No gate of the caller wraps a download: the client retries the gate's 429 there, with
    back-off only."""
    http_script.add("GET", CONTENT, OVER_LIMIT, Reply(200, text="clip-bytes"))
    got = await http_client.download(TASK, tmp_path / "c.mp4", through_api=True)
    assert (tmp_path / "c.mp4").read_bytes() == b"clip-bytes"
    assert got.size == len(b"clip-bytes")
    assert http_script.count("GET", CONTENT) == 2
    assert len(fake_time.waits) == 1


def test_the_policies_for_the_gate() -> None:
    """Reads and submits leave the gate's 429 to the caller; downloads retry it; everyone
    retries the gate being unavailable."""
    over = error_for_answer("GET x", 429, OVER_LIMIT.payload().decode())
    down = error_for_answer("GET x", 503, GATE_DOWN.payload().decode())
    assert isinstance(over, ConcurrencyLimitReached)
    assert isinstance(down, GateUnavailable)
    assert (should_retry_read(over), should_retry_submit(over), should_retry_download(over)) == (
        False,
        False,
        True,
    )
    assert (should_retry_read(down), should_retry_submit(down), should_retry_download(down)) == (
        True,
        True,
        True,
    )
