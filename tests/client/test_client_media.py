"""Upload URLs, uploads, hosted-file checks and the asset library over a mock transport."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import httpx
import pytest

from rdpipe.client import (
    ApiKey,
    AssetNotFound,
    AssetState,
    AuthenticationFailed,
    ClientConfig,
    InvalidRequest,
    MediaHostUnreachable,
    NotSent,
    QuotaExceeded,
    RateLimited,
    RecordingClock,
    RelayDanceClient,
    ServerError,
    UploadFailed,
    UploadRefused,
    UploadSlot,
    UploadSource,
    UploadSourceChanged,
)
from tests.client.mock_server import API_KEY, BASE_URL, STORAGE, Script

pytestmark = pytest.mark.anyio

MD5 = "9e107d9d372bb6826bd81d3542a419d6"
MiB = 1024 * 1024
DATA = bytes(range(256)) * 10 + b"end"
SIGNED = "expires=1780000600&signature=5ec2e7"
ON_API = f"{BASE_URL}/uploads/{MD5}.png?{SIGNED}"
ON_STORAGE = f"{STORAGE}/uploads/{MD5}.png?{SIGNED}"
SLOT_BODY = {
    "exists": False,
    "upload_url": ON_STORAGE,
    "source_url": f"{STORAGE}/media/{MD5}.png",
    "content_type": "image/png",
}
BAD_DIGEST = (
    "<Error><Code>BadDigest</Code><Message>The Content-MD5 you specified did not match what "
    "we received.</Message></Error>"
)


UNSUPPORTED = "unsupported file type: mp4"
NO_ROUTE = "api.relay.test has no upload route (GET /api/upload-url answered 404)"
NOT_LOGGED_IN = {"error": {"message": "invalid token", "type": "new_api_error"}}


def _slot(url: str = ON_STORAGE, content_type: str = "image/png") -> UploadSlot:
    return UploadSlot(False, url, f"{STORAGE}/media/{MD5}.png", content_type)


def _puts(script: Script) -> list[httpx.Request]:
    return [r for r in script.requests if r.method == "PUT"]


# Upload URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [SLOT_BODY, {"success": True, "data": SLOT_BODY}], ids=["flat", "wrapped"]
)
async def test_upload_slot(client: RelayDanceClient, script: Script, body: object) -> None:
    """The slot is asked for by md5 and extension, with the key, and read in either form."""
    script.json("GET", "/api/upload-url", 200, body)
    slot = await client.upload_slot(MD5, ".PNG")
    assert slot == UploadSlot(False, ON_STORAGE, f"{STORAGE}/media/{MD5}.png", "image/png")
    (request,) = script.requests
    assert request.url == f"{BASE_URL}/api/upload-url?ext=png&md5={MD5}"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (400, {"success": False, "message": "unsupported file type: mp4"}, UNSUPPORTED),
        (415, {"error": {"message": "video uploads are off"}}, "video uploads are off"),
        (422, "", "GET /api/upload-url answered 422"),
        (200, {"success": False, "message": "不支持的文件类型"}, "不支持的文件类型"),
        (404, "404 page not found", NO_ROUTE),
    ],
)
async def test_upload_refused(
    client: RelayDanceClient, script: Script, status: int, body: object, reason: str
) -> None:
    """A refused extension (or no upload route at all) is an UploadRefused, tried once."""
    text = body if isinstance(body, str) else json.dumps(body)
    script.add("GET", "/api/upload-url", httpx.Response(status, text=text))
    with pytest.raises(UploadRefused) as caught:
        await client.upload_slot(MD5, "mp4")
    error = caught.value
    assert (error.extension, error.message, error.status) == ("mp4", reason, status)
    assert str(error) == (
        f"RelayDance (api.relay.test) does not take .mp4 uploads: {reason}.\n"
        "Give the reference as an https URL, set up a shared clip store that can publish it, "
        "or (for an image) send it inline."
    )
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, NOT_LOGGED_IN, AuthenticationFailed),
        (403, {"success": False, "message": "no access token"}, AuthenticationFailed),
        (403, {"code": "insufficient_user_quota", "message": "low balance"}, QuotaExceeded),
    ],
)
async def test_upload_slot_key_refused(
    client: RelayDanceClient, script: Script, status: int, body: object, kind: type[Exception]
) -> None:
    """A refused key is the usual AuthenticationFailed (a low balance, QuotaExceeded)."""
    script.json("GET", "/api/upload-url", status, body)
    with pytest.raises(kind):
        await client.upload_slot(MD5, "png")
    assert len(script.requests) == 1


async def test_upload_slot_retried_like_a_read(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock
) -> None:
    """A 502 or a dropped connection on the upload URL is retried."""
    script.add(
        "GET",
        "/api/upload-url",
        httpx.Response(502, text="bad gateway"),
        httpx.ConnectError("refused"),
        httpx.Response(200, json=SLOT_BODY),
    )
    assert (await client.upload_slot(MD5, "png")).upload_url == ON_STORAGE
    assert len(script.requests) == 3 and len(fake_time.waits) == 2


async def test_upload_slot_checks_its_arguments(client: RelayDanceClient, script: Script) -> None:
    """A malformed md5 is a caller's bug: ValueError, nothing sent."""
    with pytest.raises(ValueError, match="md5"):
        await client.upload_slot(MD5.upper(), "png")
    assert script.requests == []


