"""Requests are journaled as sent, minus URL tokens and inline data."""

from __future__ import annotations

import json

import pytest

from rdpipe.request import ContinuityFrame, GenerationRequest, Media
from rdpipe.state import redact_request, redact_url


def test_request_without_urls_is_kept_as_it_is() -> None:
    """A request with nothing to redact comes back itself, so its body is not serialised again."""
    request = GenerationRequest("m", "a ship", "5").with_extra({"camera_fixed": True})
    assert redact_request(request) is request


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://cdn.example.com/a.png", "https://cdn.example.com/a.png"),
        (
            "https://s3.example.com/a.png?X-Amz-Signature=abc",
            "https://s3.example.com/a.png?<redacted>",
        ),
        (
            "https://user:pw@hooks.example.com:8443/cb#tok",
            "https://hooks.example.com:8443/cb#<redacted>",
        ),
        ("not a url?x=1", "not a url?x=1"),
    ],
)
def test_url_tokens_are_removed(url: str, kept: str) -> None:
    """Query strings, fragments and user info are dropped from http(s) URLs; other text is kept."""
    assert redact_url(url) == kept


def test_inline_images_are_summarised() -> None:
    """A base64 data URL is replaced by its media type, length and a digest prefix."""
    data_url = "data:image/png;base64," + "A" * 1000
    frame = Media("image", data_url, "last_frame")
    request = GenerationRequest("m", "p", "5").with_content([frame])
    stored = redact_request(request).metadata.content[0].url
    assert stored.startswith("data:image/png;base64,<1000 characters omitted, sha256 ")
    assert len(stored) < 100


def test_every_text_value_is_redacted_and_field_names_are_kept() -> None:
    """URLs in the callback and in written metadata, however deep, lose their tokens."""
    signed = "https://hooks.example.com/cb?token=SECRET"
    request = (
        GenerationRequest("m", "p", "5")
        .with_callback(signed)
        .with_extra({"https://x.test/?k=v": [{"logo": signed}], "seed": 4})
        .with_content([ContinuityFrame("coast")])
    )
    stored = json.loads(redact_request(request).body)
    assert stored == {
        "model": "m",
        "prompt": "p",
        "seconds": "5",
        "metadata": {
            "callback_url": "https://hooks.example.com/cb?<redacted>",
            "https://x.test/?k=v": [{"logo": "https://hooks.example.com/cb?<redacted>"}],
            "seed": 4,
            "content": [
                {
                    "type": "image_url",
                    "image_url": {"url": "<last frame of shot coast>"},
                    "role": "first_frame",
                }
            ],
        },
    }
