"""Getting the clip: /content with Range through the API, and signed URLs on storage."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from rdpipe.sim import SimConfig, SimServer, run_simulator, synthetic_bytes
from tests.sim.simclient import submit, wait_final


def test_content_before_completion_is_400_with_status(api: httpx.Client) -> None:
    """/content on a running task is a 400 naming the task's current upper-case status."""
    task_id = submit(api, prompt="not yet")
    response = api.get(f"/v1/videos/{task_id}/content")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Task is not completed yet, current status: ")
    assert error["message"].rsplit(" ", 1)[1] in {"SUBMITTED", "QUEUED", "IN_PROGRESS"}


def test_content_of_unknown_task_is_404(api: httpx.Client) -> None:
    """/content for an id the relay never issued is a 404."""
    assert api.get("/v1/videos/task_unknown/content").status_code == 404


def test_content_streams_the_mp4_and_honours_range(api: httpx.Client) -> None:
    """A finished clip downloads whole (200) or in parts (206 with Content-Range)."""
    task_id = submit(api)
    wait_final(api, task_id)
    whole = api.get(f"/v1/videos/{task_id}/content")
    size = len(whole.content)
    part = api.get(f"/v1/videos/{task_id}/content", headers={"Range": "bytes=100-199"})
    tail = api.get(f"/v1/videos/{task_id}/content", headers={"Range": "bytes=-10"})
    open_ended = api.get(f"/v1/videos/{task_id}/content", headers={"Range": "bytes=50-"})
    assert (whole.status_code, whole.headers["content-type"]) == (200, "video/mp4")
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.content[4:8] == b"ftyp"
    assert (part.status_code, part.headers["content-range"]) == (206, f"bytes 100-199/{size}")
    assert part.content == whole.content[100:200]
    assert tail.content == whole.content[-10:]
    assert open_ended.content == whole.content[50:]


def test_unsatisfiable_range_is_416(api: httpx.Client, sim: SimServer) -> None:
    """A range starting past the end is a 416 with ``bytes */size``."""
    size = 5000
    task_id = sim.add_completed_task(content_size=size)
    response = api.get(f"/v1/videos/{task_id}/content", headers={"Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"


def test_signed_url_downloads_from_storage_without_api_key(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """metadata.url is on the storage origin, works without a key, and matches /content."""
    task_id = sim.add_completed_task(content_size=70_000)
    url = api.get(f"/v1/videos/{task_id}").json()["metadata"]["url"]
    from_storage = plain.get(url)
    from_api = api.get(f"/v1/videos/{task_id}/content")
    assert url.startswith(sim.storage_url + "/")
    assert from_storage.status_code == 200
    assert from_storage.content == from_api.content
    storage_requests = [r for r in sim.requests() if r.origin == "storage"]
    assert [r.endpoint for r in storage_requests] == ["GET storage"]
    assert "authorization" not in storage_requests[0].headers
    assert sim.counters()["GET storage"] == 1


def test_storage_supports_range(api: httpx.Client, plain: httpx.Client, sim: SimServer) -> None:
    """Storage answers a Range request with 206 and the requested bytes."""
    task_id = sim.add_completed_task(content_size=5000)
    url = api.get(f"/v1/videos/{task_id}").json()["metadata"]["url"]
    whole = plain.get(url).content
    part = plain.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.content == whole[:100]


def test_tampered_or_unsigned_url_is_403(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """Storage refuses a URL whose signature, expiry or path was changed."""
    task_id = sim.add_completed_task(content_size=5000)
    url = api.get(f"/v1/videos/{task_id}").json()["metadata"]["url"]
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    later = urlencode({**query, "expires": int(query["expires"]) + 3600})
    for bad in (base, f"{base}?{later}", url.replace(".mp4?", "x.mp4?")):
        response = plain.get(bad)
        assert response.status_code == 403, bad
        assert b"AccessDenied" in response.content


class _Clock:
    """A settable clock for one simulator."""

    def __init__(self) -> None:
        self.now = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now


def test_url_expires_after_its_lifetime_and_a_new_get_signs_a_fresh_one(
    plain: httpx.Client,
) -> None:
    """A signed URL is refused once expired; GETting the task again gives a working one."""
    clock = _Clock()
    with run_simulator(SimConfig(api_key="k", clock=clock)) as sim:
        headers = {"Authorization": "Bearer k"}
        task_id = sim.add_completed_task(content_size=1000)
        video_url = f"{sim.base_url}/v1/videos/{task_id}"
        old_url = plain.get(video_url, headers=headers).json()["metadata"]["url"]
        clock.now += 1801
        expired = plain.get(old_url)
        new_url = plain.get(video_url, headers=headers).json()["metadata"]["url"]
        fresh = plain.get(new_url)
    assert expired.status_code == 403
    assert b"Request has expired" in expired.content
    assert fresh.status_code == 200
    assert fresh.content == synthetic_bytes(0, 1000)


def test_big_synthetic_clip_streams_with_ranges(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """A 20 MB synthetic clip streams in chunks with the documented byte pattern."""
    size = 20 * 1024 * 1024
    task_id = sim.add_completed_task(content_size=size)
    url = api.get(f"/v1/videos/{task_id}").json()["metadata"]["url"]
    received = 0
    chunks = 0
    with plain.stream("GET", url) as response:
        assert response.headers["content-length"] == str(size)
        for chunk in response.iter_raw():
            assert chunk == synthetic_bytes(received, len(chunk))
            received += len(chunk)
            chunks += 1
    middle = plain.get(url, headers={"Range": "bytes=10000000-10000999"})
    assert (received, chunks > 1) == (size, True)
    assert middle.content == synthetic_bytes(10_000_000, 1000)
    assert sim.created_task_ids() == []