# Uploads -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [ON_STORAGE, ON_API], ids=["storage", "api-origin"])
async def test_upload_sends_bytes_without_the_key(
    client: RelayDanceClient, script: Script, url: str
) -> None:
    """The PUT carries the bytes, the issued Content-Type and the length, never the key,
    even when the presigned URL is on the API's own origin."""
    script.add("PUT", f"/uploads/{MD5}.png", httpx.Response(200))
    seen: list[int] = []
    await client.upload(
        _slot(url, "image/png"), UploadSource(data=DATA, size=len(DATA)), on_progress=seen.append
    )
    (request,) = script.requests
    assert str(request.url) == url
    assert "authorization" not in request.headers
    assert request.headers["content-type"] == "image/png"
    assert request.headers["content-length"] == str(len(DATA))
    assert "transfer-encoding" not in request.headers
    assert hashlib.md5(request.content).hexdigest() == hashlib.md5(DATA).hexdigest()
    assert API_KEY not in str(request.headers)
    assert seen == [len(DATA)]


async def test_upload_streams_a_file_in_chunks(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """A file goes out in 1 MiB chunks, progress reported after each one."""
    data = bytes(range(256)) * (10 * MiB // 256 // 4)  # 2.5 MiB
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    script.add("PUT", f"/uploads/{MD5}.png", httpx.Response(200))
    seen: list[int] = []
    await client.upload(
        _slot(content_type="video/mp4"),
        UploadSource(path=path, size=len(data)),
        on_progress=seen.append,
    )
    (request,) = script.requests
    assert request.content == data
    assert request.headers["content-type"] == "video/mp4"
    assert seen == [MiB, 2 * MiB, len(data)]


async def test_upload_retried_from_the_start_on_5xx_and_dropped_connections(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock, tmp_path: Path
) -> None:
    """A 503 and a refused connection are retried; each attempt sends the whole file."""
    path = tmp_path / "a.png"
    path.write_bytes(DATA)
    script.add(
        "PUT",
        f"/uploads/{MD5}.png",
        httpx.Response(503, text="<Error><Code>SlowDown</Code><Message>x</Message></Error>"),
        httpx.ConnectError("connection refused"),
        httpx.Response(200),
    )
    await client.upload(_slot(), UploadSource(path=path, size=len(DATA)))
    assert len(fake_time.waits) == 2
    assert len(script.requests) == 3
    assert _puts(script)[0].content == DATA and _puts(script)[2].content == DATA


async def test_upload_gives_up_after_the_attempts(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock
) -> None:
    """A storage that keeps failing is a ServerError after every attempt, its query unshown."""
    xml = f"<Error><Code>InternalError</Code><Message>at {ON_STORAGE}</Message></Error>"
    script.add("PUT", f"/uploads/{MD5}.png", httpx.Response(500, text=xml))
    with pytest.raises(ServerError) as caught:
        await client.upload(_slot(), UploadSource(data=DATA, size=len(DATA)))
    assert len(script.requests) == 4
    assert SIGNED not in str(caught.value) and "signature" not in str(caught.value)
    assert caught.value.code == "InternalError"


async def test_bad_digest_is_an_upload_failed_not_retried(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock
) -> None:
    """A 400 BadDigest is final: one PUT, the storage's code and message, the URL's path only."""
    script.add("PUT", f"/uploads/{MD5}.png", httpx.Response(400, text=BAD_DIGEST))
    with pytest.raises(UploadFailed) as caught:
        await client.upload(_slot(), UploadSource(data=DATA, size=len(DATA)))
    assert str(caught.value) == (
        f"the storage refused the upload to storage.cdn.test/uploads/{MD5}.png (400 BadDigest): "
        "The Content-MD5 you specified did not match what we received.\n"
        "The bytes that arrived are not the ones rdpipe read: the file may have changed while "
        "it was sent. Run again."
    )
    assert (caught.value.status, caught.value.code) == (400, "BadDigest")
    assert len(script.requests) == 1 and fake_time.waits == []


@pytest.mark.parametrize("status", [403, 404, 409])
async def test_other_4xx_are_not_retried(
    client: RelayDanceClient, script: Script, status: int
) -> None:
    """A 4xx other than 408 and 429 on the PUT is final; a 403 says the link was refused."""
    xml = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    script.add("PUT", f"/uploads/{MD5}.png", httpx.Response(status, text=xml))
    with pytest.raises(UploadFailed) as caught:
        await client.upload(_slot(), UploadSource(data=DATA, size=len(DATA)))
    assert len(script.requests) == 1
    assert f"({status} AccessDenied): Request has expired." in str(caught.value)
    if status == 403:
        assert caught.value.hint == (
            "The upload link was refused, most likely expired; run again for a fresh one."
        )


def _xml(code: str) -> str:
    return f"<Error><Code>{code}</Code><Message>Please reduce your request rate.</Message></Error>"


async def test_busy_storage_is_retried_after_its_retry_after(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock, tmp_path: Path
) -> None:
    """A 429 SlowDown, a 408 and a 503 on the PUT are retried, each time with the whole
    file; the storage's Retry-After sets the wait (a 429's holds back its whole host)."""
    path = tmp_path / "a.png"
    path.write_bytes(DATA)
    script.add(
        "PUT",
        f"/uploads/{MD5}.png",
        httpx.Response(429, text=_xml("SlowDown"), headers={"Retry-After": "7"}),
        httpx.Response(408, text=_xml("RequestTimeout")),
        httpx.Response(503, text=_xml("SlowDown"), headers={"Retry-After": "3"}),
        httpx.Response(200),
    )
    await client.upload(_slot(), UploadSource(path=path, size=len(DATA)))
    assert len(_puts(script)) == 4
    assert all(put.content == DATA for put in _puts(script))
    assert fake_time.waits[0] == 7.0 and fake_time.waits[2] == 3.0
    assert len(fake_time.waits) == 3


@pytest.mark.parametrize(("status", "code"), [(429, "SlowDown"), (408, "RequestTimeout")])
async def test_storage_busy_through_every_attempt_is_an_upload_failed(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock, status: int, code: str
) -> None:
    """A storage still busy after the last attempt is UploadFailed with its code and a hint
    to wait (a failure of this file's shots, not of the run)."""
    script.add("PUT", f"/uploads/{MD5}.png", httpx.Response(status, text=_xml(code)))
    with pytest.raises(UploadFailed) as caught:
        await client.upload(_slot(), UploadSource(data=DATA, size=len(DATA)))
    assert len(_puts(script)) == 4
    assert (caught.value.status, caught.value.code) == (status, code)
    assert str(caught.value) == (
        f"the storage refused the upload to storage.cdn.test/uploads/{MD5}.png "
        f"({status} {code}): Please reduce your request rate.\n"
        "The storage was still busy after every retry; run again in a few minutes."
    )


async def test_storage_that_cannot_be_reached_is_an_upload_failed(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock
) -> None:
    """A storage host refusing every connection is tried each attempt, then UploadFailed
    naming that host: not NotSent (RelayDance's, which stops a whole run) and no
    RELAYDANCE_BASE_URL to check."""
    script.add("PUT", f"/uploads/{MD5}.png", httpx.ConnectError("connection refused"))
    with pytest.raises(UploadFailed) as caught:
        await client.upload(_slot(), UploadSource(data=DATA, size=len(DATA)))
    assert not isinstance(caught.value, NotSent)
    assert len(script.requests) == 4
    assert str(caught.value) == (
        f"the upload to storage.cdn.test/uploads/{MD5}.png failed: rdpipe could not connect "
        "to storage.cdn.test (connection refused).\n"
        "Check your network connection, then run again."
    )


async def test_a_put_that_cannot_be_built_is_an_upload_failed(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock
) -> None:
    """A PUT the HTTP library cannot put together is tried once, then UploadFailed (not the
    run-stopping NotSent, whose hint is about the key)."""
    script.add("PUT", f"/uploads/{MD5}.png", httpx.LocalProtocolError("Illegal header value"))
    with pytest.raises(UploadFailed) as caught:
        await client.upload(_slot(), UploadSource(data=DATA, size=len(DATA)))
    assert len(script.requests) == 1 and fake_time.waits == []
    assert str(caught.value) == (
        f"the upload to storage.cdn.test/uploads/{MD5}.png failed: rdpipe could not build the "
        "request (Illegal header value).\n"
        "The upload URL the media host gave cannot be sent; run again."
    )


async def test_a_file_that_shrank_is_not_sent_short(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """A file shorter than its measured size fails the upload, named as the user wrote it."""
    path = tmp_path / "a.png"
    path.write_bytes(DATA)
    script.add("PUT", f"/uploads/{MD5}.png", httpx.Response(200))
    source = UploadSource(path=path, size=len(DATA) + 10, shown="refs/a.png")
    with pytest.raises(UploadSourceChanged) as caught:
        await client.upload(_slot(), source)
    assert str(caught.value) == (
        "refs/a.png changed while rdpipe was sending it (it ended after "
        f"{len(DATA)} of the {len(DATA) + 10} bytes checked); rerun to check it again.\n"
        "The upload was broken off before its end, so nothing was stored."
    )
    assert _puts(script) == []  # the body never completed: the mock server got no request


async def test_a_missing_file_is_said(
    client: RelayDanceClient, script: Script, tmp_path: Path
) -> None:
    """A file that cannot be read fails the upload with the system's reason, not retried."""
    path = tmp_path / "gone.png"
    with pytest.raises(UploadFailed, match=r"rdpipe could not read .*gone\.png \(No such file"):
        await client.upload(_slot(), UploadSource(path=path, size=10))
    assert len(script.requests) <= 1


# Hosted files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        ([httpx.Response(200)], True),
        ([httpx.Response(404)], False),
        ([httpx.Response(410)], False),
        ([httpx.Response(405)], None),
        ([httpx.Response(503)], None),
        ([httpx.ConnectError("refused")], None),
    ],
)
async def test_hosted_file_exists(
    client: RelayDanceClient, script: Script, replies: list[httpx.Response], expected: bool | None
) -> None:
    """A HEAD without the key says whether a hosted file is there, or None when it cannot."""
    url = f"{BASE_URL}/media/{MD5}.png"
    script.add("HEAD", f"/media/{MD5}.png", *replies)
    assert await client.hosted_file_exists(url) is expected
    assert all("authorization" not in r.headers for r in script.requests)
    assert {r.method for r in script.requests} == {"HEAD"}


@pytest.mark.parametrize(("status", "expected"), [(206, True), (403, False), (404, False)])
async def test_head_refused_is_asked_again_with_a_get(
    client: RelayDanceClient, script: Script, status: int, expected: bool
) -> None:
    """A 403 on HEAD (a URL presigned for GET) is asked again with a one-byte GET."""
    url = f"{STORAGE}/media/{MD5}.png?X-Amz-Signature=abc"
    script.add("HEAD", f"/media/{MD5}.png", httpx.Response(403))
    script.add("GET", f"/media/{MD5}.png", httpx.Response(status, content=b"x"))
    assert await client.hosted_file_exists(url) is expected
    head, get = script.requests
    assert get.headers["range"] == "bytes=0-0" and str(get.url) == url
    assert "authorization" not in head.headers and "authorization" not in get.headers


# The asset library ---------------------------------------------------------------------


async def test_create_asset(client: RelayDanceClient, script: Script) -> None:
    """A portrait is registered with its source URL, with the key; the state is read back."""
    answer = {"id": "asset-" + "a" * 24, "status": "Processing", "uri": "asset://asset-" + "a" * 24}
    script.json("POST", "/api/assets/virtual/create", 200, {"success": True, "data": answer})
    state = await client.create_asset(f"{STORAGE}/media/{MD5}.png", name="mara")
    assert state == AssetState(answer["id"], "Processing", answer["uri"], None)
    (request,) = script.requests
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert json.loads(request.content) == {
        "source_url": f"{STORAGE}/media/{MD5}.png",
        "asset_type": "Image",
        "name": "mara",
    }


async def test_create_asset_refused_without_the_signature(
    client: RelayDanceClient, script: Script
) -> None:
    """A refused registration is InvalidRequest; a URL it quotes loses its signature."""
    url = f"{STORAGE}/media/{MD5}.png?X-Amz-Signature=deadbeef"
    body = {"success": False, "message": f"source_url is not a hosted file: {url}"}
    script.json("POST", "/api/assets/virtual/create", 400, body)
    with pytest.raises(InvalidRequest) as caught:
        await client.create_asset(url)
    assert "deadbeef" not in str(caught.value)
    assert f"source_url is not a hosted file: {STORAGE}/media/{MD5}.png" in str(caught.value)


async def test_create_asset_not_retried_after_it_may_have_created_one(
    client: RelayDanceClient, script: Script
) -> None:
    """A 502 on registration is not retried (an asset may exist); a refused connection is."""
    script.add(
        "POST",
        "/api/assets/virtual/create",
        httpx.ConnectError("refused"),
        httpx.Response(502, text="bad gateway"),
    )
    with pytest.raises(ServerError):
        await client.create_asset(f"{STORAGE}/media/{MD5}.png")
    assert len(script.requests) == 2


async def test_asset_state(client: RelayDanceClient, script: Script) -> None:
    """An asset's state is read from its status route (flat form), with its reason."""
    body = {"id": "asset-1", "status": "Failed", "uri": "asset://asset-1", "reason": "a face"}
    script.json("GET", "/api/assets/asset-1/status", 200, body)
    state = await client.asset_state("asset-1")
    assert state.failed and state.reason == "a face"
    assert script.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, {"success": False, "message": "asset not found"}),
        (200, {"success": False, "message": "asset not found"}),
    ],
)
async def test_unknown_asset(
    client: RelayDanceClient, script: Script, status: int, body: object
) -> None:
    """An asset the library does not know is AssetNotFound, not retried."""
    script.json("GET", "/api/assets/asset-x/status", status, body)
    with pytest.raises(AssetNotFound) as caught:
        await client.asset_state("asset-x")
    assert str(caught.value) == (
        "the RelayDance asset library has no portrait asset-x.\n"
        "It may have been removed, or registered with another API key."
    )
    assert len(script.requests) == 1


