"""Faults injected on purpose: each kind, its targeting, and its determinism."""

from __future__ import annotations

import time

import httpx
import pytest

from rdpipe.sim import Faults, SimServer, StoredBody, synthetic_bytes
from rdpipe.sim.faults import FaultInjector, FaultKind
from tests.sim.simclient import SMALL_MODEL, submit, wait_final

BODY = {"model": SMALL_MODEL, "prompt": "a red kite", "seconds": "4"}


def test_server_error_on_submit_still_creates_the_task(api: httpx.Client, sim: SimServer) -> None:
    """A 5xx aimed at submit comes after the task was created; other endpoints are spared."""
    sim.faults = Faults(server_error_rate=1.0, endpoints=frozenset({"submit"}))
    response = api.post("/v1/video/generations", json=BODY)
    assert response.status_code in {500, 502, 503}
    assert response.json()["error"]["type"] == "new_api_error"
    (task_id,) = sim.created_task_ids()
    assert api.get(f"/v1/videos/{task_id}").status_code == 200
    assert api.get("/v1/models").status_code == 200


def test_server_error_on_get_spares_the_other_form(api: httpx.Client, sim: SimServer) -> None:
    """A 5xx aimed at the OpenAI-form GET leaves the envelope GET working."""
    task_id = submit(api)
    sim.faults = Faults(server_error_rate=1.0, endpoints=frozenset({"video"}))
    assert api.get(f"/v1/videos/{task_id}").status_code >= 500
    assert api.get(f"/v1/video/generations/{task_id}").status_code == 200


@pytest.mark.parametrize("retry_after", [3, None])
def test_rate_limit_burst_refuses_before_creating(
    api: httpx.Client, sim: SimServer, retry_after: int | None
) -> None:
    """A burst of 429s (with or without Retry-After) creates no task; then submits pass."""
    sim.faults = Faults(rate_limit_burst=2, retry_after=retry_after)
    answers = [api.post("/v1/video/generations", json=BODY) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].json()["error"]["code"] == "rate_limit_exceeded"
    expected = None if retry_after is None else str(retry_after)
    assert answers[0].headers.get("retry-after") == expected
    assert sim.created_task_ids() == [answers[2].json()["task_id"]]


def test_dropped_submit_connection_still_creates_the_task(
    api: httpx.Client, sim: SimServer
) -> None:
    """A connection dropped mid-body on submit leaves the client without an answer, not a task."""
    sim.faults = Faults(drop_rate=1.0, endpoints=frozenset({"submit"}))
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v1/video/generations", json=BODY)
    assert len(sim.created_task_ids()) == 1
    assert sim.counters()["POST /v1/video/generations"] == 1


def test_dropped_get_connection(api: httpx.Client, sim: SimServer) -> None:
    """A drop aimed at the models list cuts its body off."""
    sim.faults = Faults(drop_rate=1.0, endpoints=frozenset({"models"}))
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/v1/models")


def test_truncated_download_sends_less_than_content_length(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """A truncated storage download stops short of its Content-Length and closes."""
    task_id = sim.add_completed_task(content_size=1_000_000)
    url = api.get(f"/v1/videos/{task_id}").json()["metadata"]["url"]
    sim.faults = Faults(truncate_rate=1.0, endpoints=frozenset({"storage"}))
    received = 0
    with pytest.raises(httpx.RemoteProtocolError), plain.stream("GET", url) as response:
        assert response.headers["content-length"] == "1000000"
        for chunk in response.iter_raw():
            received += len(chunk)
    assert 0 < received < 1_000_000
    assert api.get(f"/v1/videos/{task_id}/content").status_code == 200


def test_delay_slows_the_answer(api: httpx.Client, sim: SimServer) -> None:
    """A delay holds the answer back by at least that many seconds."""
    sim.faults = Faults(delay=0.3, endpoints=frozenset({"models"}))
    started = time.monotonic()
    response = api.get("/v1/models")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_expired_urls_fault_forces_the_content_route(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """URLs issued under expired_urls are refused by storage; /content still serves the clip."""
    task_id = sim.add_completed_task(content_size=4096)
    sim.faults = Faults(expired_urls=True)
    url = api.get(f"/v1/videos/{task_id}").json()["metadata"]["url"]
    refused = plain.get(url)
    assert refused.status_code == 403
    assert b"Request has expired" in refused.content
    assert len(api.get(f"/v1/videos/{task_id}/content").content) == 4096


def test_failed_task_reports_moderation_in_every_form(api: httpx.Client, sim: SimServer) -> None:
    """A task failure shows as failed/FAILURE/failed with the upstream code and a reason."""
    sim.faults = Faults(task_failure_rate=1.0)
    task_id = submit(api)
    video = wait_final(api, task_id)
    envelope = api.get(f"/v1/video/generations/{task_id}").json()["data"]
    content = api.get(f"/v1/videos/{task_id}/content")
    assert video["status"] == "failed"
    assert video["error"]["code"] == "OutputVideoSensitiveContentDetected"
    assert video["metadata"]["url"] == ""
    assert envelope["status"] == "FAILURE"
    assert envelope["fail_reason"] == video["error"]["message"] != ""
    assert envelope["data"]["status"] == "failed"
    assert content.status_code == 400
    assert content.json()["error"]["message"].endswith("FAILURE")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("InputTextSensitiveContentDetected", "the input text may contain sensitive information"),
        ("InputImageSensitiveContentDetected.PrivacyInformation", "input image may contain real"),
        ("OutputAudioSensitiveContentDetected", "output audio may contain sensitive"),
        ("SomethingNew", "The request failed (SomethingNew)."),
    ],
)
def test_failure_code_and_prompt_choose_how_tasks_fail(
    api: httpx.Client, sim: SimServer, code: str, message: str
) -> None:
    """Tasks fail with the chosen upstream code, and only those whose prompt matches."""
    sim.faults = Faults(task_failure_rate=1.0, failure_code=code, failing_prompts="forbidden")
    refused = wait_final(api, submit(api, prompt="a forbidden word"))
    spared = wait_final(api, submit(api, prompt="a harmless word"), timeout=60)
    assert (refused["status"], refused["error"]["code"]) == ("failed", code)
    assert message in refused["error"]["message"]
    assert spared["status"] == "completed"


