"""The simulated relay refuses bad submits with the status and error shape the real one uses."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import httpx
import pytest
from PIL import Image

from rdpipe.sim import SimServer
from tests.sim.simclient import SMALL_MODEL


def _png_data_url(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _image(role: str = "reference_image", url: str = "https://example.com/a.jpg") -> Any:
    return {"type": "image_url", "image_url": {"url": url}, "role": role}


def _video() -> Any:
    url = "https://example.com/v.mp4"
    return {"type": "video_url", "video_url": {"url": url}, "role": "reference_video"}


def _audio() -> Any:
    url = "https://example.com/a.mp3"
    return {"type": "audio_url", "audio_url": {"url": url}, "role": "reference_audio"}


def _post(api: httpx.Client, **fields: Any) -> httpx.Response:
    body: dict[str, Any] = {"model": SMALL_MODEL, "prompt": "a kite", "seconds": "4"}
    body.update(fields)
    return api.post("/v1/video/generations", json=body)


@pytest.mark.parametrize("prompt", ["", "   ", None])
def test_blank_prompt_is_relay_style_invalid_request(api: httpx.Client, prompt: Any) -> None:
    """A missing or blank prompt is a 400 invalid_request in the relay's format."""
    response = _post(api, prompt=prompt)
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_request",
        "message": "prompt is required",
        "data": None,
    }


def test_seconds_as_json_number_is_refused(api: httpx.Client) -> None:
    """``seconds`` sent as a JSON number is a 400 invalid_request, as the Go relay does."""
    response = _post(api, seconds=5)
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid_request"
    assert "cannot unmarshal number" in body["message"]


@pytest.mark.parametrize(
    ("model", "seconds", "accepted"),
    [
        ("doubao-seedance-2-0-480p", "4", True),
        ("doubao-seedance-2-0-480p", "15", True),
        ("doubao-seedance-2-0-480p", "3", False),
        ("doubao-seedance-2-0-480p", "16", False),
        ("seedance-1-5-pro-no-audio", "12", True),
        ("seedance-1-5-pro-no-audio", "13", False),
        ("doubao-seedance-1-0-pro", "2", True),
        ("doubao-seedance-1-0-pro", "1", False),
    ],
)
def test_duration_limits_follow_the_model_family(
    api: httpx.Client, sim: SimServer, model: str, seconds: str, accepted: bool
) -> None:
    """Each family accepts its own duration range and refuses the rest as an upstream 400."""
    response = _post(api, model=model, seconds=seconds, metadata={"resolution": "480p"})
    if accepted:
        assert response.status_code == 200
        return
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "upstream_error"
    assert json.loads(body["message"])["error"]["param"] == "duration"
    assert sim.created_task_ids() == []


def test_unknown_model_is_openai_style_503(api: httpx.Client) -> None:
    """An unknown model id is a 503 model_not_found in the OpenAI error format."""
    response = _post(api, model="seedance-9-ultra")
    error = response.json()["error"]
    assert response.status_code == 503
    assert error["code"] == "model_not_found"
    assert "seedance-9-ultra" in error["message"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ([_image() for _ in range(10)], "too many image_url"),
        ([_image(), *[_video() for _ in range(4)]], "too many video_url"),
        ([_image(), *[_audio() for _ in range(4)]], "too many audio_url"),
        ([_audio()], "audio references need"),
        ([_image("first_frame"), _image()], "cannot be combined"),
        ([_image("first_frame"), _video()], "cannot be combined"),
        ([_image(url="ftp://example.com/a.jpg")], "http(s) URL or a data URL"),
        ([_image(url=_png_data_url(200, 200))], "each side must be"),
        ([_image(url=_png_data_url(1200, 400))], "aspect ratio"),
        ([_image(url="data:image/png;base64,bm90IGFuIGltYWdl")], "could not be decoded"),
    ],
)
def test_content_limits_are_upstream_400s(
    api: httpx.Client, content: list[Any], problem: str
) -> None:
    """Reference media over the limits, or mixed with frame mode, is refused upstream-style."""
    response = _post(api, metadata={"content": content})
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "upstream_error"
    assert problem in json.loads(body["message"])["error"]["message"]


def test_allowed_content_is_accepted(api: httpx.Client) -> None:
    """Nine images, three videos and three audios together are within the limits."""
    content = [_image(url=_png_data_url(400, 300))] + [_image() for _ in range(8)]
    content += [_video() for _ in range(3)] + [_audio() for _ in range(3)]
    assert _post(api, metadata={"content": content}).status_code == 200


def test_first_and_last_frame_together_are_accepted(api: httpx.Client) -> None:
    """First/last-frame mode alone is valid."""
    content = [_image("first_frame"), _image("last_frame")]
    assert _post(api, metadata={"content": content}).status_code == 200


@pytest.mark.parametrize(
    ("metadata", "param"),
    [
        ({"ratio": "5:4"}, "ratio"),
        ({"resolution": "720p"}, "resolution"),
        ({"generate_audio": "yes"}, "generate_audio"),
    ],
)
def test_bad_vendor_parameters_are_refused(
    api: httpx.Client, metadata: dict[str, Any], param: str
) -> None:
    """An unknown ratio, a resolution the model lacks, or a non-bool audio flag is a 400."""
    response = _post(api, metadata=metadata)
    assert response.status_code == 400
    assert json.loads(response.json()["message"])["error"]["param"] == param


def test_body_that_is_not_json_is_invalid_request(api: httpx.Client) -> None:
    """A body that is not JSON is a relay-style 400 invalid_request."""
    response = api.post("/v1/video/generations", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