async def test_media_host_reads_are_retried_after_a_429(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock
) -> None:
    """A 429 on the upload URL or an asset's status is retried after its Retry-After (the
    media host held back meanwhile); a 429 through every attempt is RateLimited."""
    busy = {"success": False, "message": "too many requests"}
    script.json("GET", "/api/upload-url", 429, busy, **{"Retry-After": "5"})
    script.json("GET", "/api/upload-url", 200, SLOT_BODY)
    assert (await client.upload_slot(MD5, "png")).source_url == SLOT_BODY["source_url"]
    assert fake_time.waits == [5.0]
    state = {"id": "asset-1", "status": "Active", "uri": "asset://asset-1"}
    script.json("GET", "/api/assets/asset-1/status", 429, busy, **{"Retry-After": "2"})
    script.json("GET", "/api/assets/asset-1/status", 200, state)
    assert (await client.asset_state("asset-1")).active
    assert fake_time.waits == [5.0, 2.0]
    script.json("GET", "/api/assets/asset-2/status", 429, busy)
    with pytest.raises(RateLimited):
        await client.asset_state("asset-2")
    assert script.count("GET", "/api/assets/asset-2/status") == 4


MEDIA_HINT = (
    "Check your network connection and RELAYDANCE_MEDIA_URL, the media host for uploads and "
    "portraits (unset, it goes with RELAYDANCE_BASE_URL). Only shots that send local files "
    "need it."
)


