"""The media host: upload slots on the API origin, presigned PUTs and hosted files on storage."""

from __future__ import annotations

import re
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from rdpipe.sim import Faults, MediaRules, SimConfig, SimServer, run_simulator
from tests.sim.media_client import host, md5_of, unique_bytes, unique_png, upload_slot

XML_HEAD = "<?xml version='1.0' encoding='UTF-8'?>\n"


def _xml(code: str, message: str) -> str:
    return f"{XML_HEAD}<Error><Code>{code}</Code><Message>{message}</Message></Error>"


def test_upload_slot_for_a_new_file(api: httpx.Client, sim: SimServer) -> None:
    """A file not hosted yet gets exists=false, a signed upload URL and its source URL."""
    data = unique_png()
    md5 = md5_of(data)
    response = api.get("/api/upload-url", params={"ext": "png", "md5": md5})
    slot = response.json()
    assert response.status_code == 200
    assert set(slot) == {"exists", "upload_url", "source_url", "content_type"}
    assert slot["exists"] is False
    assert slot["content_type"] == "image/png"
    assert slot["source_url"] == f"{sim.storage_url}/media/{md5}.png"
    upload = urlsplit(slot["upload_url"])
    assert f"{upload.scheme}://{upload.netloc}" == sim.storage_url
    assert upload.path == f"/uploads/{md5}.png"
    query = parse_qs(upload.query)
    assert set(query) == {"expires", "signature"}
    assert re.fullmatch(r"[0-9a-f]{64}", query["signature"][0])
    assert sim.counters() == {"GET /api/upload-url": 1}


@pytest.mark.parametrize(
    ("ext", "content_type"),
    [
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("webp", "image/webp"),
        ("bmp", "image/bmp"),
        ("tiff", "image/tiff"),
        ("gif", "image/gif"),
        ("mp4", "video/mp4"),
        ("mov", "video/quicktime"),
        ("wav", "audio/wav"),
        ("mp3", "audio/mpeg"),
    ],
)
def test_each_extension_gets_its_content_type(
    api: httpx.Client, ext: str, content_type: str
) -> None:
    """Every extension the host takes is issued its own Content-Type."""
    assert upload_slot(api, unique_bytes(), ext)["content_type"] == content_type


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"ext": "exe", "md5": "0" * 32}, "unsupported file type: exe"),
        ({"md5": "0" * 32}, "ext is required"),
        ({"ext": "png", "md5": "0" * 31}, "md5 must be 32 lower-case hex digits"),
        ({"ext": "png", "md5": "A" * 32}, "md5 must be 32 lower-case hex digits"),
        ({"ext": "png"}, "md5 must be 32 lower-case hex digits"),
    ],
)
def test_bad_upload_slot_requests_are_400(
    api: httpx.Client, params: dict[str, str], message: str
) -> None:
    """An unknown extension, a missing one or a bad md5 is a 400 in the media host's shape."""
    response = api.get("/api/upload-url", params=params)
    assert response.status_code == 400
    assert response.json() == {"success": False, "message": message}


def test_refused_extensions_are_configurable(api: httpx.Client, sim: SimServer) -> None:
    """An extension the rules refuse is 400 'unsupported file type' while others still pass."""
    sim.media_rules = MediaRules(refused_extensions=frozenset({"mp4", "wav"}))
    refused = api.get("/api/upload-url", params={"ext": "mp4", "md5": "1" * 32})
    assert refused.status_code == 400
    assert refused.json() == {"success": False, "message": "unsupported file type: mp4"}
    assert upload_slot(api, unique_bytes(), "png")["content_type"] == "image/png"


def test_media_routes_want_the_api_key(plain: httpx.Client, sim: SimServer) -> None:
    """The media host's routes are authorised like /v1: no key is an OpenAI-style 401."""
    responses = [
        plain.get(f"{sim.base_url}/api/upload-url", params={"ext": "png", "md5": "0" * 32}),
        plain.post(f"{sim.base_url}/api/assets/virtual/create", json={"source_url": "x"}),
        plain.get(f"{sim.base_url}/api/assets/asset-1/status"),
    ]
    for response in responses:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"


