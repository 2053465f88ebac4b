"""Pure pieces of the media host: its rules, hosted names, counter keys, the preview's image."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rdpipe.sim import ENDPOINTS, Faults, MediaRules
from rdpipe.sim.assets import Asset
from rdpipe.sim.media import split_hosted_name
from rdpipe.sim.preview_clips import clip_spec_for
from rdpipe.sim.recorder import classify
from rdpipe.sim.responses import Rejection
from rdpipe.sim.validation import parse_submission
from tests.sim.media_client import unique_png
from tests.sim.simclient import SMALL_MODEL


class _Lookup:
    """A media host with one hosted image at ``http://sim/media/<name>``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def asset_status(self, asset_id: str) -> str | None:
        return None

    def is_hosted_url(self, url: str) -> bool:
        return url.startswith("http://sim/media/")

    def hosted_path(self, url: str) -> Path | None:
        return self.path if url == f"http://sim/media/{self.path.name}" else None


@pytest.mark.parametrize(
    "make",
    [
        lambda: MediaRules(refused_extensions=frozenset({".mp4"})),
        lambda: MediaRules(refused_extensions=frozenset({"MP4"})),
        lambda: MediaRules(failing_portraits=frozenset({"not-an-md5"})),
        lambda: MediaRules(asset_delay=-1.0),
    ],
)
def test_media_rules_refuse_bad_values(make: Callable[[], MediaRules]) -> None:
    """Extensions must be lower case without a dot, portraits md5s, the delay not negative."""
    with pytest.raises(ValueError):
        make()


def test_media_rules_refuse_listed_extensions_only() -> None:
    """A refused extension has no content type; the others keep theirs."""
    rules = MediaRules(refused_extensions=frozenset({"mov"}))
    assert rules.content_type("mov") is None
    assert rules.content_type("mp4") == "video/mp4"
    assert rules.content_type("exe") is None


def test_hosted_names_are_md5_dot_known_extension() -> None:
    """Only ``<32 lower-case hex>.<known ext>`` is a hosted name."""
    md5 = "0123456789abcdef" * 2
    assert split_hosted_name(f"{md5}.png") == (md5, "png")
    assert split_hosted_name(f"{md5}.exe") is None
    assert split_hosted_name(f"{md5.upper()}.png") is None
    assert split_hosted_name(f"../{md5}.png") is None


def test_media_routes_have_their_counter_keys_and_fault_names() -> None:
    """Each media-host route is counted under its own key and targeted by its short name."""
    assert classify("api", "GET", "/api/upload-url") == ("upload_url", "GET /api/upload-url")
    assert classify("api", "POST", "/api/assets/virtual/create") == (
        "assets",
        "POST /api/assets/virtual/create",
    )
    assert classify("api", "GET", "/api/assets/asset-1/status") == (
        "assets",
        "GET /api/assets/{id}/status",
    )
    assert classify("storage", "PUT", "/uploads/x.png") == ("storage", "PUT storage")
    assert {"upload_url", "assets"} <= ENDPOINTS
    assert Faults(endpoints=frozenset({"upload_url", "assets"})).targets("assets")


def test_asset_status_is_read_from_the_clock() -> None:
    """An asset is Processing before ready_at and Active or Failed (with reason) from then on."""
    active = Asset("asset-1", "u", "", created_at=10.0, ready_at=10.5, failure=None)
    failed = Asset("asset-2", "u", "", created_at=10.0, ready_at=10.5, failure="why")
    assert active.status(10.4) == "Processing"
    assert active.view(10.5) == {"id": "asset-1", "status": "Active", "uri": "asset://asset-1"}
    assert failed.view(10.4) == {"id": "asset-2", "status": "Processing", "uri": "asset://asset-2"}
    assert failed.view(11) == {"id": "asset-2", "status": "Failed", "uri": "asset://asset-2",
                               "reason": "why"}  # fmt: skip


def test_preview_shows_a_hosted_image(tmp_path: Path) -> None:
    """A hosted image is read for the preview, labelled by its path (not its host and port)."""
    data = unique_png(400, 300)
    path = tmp_path / ("ab" * 16 + ".png")
    path.write_bytes(data)
    url = f"http://sim/media/{path.name}"
    content = [{"type": "image_url", "image_url": {"url": url}, "role": "reference_image"}]
    body = {"model": SMALL_MODEL, "prompt": "p", "seconds": "4", "metadata": {"content": content}}
    picture = clip_spec_for(parse_submission(body, _Lookup(path))).picture
    assert picture.image_data == data
    assert picture.image_label == f"/media/{path.name}"


def test_a_submit_checked_alone_knows_no_asset() -> None:
    """Outside a running simulator (no media host), every asset:// URI is unknown."""
    content = [{"type": "image_url", "image_url": {"url": "asset://asset-1"}}]
    body = {"model": SMALL_MODEL, "prompt": "p", "seconds": "4", "metadata": {"content": content}}
    with pytest.raises(Rejection) as caught:
        parse_submission(body)
    assert caught.value.payload == {
        "code": "invalid_request",
        "message": "unknown asset asset-1",
        "data": None,
    }
