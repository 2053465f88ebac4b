"""The asset library (create, audit after a delay) and what a submit may cite: asset:// URIs,
hosted files, and never inline video or audio."""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

import httpx
import pytest

from rdpipe.sim import MediaRules, SimServer
from tests.sim.media_client import host, md5_of, unique_bytes, unique_png
from tests.sim.simclient import SMALL_MODEL, wait_final

REASON = (
    "the portrait shows a real person; the virtual library accepts synthetic portraits only "
    "(InputImageSensitiveContentDetected.PrivacyInformation)"
)


def _create(api: httpx.Client, source_url: str, **fields: Any) -> httpx.Response:
    body = {"source_url": source_url, "asset_type": "Image", "name": "", **fields}
    return api.post("/api/assets/virtual/create", json=body)


def _settled(api: httpx.Client, asset_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Poll the asset's status until it is no longer Processing; return that body."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = api.get(f"/api/assets/{asset_id}/status").json()
        if body["status"] != "Processing":
            return body
        time.sleep(0.02)
    raise AssertionError(f"asset {asset_id} still Processing after {timeout} s")


def _portrait(api: httpx.Client, plain: httpx.Client, sim: SimServer) -> tuple[str, str]:
    """A hosted portrait registered as an asset: its (id, uri), still Processing."""
    response = _create(api, host(api, plain, unique_png(), "png"))
    assert response.status_code == 200, response.text
    return response.json()["id"], response.json()["uri"]


def _submit(api: httpx.Client, *content: dict[str, Any], **metadata: Any) -> httpx.Response:
    body = {"model": SMALL_MODEL, "prompt": "a kite", "seconds": "4",
            "metadata": {"content": list(content), **metadata}}  # fmt: skip
    return api.post("/v1/video/generations", json=body)


def _entry(kind: str, url: str) -> dict[str, Any]:
    role = {"image_url": "reference_image", "video_url": "reference_video",
            "audio_url": "reference_audio"}[kind]  # fmt: skip
    return {"type": kind, kind: {"url": url}, "role": role}


def _invalid(message: str) -> dict[str, Any]:
    return {"code": "invalid_request", "message": message, "data": None}


def test_asset_is_processing_then_active(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """A hosted image registers as Processing with an asset:// URI and reads Active after
    the delay; sim.assets() lists it."""
    source_url = host(api, plain, unique_png(), "png")
    response = _create(api, source_url, name="mara")
    created = response.json()
    assert response.status_code == 200
    assert re.fullmatch(r"asset-[0-9a-f]{24}", created["id"])
    assert created == {"id": created["id"], "status": "Processing",
                       "uri": f"asset://{created['id']}"}  # fmt: skip
    assert api.get(f"/api/assets/{created['id']}/status").json()["status"] == "Processing"
    assert _settled(api, created["id"]) == {**created, "status": "Active"}
    listed = [a for a in sim.assets() if a["id"] == created["id"]]
    assert listed == [{**created, "status": "Active", "source_url": source_url, "name": "mara"}]
    assert sim.counters()["POST /api/assets/virtual/create"] == 1
    assert sim.counters()["GET /api/assets/{id}/status"] >= 2


def test_marked_portrait_fails_its_audit_with_the_reason(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """A hosted file whose md5 the rules mark reads Failed, with the failure reason."""
    data = unique_png()
    source_url = host(api, plain, data, "png")
    sim.media_rules = MediaRules(failing_portraits=frozenset({md5_of(data)}), asset_delay=0.05)
    created = _create(api, source_url).json()
    assert _settled(api, created["id"]) == {**created, "status": "Failed", "reason": REASON}
    sim.media_rules = MediaRules(failing_portraits=frozenset({md5_of(data)}),
                                 failure_reason="not synthetic", asset_delay=0)  # fmt: skip
    again = _create(api, source_url).json()
    assert again["status"] == "Failed"
    assert again["reason"] == "not synthetic"


def test_asset_delay_follows_the_rules_in_force_at_creation(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """An asset made under a long delay stays Processing after the rules change."""
    sim.media_rules = MediaRules(asset_delay=3600)
    asset_id, _ = _portrait(api, plain, sim)
    sim.media_rules = MediaRules(asset_delay=0)
    assert api.get(f"/api/assets/{asset_id}/status").json()["status"] == "Processing"


@pytest.mark.parametrize(
    ("kind", "make_body", "message"),
    [
        ("external", lambda url: {"source_url": "https://example.com/a.png"},
         "source_url is not a hosted file: https://example.com/a.png"),
        ("video", lambda url: {"source_url": url},
         "source_url is not an image: {url}"),
        ("image", lambda url: {"source_url": url, "asset_type": "Video"},
         "unsupported asset_type: Video"),
        ("image", lambda url: {"source_url": url, "name": 3}, "name must be a string"),
        ("image", lambda url: [url], "request body must be a JSON object"),
        ("image", lambda url: {}, "source_url is not a hosted file: None"),
    ],
)  # fmt: skip
def test_bad_asset_requests_are_400(
    api: httpx.Client, plain: httpx.Client, kind: str, make_body: Any, message: str
) -> None:
    """A source that is not an image hosted here, or a malformed body, is a 400."""
    data, ext = (unique_bytes(), "mp4") if kind == "video" else (unique_png(), "png")
    url = host(api, plain, data, ext)
    response = api.post("/api/assets/virtual/create", json=make_body(url))
    assert response.status_code == 400
    assert response.json() == {"success": False, "message": message.format(url=url)}


def test_asset_request_that_is_not_json_is_400(api: httpx.Client) -> None:
    """A create body that is not JSON is a 400 in the media host's shape."""
    response = api.post("/api/assets/virtual/create", content=b"{not json")
    assert response.status_code == 400
    assert response.json() == {"success": False, "message": "request body is not valid JSON"}


def test_gone_source_cannot_become_an_asset(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """A source_url whose file was removed is not a hosted file any more."""
    data = unique_png()
    url = host(api, plain, data, "png")
    sim.remove_hosted(f"{md5_of(data)}.png")
    response = _create(api, url)
    assert response.status_code == 400
    assert response.json()["message"] == f"source_url is not a hosted file: {url}"


def test_unknown_asset_status_is_404(api: httpx.Client) -> None:
    """The status of an id never issued is a 404 'asset not found'."""
    response = api.get("/api/assets/asset-000000000000000000000000/status")
    assert response.status_code == 404
    assert response.json() == {"success": False, "message": "asset not found"}


def test_submit_with_an_active_asset_is_accepted(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """An Active asset's URI is accepted where an image URL goes, and the task completes."""
    sim.media_rules = MediaRules(asset_delay=0)
    _, uri = _portrait(api, plain, sim)
    response = _submit(api, _entry("image_url", uri))
    assert response.status_code == 200, response.text
    assert wait_final(api, response.json()["task_id"])["status"] == "completed"


def test_submit_with_an_asset_not_active_is_refused(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """A Processing or Failed asset is a relay 400 naming its status; nothing is created."""
    sim.media_rules = MediaRules(asset_delay=3600)
    processing_id, processing_uri = _portrait(api, plain, sim)
    data = unique_png()
    source_url = host(api, plain, data, "png")
    sim.media_rules = MediaRules(asset_delay=0, failing_portraits=frozenset({md5_of(data)}))
    failed = _create(api, source_url).json()
    response = _submit(api, _entry("image_url", processing_uri))
    assert response.status_code == 400
    assert response.json() == _invalid(f"asset {processing_id} is not active (status Processing)")
    response = _submit(api, _entry("image_url", failed["uri"]))
    assert response.json() == _invalid(f"asset {failed['id']} is not active (status Failed)")
    assert sim.created_task_ids() == []


def test_submit_with_an_unknown_asset_is_refused(api: httpx.Client, sim: SimServer) -> None:
    """An asset:// URI the library never issued is a relay 400 'unknown asset'."""
    response = _submit(api, _entry("image_url", "asset://asset-ffffffffffffffffffffffff"))
    assert response.status_code == 400
    assert response.json() == _invalid("unknown asset asset-ffffffffffffffffffffffff")


@pytest.mark.parametrize(("kind", "word"), [("video_url", "video"), ("audio_url", "audio")])
def test_inline_video_or_audio_is_refused(api: httpx.Client, kind: str, word: str) -> None:
    """A data: URL for a video or audio reference is a relay 400: the model takes URLs only."""
    inline = "data:video/mp4;base64," + base64.b64encode(b"\0\0\0\x18ftypmp42").decode()
    image = _entry("image_url", "https://example.com/a.jpg")
    response = _submit(api, image, _entry(kind, inline))
    assert response.status_code == 400
    assert response.json() == _invalid(
        f"{kind} must be an http(s) URL: the model does not take inline {word}"
    )


def test_submit_with_hosted_video_and_audio_is_accepted(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """Hosted image, video and audio URLs on the simulator's storage are accepted."""
    image = host(api, plain, unique_png(), "png")
    video = host(api, plain, unique_bytes(), "mp4")
    audio = host(api, plain, unique_bytes(), "wav")
    response = _submit(
        api, _entry("image_url", image), _entry("video_url", video), _entry("audio_url", audio)
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("kind", "ext"), [("video_url", "mov"), ("image_url", "png")])
def test_submit_citing_a_removed_hosted_file_is_refused(
    api: httpx.Client, plain: httpx.Client, sim: SimServer, kind: str, ext: str
) -> None:
    """A hosted URL whose file is gone is a relay 400: it could not be downloaded."""
    data = unique_png() if ext == "png" else unique_bytes()
    url = host(api, plain, data, ext)
    sim.remove_hosted(f"{md5_of(data)}.{ext}")
    content = [_entry(kind, url)]
    if kind != "image_url":
        content.insert(0, _entry("image_url", "https://example.com/a.jpg"))
    response = _submit(api, *content)
    assert response.status_code == 400
    assert response.json() == _invalid(f"reference {url} could not be downloaded (404)")


def test_hosted_images_are_checked_like_data_urls(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """A hosted image too small is an upstream 400; a good one decides the adaptive ratio."""
    small = host(api, plain, unique_png(200, 200), "png")
    response = _submit(api, _entry("image_url", small))
    assert response.status_code == 400
    assert response.json()["code"] == "upstream_error"
    assert "each side must be" in json.loads(response.json()["message"])["error"]["message"]
    not_image = host(api, plain, unique_bytes(), "jpg")
    response = _submit(api, _entry("image_url", not_image))
    assert "could not be decoded" in json.loads(response.json()["message"])["error"]["message"]
    portrait = host(api, plain, unique_png(300, 400), "png")
    response = _submit(api, _entry("image_url", portrait), ratio="adaptive")
    assert response.status_code == 200, response.text
    video = api.get(f"/v1/videos/{response.json()['task_id']}").json()
    assert video["size"] == "480x640"