@pytest.mark.parametrize("route", ["slot", "create", "status"])
async def test_a_media_host_that_cannot_be_reached(
    client: RelayDanceClient, script: Script, fake_time: RecordingClock, route: str
) -> None:
    """A media host refusing every connection is tried each attempt (a registration too: it
    provably created nothing), then MediaHostUnreachable naming it and RELAYDANCE_MEDIA_URL,
    never NotSent (which stops every shot of a run)."""
    refused = httpx.ConnectError("connection refused")
    script.add("GET", "/api/upload-url", refused)
    script.add("POST", "/api/assets/virtual/create", refused)
    script.add("GET", "/api/assets/asset-1/status", refused)
    with pytest.raises(MediaHostUnreachable) as caught:
        if route == "slot":
            await client.upload_slot(MD5, "png")
        elif route == "create":
            await client.create_asset(f"{STORAGE}/media/{MD5}.png")
        else:
            await client.asset_state("asset-1")
    error = caught.value
    assert not isinstance(error, NotSent)
    assert len(script.requests) == 4 and len(fake_time.waits) == 3
    operation = {
        "slot": "GET /api/upload-url",
        "create": "POST /api/assets/virtual/create",
        "status": "GET /api/assets/asset-1/status",
    }[route]
    assert str(error) == (
        f"could not reach the media host api.relay.test (RELAYDANCE_MEDIA_URL) for {operation}: "
        f"connection refused; the request never left.\n{MEDIA_HINT}"
    )
    assert (error.host, error.operation) == ("api.relay.test", operation)


