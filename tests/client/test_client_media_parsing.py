"""Reading the media host's answers and the storage's refusals; the upload values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rdpipe.client import AssetState, MalformedResponse, UploadSlot, UploadSource
from rdpipe.client.http import without_queries
from rdpipe.client.media import (
    Refusal,
    check_md5,
    normalise_extension,
    parse_asset_state,
    parse_upload_slot,
    storage_error,
    unwrap,
)

OP = "GET /api/upload-url"
MD5 = "0123456789abcdef0123456789abcdef"
SLOT = {
    "exists": False,
    "upload_url": f"http://127.0.0.1:9/uploads/{MD5}.png?expires=99&signature=beef",
    "source_url": f"http://127.0.0.1:9/media/{MD5}.png",
    "content_type": "image/png",
}


@pytest.mark.parametrize(
    "payload", [SLOT, {"success": True, "data": SLOT}], ids=["flat", "wrapped"]
)
def test_upload_slot_flat_or_wrapped(payload: dict[str, Any]) -> None:
    """The same slot is read from the flat object and from the {success, data} wrapping."""
    data = unwrap(payload, OP)
    assert not isinstance(data, Refusal)
    assert parse_upload_slot(data, OP) == UploadSlot(
        False, SLOT["upload_url"], SLOT["source_url"], "image/png"
    )


def test_upload_slot_in_camel_case() -> None:
    """uploadUrl, sourceUrl and contentType are read like their snake-case spellings."""
    payload = {
        "exists": "true",
        "uploadUrl": "https://s/u?sig=1",
        "sourceUrl": "https://s/m.png",
        "contentType": "image/png",
    }
    assert parse_upload_slot(payload, OP) == UploadSlot(
        True, "https://s/u?sig=1", "https://s/m.png", "image/png"
    )


def test_existing_file_needs_no_upload_url() -> None:
    """A slot whose bytes exist already needs only its source_url."""
    slot = parse_upload_slot({"exists": True, "source_url": "https://s/m.png"}, OP)
    assert (slot.exists, slot.upload_url, slot.source_url) == (True, "", "https://s/m.png")


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"exists": False, "upload_url": "https://s/u", "content_type": "image/png"}, "source_url"),
        ({"exists": False, "source_url": "https://s/m", "content_type": "image/png"}, "upload_url"),
        (
            {"exists": False, "source_url": "https://s/m", "upload_url": "https://s/u"},
            "content_type",
        ),
    ],
)
def test_slot_without_a_needed_field_is_malformed(payload: dict[str, Any], problem: str) -> None:
    """A slot to upload to without its source_url, upload_url or content_type is unreadable."""
    with pytest.raises(MalformedResponse, match=problem):
        parse_upload_slot(payload, OP)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"success": False, "message": "unsupported file type: mp4"}, "unsupported file type: mp4"),
        ({"error": {"message": "no", "type": "new_api_error"}}, "no"),
        ({"error": "blocked"}, "blocked"),
        ({"success": False}, ""),
    ],
)
def test_refusals(payload: dict[str, Any], message: str) -> None:
    """success: false and error bodies are refusals carrying their reason."""
    assert unwrap(payload, OP) == Refusal(message)


def test_not_an_object_is_malformed() -> None:
    """An answer that is not a JSON object is unreadable."""
    with pytest.raises(MalformedResponse, match="not a JSON object"):
        unwrap([SLOT], OP)


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "asset-1", "status": "Failed", "uri": "asset://asset-1", "reason": "a real face"},
        {
            "success": True,
            "data": {
                "id": "asset-1",
                "status": "Failed",
                "uri": "asset://asset-1",
                "reason": "a real face",
            },
        },
    ],
    ids=["flat", "wrapped"],
)
def test_asset_state_flat_or_wrapped(payload: dict[str, Any]) -> None:
    """An asset's state is read from either form, its reason with it."""
    data = unwrap(payload, OP)
    assert not isinstance(data, Refusal)
    state = parse_asset_state(data, OP)
    assert state == AssetState("asset-1", "Failed", "asset://asset-1", "a real face")
    assert (state.failed, state.active) == (True, False)


def test_asset_state_fills_the_id_and_compares_status_in_any_case() -> None:
    """A state without an id takes the one asked for; "ACTIVE" is active."""
    state = parse_asset_state({"status": "ACTIVE"}, OP, "asset-9")
    assert (state.id, state.active, state.failed, state.uri, state.reason) == (
        "asset-9",
        True,
        False,
        None,
        None,
    )


def test_asset_state_without_status_is_malformed() -> None:
    """A state without a status is unreadable."""
    with pytest.raises(MalformedResponse, match="no status"):
        parse_asset_state({"id": "asset-1"}, OP)


def test_storage_error_reads_s3_xml() -> None:
    """Code and Message come out of an S3-style XML error, entities decoded."""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>BadDigest</Code>'
        "<Message>The Content-MD5 you specified did not match what we received &amp; "
        "stored.</Message></Error>"
    )
    assert storage_error(xml) == (
        "BadDigest",
        "The Content-MD5 you specified did not match what we received & stored.",
    )
    assert storage_error("  plain\n text ") == (None, "plain text")


def test_queries_are_removed_from_text() -> None:
    """Every http(s) URL in a text loses its query string, also JSON-escaped."""
    text = 'not hosted: https://h/x.mp4?X-Amz-Signature=abc&b=1 and "http:\\/\\/h\\/y?sig=2"'
    assert without_queries(text) == 'not hosted: https://h/x.mp4 and "http:\\/\\/h\\/y"'


def test_slot_repr_hides_the_presigned_url() -> None:
    """An upload slot's repr shows no part of the presigned query string."""
    slot = UploadSlot(False, SLOT["upload_url"], SLOT["source_url"], "image/png")
    assert "signature" not in repr(slot)


def test_md5_and_extension_checks() -> None:
    """An md5 is 32 lower-case hex digits; an extension loses its dot and capitals."""
    assert check_md5(MD5) == MD5
    for bad in (MD5.upper(), MD5[:-1], MD5 + "0", "g" * 32):
        with pytest.raises(ValueError, match="md5"):
            check_md5(bad)
    assert normalise_extension(".PNG") == "png"
    for bad in ("", ".", "mp4/../x", "a b"):
        with pytest.raises(ValueError, match="extension"):
            normalise_extension(bad)


def test_upload_source_has_exactly_one_of_path_and_data(tmp_path: Path) -> None:
    """A source is a path or bytes, never both or neither; the size of bytes is their length."""
    assert UploadSource(data=b"abc", size=3).size == 3
    assert UploadSource(path=tmp_path / "a.png", size=10).path == tmp_path / "a.png"
    with pytest.raises(ValueError, match="exactly one"):
        UploadSource(path=tmp_path / "a.png", data=b"abc", size=3)
    with pytest.raises(ValueError, match="exactly one"):
        UploadSource(size=0)
    with pytest.raises(ValueError, match="length"):
        UploadSource(data=b"abc", size=4)
    with pytest.raises(ValueError, match="negative"):
        UploadSource(path=tmp_path / "a.png", size=-1)
