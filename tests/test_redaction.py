"""Redaction: a command's key in any spelling (Redactor), credentials and sk- shapes (redact)."""

from __future__ import annotations

import json

import pytest

from rdpipe.errors import RdpipeError
from rdpipe.redaction import NO_SECRETS, Redactor, redact


def test_a_commands_key_is_removed_in_every_spelling_a_message_can_quote() -> None:
    """As written, as repr() of text or bytes shows it, and as JSON escapes it."""
    key = "Zq-remembered\nkey\u00e9"
    redactor = Redactor((key,))
    quoted = [
        key,
        repr(key),
        repr(key.encode()),
        json.dumps(key),
        json.dumps(key, ensure_ascii=False),
    ]
    for text in quoted:
        assert redactor.redact(f"before {text} after") in {
            "before [API key] after",
            "before '[API key]' after",
            "before b'[API key]' after",
            'before "[API key]" after',
        }, text


def test_the_key_comes_from_the_environment_mapping_as_the_client_reads_it() -> None:
    """RELAYDANCE_API_KEY with the whitespace a shell leaves around it; nothing else is a key."""
    redactor = Redactor.from_environ(
        {"RELAYDANCE_API_KEY": "  rd_live_9f8e7d6c5b4a\n", "HOME": "/home/someone"}
    )
    assert redactor.redact("key rd_live_9f8e7d6c5b4a in /home/someone") == (
        "key [API key] in /home/someone"
    )
    assert Redactor.from_environ({}) == NO_SECRETS


def test_nothing_is_remembered_between_redactors() -> None:
    """A key one command's redactor knows is not removed by another's, nor by redact()."""
    Redactor(("rd_live_other_command",)).redact("rd_live_other_command")
    assert NO_SECRETS.redact("rd_live_other_command") == "rd_live_other_command"
    assert redact("rd_live_other_command") == "rd_live_other_command"


def test_a_redactor_never_shows_its_secret() -> None:
    """Its repr names no secret, so a traceback or log line that shows it leaks nothing."""
    assert "rd_live_9f8e7d6c5b4a" not in repr(Redactor(("rd_live_9f8e7d6c5b4a",)))


def test_short_values_are_no_secret() -> None:
    """A key shorter than six characters would blank out ordinary words, so it stays."""
    assert Redactor(("abc",)).redact("abc abcdef") == "abc abcdef"


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
    """A header's credential and sk- keys go, with or without a redactor; look-alikes stay."""
    assert redact(text) == expected
    assert Redactor(("unrelated-secret",)).redact(text) == expected


def test_a_key_quoted_after_bearer_is_named_as_the_key() -> None:
    """The command's key is replaced first, so h11's quoted header reads 'Bearer [API key]'."""
    redactor = Redactor(("rd_live_9f8e7d6c5b4a\nX",))
    said = "Illegal header value b'Bearer rd_live_9f8e7d6c5b4a\\nX'"
    assert redactor.redact(said) == "Illegal header value b'Bearer [API key]'"


def test_every_rdpipe_error_message_loses_credential_shapes_where_it_is_made() -> None:
    """Whatever a cause quoted, an RdpipeError's message and hint carry no sk- key or bearer
    credential; the command's own key is removed where the message leaves the process."""
    error = RdpipeError("refused sk-made-in-an-error", hint="Bearer rd_live_9f8e7d6c5b4a")
    assert (error.message, error.hint) == ("refused sk-[redacted]", "Bearer [redacted]")