def test_put_hosts_the_file_and_media_serves_it(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """A presigned PUT with the issued Content-Type hosts the bytes: exists turns true,
    and /media/ serves them whole, by range, and to HEAD with their length."""
    data = unique_png()
    slot = upload_slot(api, data, "png")
    put = plain.put(slot["upload_url"], content=data, headers={"Content-Type": "image/png"})
    assert (put.status_code, put.content) == (200, b"")
    assert put.headers["etag"] == f'"{md5_of(data)}"'
    name = f"{md5_of(data)}.png"
    assert sim.hosted_files()[name] == len(data)
    assert upload_slot(api, data, "png")["exists"] is True
    whole = plain.get(slot["source_url"])
    head = plain.head(slot["source_url"])
    part = plain.get(slot["source_url"], headers={"Range": "bytes=8-15"})
    assert (whole.status_code, whole.content) == (200, data)
    assert whole.headers["content-type"] == "image/png"
    assert (head.status_code, head.headers["content-length"]) == (200, str(len(data)))
    assert head.content == b""
    assert (part.status_code, part.content) == (206, data[8:16])
    assert part.headers["content-range"] == f"bytes 8-15/{len(data)}"
    assert sim.counters()["PUT storage"] == 1


def test_put_carrying_the_api_key_is_refused_and_counted(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """A PUT with an Authorization header is 403 AccessDenied, is logged with the header,
    and hosts nothing (its 2 MiB body is read, so the client gets the answer)."""
    data = unique_bytes(2 * 1024 * 1024)
    slot = upload_slot(api, data, "mp4")
    headers = {"Content-Type": "video/mp4", "Authorization": f"Bearer {sim.api_key}"}
    response = plain.put(slot["upload_url"], content=data, headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/xml"
    assert response.text == _xml(
        "AccessDenied",
        "Only one auth mechanism allowed: a presigned URL takes no Authorization header",
    )
    assert sim.counters()["PUT storage"] == 1
    keyed = [r for r in sim.requests() if r.origin == "storage" and "authorization" in r.headers]
    assert [(r.method, r.endpoint) for r in keyed] == [("PUT", "PUT storage")]
    assert f"{md5_of(data)}.mp4" not in sim.hosted_files()


def test_put_with_a_bad_or_expired_signature_is_refused(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """A tampered signature, a missing one, or an expired URL is 403 AccessDenied."""
    data = unique_png()
    slot = upload_slot(api, data, "png")
    headers = {"Content-Type": "image/png"}
    tampered = re.sub(r"signature=[0-9a-f]", "signature=g", slot["upload_url"])
    bare = slot["upload_url"].split("?", 1)[0]
    sim.faults = Faults(expired_urls=True)
    expired = upload_slot(api, data, "png")["upload_url"]
    mismatch = "The request signature we calculated does not match the signature you provided"
    for url, message in [
        (tampered, mismatch),
        (bare, "Request is missing a signature"),
        (expired, "Request has expired"),
    ]:
        response = plain.put(url, content=data, headers=headers)
        assert response.status_code == 403
        assert response.text == _xml("AccessDenied", message)
    assert f"{md5_of(data)}.png" not in sim.hosted_files()


@pytest.mark.parametrize("content_type", ["image/jpeg", "application/octet-stream", None])
def test_put_with_another_content_type_is_refused(
    api: httpx.Client, plain: httpx.Client, sim: SimServer, content_type: str | None
) -> None:
    """A PUT whose Content-Type is not the one issued is 400 InvalidContentType."""
    data = unique_png()
    slot = upload_slot(api, data, "png")
    headers = {"Content-Type": content_type} if content_type else {}
    response = plain.put(slot["upload_url"], content=data, headers=headers)
    shown = content_type or "none"
    assert response.status_code == 400
    assert response.text == _xml(
        "InvalidContentType", f"Content-Type must be image/png for .png (got {shown})"
    )
    assert f"{md5_of(data)}.png" not in sim.hosted_files()


def test_put_whose_body_has_another_md5_leaves_nothing(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """A body that is not the bytes named in the URL is 400 BadDigest and hosts nothing."""
    data = unique_png()
    slot = upload_slot(api, data, "png")
    other = unique_png()
    response = plain.put(slot["upload_url"], content=other, headers={"Content-Type": "image/png"})
    assert response.status_code == 400
    assert response.text == _xml(
        "BadDigest", "The MD5 of the body did not match the one in the object name."
    )
    hosted = sim.hosted_files()
    assert f"{md5_of(data)}.png" not in hosted and f"{md5_of(other)}.png" not in hosted
    assert plain.head(slot["source_url"]).status_code == 404
    assert upload_slot(api, data, "png")["exists"] is False


def test_unknown_media_is_404_no_such_key(plain: httpx.Client, sim: SimServer) -> None:
    """A /media/ name nothing was uploaded to is 404 NoSuchKey (GET), 404 (HEAD)."""
    url = f"{sim.storage_url}/media/{'0' * 32}.png"
    response = plain.get(url)
    assert response.status_code == 404
    assert response.text == _xml("NoSuchKey", "The specified key does not exist.")
    assert plain.head(url).status_code == 404
    assert plain.get(f"{sim.storage_url}/media/not-a-name.png").status_code == 404


def test_remove_hosted_makes_the_file_gone(
    api: httpx.Client, plain: httpx.Client, sim: SimServer
) -> None:
    """After remove_hosted the file is 404 and its slot reads exists=false again."""
    data = unique_bytes()
    source_url = host(api, plain, data, "wav")
    assert plain.head(source_url).status_code == 200
    sim.remove_hosted(f"{md5_of(data)}.wav")
    assert plain.head(source_url).status_code == 404
    assert upload_slot(api, data, "wav")["exists"] is False
    with pytest.raises(KeyError):
        sim.remove_hosted(f"{md5_of(data)}.wav")


def test_faults_can_target_the_media_host(api: httpx.Client, sim: SimServer) -> None:
    """Faults aimed at 'upload_url' and 'assets' hit those routes only."""
    sim.faults = Faults(rate_limit_burst=2, endpoints=frozenset({"upload_url", "assets"}))
    params = {"ext": "png", "md5": "2" * 32}
    assert api.get("/api/upload-url", params=params).status_code == 429
    assert api.get("/api/assets/asset-x/status").status_code == 429
    assert api.get("/api/upload-url", params=params).status_code == 200
    assert api.get("/v1/models").status_code == 200
    assert sim.counters() == {
        "GET /api/upload-url": 2,
        "GET /api/assets/{id}/status": 1,
        "GET /v1/models": 1,
    }


@pytest.fixture
def own_sim(tmp_path: Path) -> Iterator[SimServer]:
    """A simulator of its own, hosting files under ``tmp_path/media``."""
    with run_simulator(SimConfig(api_key="sk-own", work_dir=tmp_path)) as server:
        yield server


def test_uploads_stream_to_disk_and_failures_leave_no_temporary_file(
    own_sim: SimServer, tmp_path: Path
) -> None:
    """A 48 MiB upload is received in chunks (the process's traced peak stays far below the
    body) and lands under work_dir/media; a failed upload leaves the folder as it was."""
    chunk = unique_bytes(1024 * 1024)
    size = 48 * len(chunk)
    md5 = md5_of(chunk * 48)
    auth = {"Authorization": "Bearer sk-own"}
    with httpx.Client(base_url=own_sim.base_url, headers=auth, timeout=60) as api:
        slot = api.get("/api/upload-url", params={"ext": "mp4", "md5": md5}).json()
    headers = {"Content-Type": "video/mp4"}
    with httpx.Client(timeout=60) as plain:
        tracemalloc.start()
        try:
            response = plain.put(slot["upload_url"], content=iter([chunk] * 48),
                                 headers={**headers, "Content-Length": str(size)})  # fmt: skip
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert response.status_code == 200, response.text
        bad = plain.put(slot["upload_url"], content=b"not it", headers=headers)
    assert bad.status_code == 400
    assert peak < 16 * 1024 * 1024
    assert own_sim.hosted_files() == {f"{md5}.mp4": size}
    assert sorted(path.name for path in (tmp_path / "media").iterdir()) == [f"{md5}.mp4"]