@pytest.mark.parametrize(
    ("stored", "content_type", "length"),
    [
        (StoredBody("application/json", b'{"e": 1}'), "application/json", 8),
        (StoredBody("text/html", b"<html></html>"), "text/html; charset=utf-8", 13),
        (StoredBody("video/mp4", b""), "video/mp4", 0),
        (StoredBody("application/octet-stream"), "application/octet-stream", 4096),
    ],
)
def test_stored_body_replaces_the_clip(
    api: httpx.Client,
    plain: httpx.Client,
    sim: SimServer,
    stored: StoredBody,
    content_type: str,
    length: int,
) -> None:
    """Storage answers 200 with the chosen body and type; data=None keeps the clip's bytes."""
    task_id = sim.add_completed_task(content_size=4096)
    url = api.get(f"/v1/videos/{task_id}").json()["metadata"]["url"]
    sim.faults = Faults(stored_body=stored)
    answer = plain.get(url)
    assert (answer.status_code, answer.headers["content-type"]) == (200, content_type)
    assert len(answer.content) == length == int(answer.headers["content-length"])
    if stored.data is None:
        assert answer.content == synthetic_bytes(0, 4096)


def test_stored_body_shorter_than_announced_is_cut(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """A declared length above the body's ends the connection after the body."""
    task_id = sim.add_completed_task(content_size=4096)
    url = api.get(f"/v1/videos/{task_id}").json()["metadata"]["url"]
    sim.faults = Faults(stored_body=StoredBody("video/mp4", b"abc", declared_length=100))
    with pytest.raises(httpx.RemoteProtocolError, match="received 3 bytes, expected 100"):
        plain.get(url)


def test_stored_body_fraction_ends_early_without_a_length(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """A fraction sends that share of the clip with no Content-Length and closes: no error."""
    task_id = sim.add_completed_task(content_size=4000)
    url = api.get(f"/v1/videos/{task_id}").json()["metadata"]["url"]
    sim.faults = Faults(stored_body=StoredBody("video/mp4", fraction=0.55))
    answer = plain.get(url)
    assert (answer.status_code, answer.content) == (200, synthetic_bytes(0, 2200))
    assert "content-length" not in answer.headers
    assert answer.headers["connection"] == "close"
    content = api.get(f"/v1/videos/{task_id}/content")
    assert content.content == synthetic_bytes(0, 4000), "the API's /content is spared"
    sim.faults = Faults(
        stored_body=StoredBody("video/mp4", fraction=0.5, endpoints=frozenset({"content"}))
    )
    assert api.get(f"/v1/videos/{task_id}/content").content == synthetic_bytes(0, 2000)
    assert plain.get(url).content == synthetic_bytes(0, 4000)


def test_extra_unknown_keeps_new_tasks_unknown(api: httpx.Client, sim: SimServer) -> None:
    """With extra_unknown, a new task reads unknown (SUBMITTED in the envelope) for that long."""
    sim.faults = Faults(extra_unknown=5.0)
    task_id = submit(api)
    time.sleep(0.4)
    assert api.get(f"/v1/videos/{task_id}").json()["status"] == "unknown"
    envelope = api.get(f"/v1/video/generations/{task_id}").json()["data"]
    assert (envelope["status"], envelope["start_time"]) == ("SUBMITTED", 0)


def test_faults_are_deterministic_under_the_seed(api: httpx.Client, sim: SimServer) -> None:
    """Installing the same faults twice replays the same sequence of outcomes."""
    faults = Faults(server_error_rate=0.3, rate_limit_rate=0.2, endpoints=frozenset({"models"}))
    runs = []
    for _ in range(2):
        sim.faults = faults
        runs.append([api.get("/v1/models").status_code for _ in range(20)])
    assert runs[0] == runs[1]
    assert {200, 429} <= set(runs[0])
    assert any(status >= 500 for status in runs[0])


def test_injector_decisions_depend_only_on_the_seed() -> None:
    """Two injectors with one seed decide alike; another seed decides differently."""
    faults = Faults(server_error_rate=0.5, drop_rate=0.5, task_failure_rate=0.5)

    def decisions(seed: int) -> list[FaultKind]:
        injector = FaultInjector(faults, seed)
        return [injector.decide("video").kind for _ in range(40)]

    assert decisions(1) == decisions(1)
    assert decisions(1) != decisions(2)


@pytest.mark.parametrize(
    "arguments",
    [{"endpoints": frozenset({"upload"})}, {"drop_rate": 1.5}, {"delay": -1.0}],
)
def test_faults_refuse_nonsense(arguments: dict[str, object]) -> None:
    """Unknown endpoint names, rates outside 0-1 and negative delays are refused."""
    with pytest.raises(ValueError):
        Faults(**arguments)  # type: ignore[arg-type]
