"""The bearer-key check and the gateway's routing errors, in the OpenAI error format."""

from __future__ import annotations

import httpx
import pytest

from rdpipe.sim import SimConfig, SimServer, run_simulator


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sk-wrong"}, {"Authorization": "Basic c2stc2ltLXRlc3Q="}],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/video/generations"),
        ("GET", "/v1/videos/task_x"),
        ("GET", "/v1/video/generations/task_x"),
        ("GET", "/v1/videos/task_x/content"),
        ("GET", "/v1/models"),
    ],
)
def test_missing_or_wrong_key_is_401(
    sim: SimServer, plain: httpx.Client, headers: dict[str, str], method: str, path: str
) -> None:
    """Every API endpoint answers 401 in the OpenAI format without the configured key."""
    response = plain.request(method, sim.base_url + path, headers=headers, json={})
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("new_api_error", "invalid_api_key")
    assert sim.created_task_ids() == []


def test_unknown_route_is_openai_style_404(api: httpx.Client) -> None:
    """A path the relay does not serve is a 404 in the OpenAI error format."""
    response = api.get("/v1/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (GET /v1/nothing)"


def test_without_configured_key_any_bearer_key_passes(plain: httpx.Client) -> None:
    """With api_key=None any bearer key is accepted, but a key is still required."""
    with run_simulator(SimConfig(api_key=None)) as sim:
        models = f"{sim.base_url}/v1/models"
        anything = plain.get(models, headers={"Authorization": "Bearer sk-whatever"})
        nothing = plain.get(models)
    assert anything.status_code == 200
    assert nothing.status_code == 401
