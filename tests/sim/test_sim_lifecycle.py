"""A task's life as seen through both GET forms of the simulated relay."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from rdpipe.sim import Faults, SimConfig, SimServer, run_simulator
from tests.sim.simclient import SMALL_MODEL, submit, wait_final

TASK_ID = re.compile(r"^task_[A-Za-z0-9]{32}$")


def test_submit_answers_the_relays_rich_form(api: httpx.Client, sim: SimServer) -> None:
    """A submit returns id, task_id, object, model, queued status and a creation time."""
    response = api.post(
        "/v1/video/generations",
        json={"model": SMALL_MODEL, "prompt": "a lighthouse", "seconds": "4"},
    )
    body = response.json()
    assert response.status_code == 200
    assert TASK_ID.match(body["task_id"])
    assert body["id"] == body["task_id"]
    assert body["object"] == "video"
    assert body["model"] == SMALL_MODEL
    assert (body["status"], body["progress"]) == ("queued", 0)
    assert isinstance(body["created_at"], int)
    assert sim.created_task_ids() == [body["task_id"]]


def test_statuses_move_forward_to_completed(api: httpx.Client, sim: SimServer) -> None:
    """Polling sees unknown first, then only later states, ending completed with a URL."""
    sim.faults = Faults(extra_unknown=0.2)
    task_id = submit(api)
    seen: list[str] = []
    while not seen or seen[-1] != "completed":
        seen.append(api.get(f"/v1/videos/{task_id}").json()["status"])
        time.sleep(0.01)
    order = ["unknown", "queued", "in_progress", "completed"]
    assert seen[0] == "unknown"
    assert [order.index(status) for status in seen] == sorted(order.index(s) for s in seen)
    video = api.get(f"/v1/videos/{task_id}").json()
    assert video["progress"] == 100
    assert video["metadata"]["url"].startswith("http://127.0.0.1:")


def test_running_task_has_empty_url_and_completed_at(api: httpx.Client) -> None:
    """While running, metadata.url is empty yet completed_at is already set."""
    task_id = submit(api)
    video = api.get(f"/v1/videos/{task_id}").json()
    assert video["status"] in {"unknown", "queued", "in_progress"}
    assert video["metadata"]["url"] == ""
    assert video["completed_at"] > 0


def test_envelope_form_wraps_upper_case_status_and_raw_upstream(api: httpx.Client) -> None:
    """The generations GET gives the {code,message,data} envelope with the raw upstream task."""
    task_id = submit(api, metadata={"ratio": "9:16"})
    first = api.get(f"/v1/video/generations/{task_id}").json()
    assert (first["code"], first["message"]) == ("success", "")
    assert first["data"]["status"] in {"SUBMITTED", "QUEUED", "IN_PROGRESS"}
    assert re.match(r"^\d+%$", first["data"]["progress"])
    wait_final(api, task_id)
    data = api.get(f"/v1/video/generations/{task_id}").json()["data"]
    assert (data["status"], data["progress"], data["fail_reason"]) == ("SUCCESS", "100%", "")
    assert data["result_url"].startswith("http://127.0.0.1:")
    assert data["finish_time"] >= data["start_time"] >= data["submit_time"] > 0
    assert data["properties"]["origin_model_name"] == SMALL_MODEL
    upstream = data["data"]
    assert upstream["id"].startswith("cgt-")
    assert upstream["status"] == "succeeded"
    assert upstream["content"]["video_url"] == data["result_url"]
    assert (upstream["duration"], upstream["ratio"], upstream["resolution"]) == (4, "9:16", "480p")
    assert upstream["framespersecond"] == 24


def test_unknown_task_id_is_400_task_not_exist_on_both_forms(api: httpx.Client) -> None:
    """Both GET forms answer an unknown id with 400 and the relay-style task_not_exist."""
    for path in ("/v1/videos/task_nope", "/v1/video/generations/task_nope"):
        response = api.get(path)
        assert response.status_code == 400
        assert response.json() == {
            "code": "task_not_exist",
            "message": "task_not_exist",
            "data": None,
        }


def test_models_lists_the_simulated_catalog(api: httpx.Client) -> None:
    """GET /v1/models lists the Seedance models as openai-video models."""
    body = api.get("/v1/models").json()
    ids = {model["id"] for model in body["data"]}
    assert (body["object"], body["success"]) == ("list", True)
    assert {
        "doubao-seedance-2-0-480p",
        "doubao-seedance-2-0-720p",
        "doubao-seedance-2-0-1080p",
        "seedance-1-5-pro-with-audio",
        "seedance-1-5-pro-no-audio",
        "doubao-seedance-1-0-pro",
    } <= ids
    assert all(m["supported_endpoint_types"] == ["openai-video"] for m in body["data"])


def test_counters_count_each_endpoint(api: httpx.Client, sim: SimServer) -> None:
    """Counters report how many requests reached each endpoint."""
    task_id = submit(api)
    api.get(f"/v1/videos/{task_id}")
    api.get(f"/v1/videos/{task_id}")
    api.get(f"/v1/video/generations/{task_id}")
    api.get("/v1/models")
    assert sim.counters() == {
        "POST /v1/video/generations": 1,
        "GET /v1/videos/{id}": 2,
        "GET /v1/video/generations/{id}": 1,
        "GET /v1/models": 1,
    }


def test_requests_are_logged_with_headers_and_body(api: httpx.Client, sim: SimServer) -> None:
    """The request log keeps method, path, origin, lower-case headers and the body."""
    submit(api, prompt="logged prompt")
    (request,) = sim.requests()
    assert (request.method, request.path, request.origin) == (
        "POST",
        "/v1/video/generations",
        "api",
    )
    assert request.headers["authorization"] == "Bearer sk-sim-test"
    assert b"logged prompt" in request.body


def test_a_restarted_simulator_never_reissues_a_task_id(tmp_path: Path) -> None:
    """Two simulators started one after the other with one seed give out no id twice (issue 10)."""
    config = SimConfig(api_key="sk-ids", seed=7, work_dir=tmp_path)
    issued: list[str] = []
    for _ in range(2):
        with run_simulator(config) as server:
            headers = {"Authorization": "Bearer sk-ids"}
            with httpx.Client(base_url=server.base_url, headers=headers) as client:
                issued += [submit(client, prompt=f"shot {n}") for n in range(3)]
            assert server.created_task_ids() == issued[-3:]
    assert len(set(issued)) == 6
    assert all(TASK_ID.match(task_id) for task_id in issued)
