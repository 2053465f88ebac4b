"""The one redaction function: remembered keys in any spelling, credentials, sk- shapes."""

from __future__ import annotations

import json

import pytest

from rdpipe.errors import RdpipeError
from rdpipe.redaction import redact, remember_secret


def test_a_remembered_key_is_removed_in_every_spelling_a_message_can_quote() -> None:
    """As written, as repr() of text or bytes shows it, and as JSON escapes it."""
    key = "Zq-remembered\nkey\u00e9"
    remember_secret(key)
    quoted = [
        key,
        repr(key),
        repr(key.encode()),
        json.dumps(key),
        json.dumps(key, ensure_ascii=False),
    ]
    for text in quoted:
        assert redact(f"before {text} after") in {
            "before [API key] after",
            "before '[API key]' after",
            "before b'[API key]' after",
            'before "[API key]" after',
        }, text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Illegal header value b'Bearer abcdefgh\\nX'",
            "Illegal header value b'Bearer [redacted]'",
        ),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: [redacted]"),
        ("{'authorization': 'Bearer abcdefgh'}", "{'authorization': '[redacted]'}"),
        ("key sk-live-0123456789 refused", "key sk-[redacted] refused"),
        ("a desk-lamp and a task-1234 stay", "a desk-lamp and a task-1234 stay"),
        ("an invalid Bearer token", "an invalid Bearer token"),
        ("a basic composition, a token gesture", "a basic composition, a token gesture"),
        (
            "the bearer of evidence; authorization failed",
            "the bearer of evidence; authorization failed",
        ),
    ],
)
def test_credentials_and_key_shapes_are_removed_and_ordinary_words_kept(
    text: str, expected: str
) -> None:
    """A header's credential and sk- keys go; words that merely look alike stay."""
    assert redact(text) == expected


def test_every_rdpipe_error_message_is_redacted_where_it_is_made() -> None:
    """Whatever a cause quoted, an RdpipeError's message and hint carry no secret."""
    remember_secret("sk-made-in-an-error")
    error = RdpipeError("refused sk-made-in-an-error", hint="Bearer sk-made-in-an-error")
    assert (error.message, error.hint) == ("refused [API key]", "Bearer [API key]")
