"""Request bodies are journaled as sent, minus URL tokens and inline data."""

from __future__ import annotations

import json

import pytest

from rdpipe.state import redact_request, redact_url


def test_body_without_urls_is_kept_byte_for_byte() -> None:
    """A body with nothing to redact is stored exactly as sent, whitespace included."""
    body = '{"model": "m",  "prompt": "a ship", "seconds": "5"}'
    assert redact_request(body) is body


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
    body = json.dumps({"metadata": {"content": [{"image_url": {"url": data_url}}]}})
    stored = json.loads(redact_request(body))["metadata"]["content"][0]["image_url"]["url"]
    assert stored.startswith("data:image/png;base64,<1000 characters omitted, sha256 ")
    assert len(stored) < 100


def test_non_object_body_is_refused() -> None:
    """A request body that is not a JSON object is refused before anything is recorded."""
    with pytest.raises(ValueError, match="JSON object"):
        redact_request("[1, 2]")