async def test_nothing_listening_at_relaydance_media_url(fake_time: RecordingClock) -> None:
    """RELAYDANCE_MEDIA_URL=http://127.0.0.1:1 over the real network: the error names that
    host and variable, and does not ask to check RELAYDANCE_BASE_URL alone."""
    config = ClientConfig.from_environ(
        {
            "RELAYDANCE_API_KEY": API_KEY,
            "RELAYDANCE_BASE_URL": BASE_URL,
            "RELAYDANCE_MEDIA_URL": "http://127.0.0.1:1",
        }
    )
    async with RelayDanceClient(
        config, sleep=fake_time.sleep, clock=fake_time.clock, random=random.Random(3)
    ) as client:
        with pytest.raises(MediaHostUnreachable) as caught:
            await client.upload_slot(MD5, "png")
    assert str(caught.value).startswith(
        "could not reach the media host 127.0.0.1:1 (RELAYDANCE_MEDIA_URL) for "
        "GET /api/upload-url: connection refused"
    )  # the message alone names the variable: a shot's failure line shows no hint
    assert caught.value.hint == MEDIA_HINT
    assert API_KEY not in str(caught.value)


# Another media host ----------------------------------------------------------------------


async def test_media_host_of_its_own_gets_the_key_and_counts_sends(
    script: Script, fake_time: RecordingClock
) -> None:
    """A media host on another origin gets the key on its routes; every request is counted,
    the PUT too, and the PUT still carries no key."""
    config = ClientConfig(ApiKey(API_KEY), BASE_URL, media_url="https://media.relay.test/")
    sends: list[None] = []
    async with RelayDanceClient(
        config,
        transport=httpx.MockTransport(script),
        storage_transport=httpx.MockTransport(script),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        random=random.Random(1),
        on_send=lambda: sends.append(None),
    ) as client:
        script.json("GET", "/api/upload-url", 200, SLOT_BODY)
        script.add("PUT", f"/uploads/{MD5}.png", httpx.Response(200))
        slot = await client.upload_slot(MD5, "png")
        await client.upload(slot, UploadSource(data=DATA, size=len(DATA)))
        assert client.media_host == "media.relay.test"
    ask, put = script.requests
    assert str(ask.url).startswith("https://media.relay.test/api/upload-url?")
    assert ask.headers["authorization"] == f"Bearer {API_KEY}"
    assert "authorization" not in put.headers
    assert len(sends) == 2
