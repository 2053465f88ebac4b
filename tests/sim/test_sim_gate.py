"""The per-key concurrency gate (issue 15): requests over the limit get 429
``token_concurrency_limit_reached`` with no Retry-After, polls count as well as submits, and
503 ``token_concurrency_unavailable`` when the gate's store is down."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import httpx
import pytest

from rdpipe.sim.gate import ConcurrencyGate
from tests.sim.own_sim import own_simulator
from tests.sim.simclient import SMALL_MODEL, submit

HOLD = 0.4  # long enough that concurrent requests overlap on a loaded machine
BODY = {"model": SMALL_MODEL, "prompt": "a red kite", "seconds": "4"}


def _at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run ``calls`` together, from one thread each, released at the same moment."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _later(call: Callable[[], httpx.Response]) -> httpx.Response:
    """``call()`` a tenth of a second later: once the request started with it holds its slot."""
    threading.Event().wait(0.1)
    return call()


def _assert_limit_body(
    answer: httpx.Response, code: str = "token_concurrency_limit_reached"
) -> None:
    """new-api's abortWithOpenAiMessage body: the code as the message, with a request id."""
    body = answer.json()
    message = body["error"].pop("message")
    assert body == {"error": {"type": "new_api_error", "code": code}}
    assert re.fullmatch(rf"{code} \(request id: \d{{22}}\)", message), message
    assert "retry-after" not in answer.headers


def test_polls_over_the_limit_get_429_without_retry_after(tmp_path: Path) -> None:
    """Limit 2, six polls at once: two pass, four get 429 with the exact body and no
    Retry-After; the counters say so."""
    with own_simulator(tmp_path, concurrency_limit=2, gate_hold=HOLD) as (sim, api):
        task_id = submit(api)
        sim.clear_observations()
        answers = _at_once([lambda: api.get(f"/v1/videos/{task_id}")] * 6)
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [200, 200, 429, 429, 429, 429]
        for answer in answers:
            if answer.status_code == 429:
                _assert_limit_body(answer)
        assert (sim.gate_rejections, sim.peak_in_flight, sim.gate_unavailable) == (4, 2, 0)


def test_requests_under_the_limit_pass(tmp_path: Path) -> None:
    """As many requests at once as the limit: all pass."""
    with own_simulator(tmp_path, concurrency_limit=3, gate_hold=HOLD) as (sim, api):
        task_id = submit(api)
        answers = _at_once(
            [
                lambda: api.get(f"/v1/videos/{task_id}"),
                lambda: api.get(f"/v1/video/generations/{task_id}"),
                lambda: api.post("/v1/video/generations", json=BODY),
            ]
        )
        assert [answer.status_code for answer in answers] == [200, 200, 200]
        assert (sim.gate_rejections, sim.peak_in_flight) == (0, 3)


def test_polls_count_as_well_as_submits(tmp_path: Path) -> None:
    """Limit 1: while a poll of either form holds the slot, a submit is refused 429 and creates
    no task, and the other form's poll is refused too."""
    with own_simulator(tmp_path, concurrency_limit=1, gate_hold=HOLD) as (sim, api):
        task_id = submit(api)
        for poll in (f"/v1/videos/{task_id}", f"/v1/video/generations/{task_id}"):
            sim.clear_observations()
            first, refused = _at_once(
                [
                    partial(api.get, poll),
                    lambda: _later(lambda: api.post("/v1/video/generations", json=BODY)),
                ]
            )
            assert (first.status_code, refused.status_code) == (200, 429)
            _assert_limit_body(refused)
            assert sim.created_task_ids() == []
        first, refused = _at_once(
            [
                lambda: api.get(f"/v1/videos/{task_id}"),
                lambda: _later(lambda: api.get(f"/v1/video/generations/{task_id}")),
            ]
        )
        assert (first.status_code, refused.status_code) == (200, 429)


def test_other_routes_and_other_keys_are_not_counted(tmp_path: Path) -> None:
    """Limit 1: the models list, the content route and another key's poll pass while one
    poll holds the slot."""
    with own_simulator(tmp_path, api_key=None, concurrency_limit=1, gate_hold=HOLD) as (
        sim,
        api,
    ):
        task_id = sim.add_completed_task(1000)
        other = {"Authorization": "Bearer sk-other"}
        answers = _at_once(
            [
                lambda: api.get(f"/v1/videos/{task_id}"),
                lambda: _later(lambda: api.get("/v1/models")),
                lambda: _later(lambda: api.get(f"/v1/videos/{task_id}/content")),
                lambda: _later(lambda: api.get(f"/v1/video/generations/{task_id}", headers=other)),
            ]
        )
        assert [answer.status_code for answer in answers] == [200, 200, 200, 200]
        assert (sim.gate_rejections, sim.peak_in_flight) == (0, 1)


def test_a_wrong_key_is_refused_before_the_gate(tmp_path: Path) -> None:
    """The key is checked first: 401, not 429, with the gate full."""
    with own_simulator(tmp_path, concurrency_limit=1, gate_hold=HOLD) as (sim, api):
        task_id = submit(api)
        bad = {"Authorization": "Bearer sk-wrong"}
        _, refused = _at_once(
            [
                lambda: api.get(f"/v1/videos/{task_id}"),
                lambda: _later(lambda: api.get(f"/v1/videos/{task_id}", headers=bad)),
            ]
        )
        assert refused.status_code == 401
        assert sim.gate_rejections == 0


def test_without_a_limit_nothing_is_held_or_refused(api: httpx.Client) -> None:
    """The default simulator has no gate: ten polls at once all pass."""
    task_id = submit(api)
    answers = _at_once([lambda: api.get(f"/v1/video/generations/{task_id}")] * 10)
    assert {answer.status_code for answer in answers} == {200}


def test_the_gate_store_down_answers_503(tmp_path: Path) -> None:
    """gate_unavailable_rate 1: submit and polls answer 503 token_concurrency_unavailable;
    the submit created nothing."""
    with own_simulator(tmp_path, gate_unavailable_rate=1.0) as (sim, api):
        answers = [api.post("/v1/video/generations", json=BODY), api.get("/v1/videos/task_x")]
        for answer in answers:
            assert answer.status_code == 503
            _assert_limit_body(answer, "token_concurrency_unavailable")
        assert sim.created_task_ids() == []
        assert (sim.gate_unavailable, sim.gate_rejections) == (2, 0)
        assert api.get("/v1/models").status_code == 200


@pytest.mark.anyio
async def test_the_gate_frees_a_slot_when_a_request_ends() -> None:
    """A slot held by a request that failed (a Rejection) is freed at once; one that succeeded
    after ``hold`` seconds; the peak counts the most at once."""
    gate = ConcurrencyGate(1, hold=0.0)
    with pytest.raises(ValueError):
        async with gate.slot("k"):
            raise ValueError("handler error")
    async with gate.slot("k"):
        pass
    async with gate.slot("k"), gate.slot("other"):
        pass
    assert (gate.counts().rejections, gate.counts().peak) == (0, 1)
    gate.reset_counts()
    assert gate.counts().peak == 0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
