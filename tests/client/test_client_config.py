"""Configuration from an environment mapping, and the secrecy of the API key."""

from __future__ import annotations

import pickle

import pytest

from rdpipe.client import ApiKey, ClientConfig, InvalidBaseUrl, MissingApiKey
from rdpipe.errors import ExitCode

KEY = "sk-live-abcdef0123456789"


def test_reads_key_and_default_base_url() -> None:
    """The key comes from RELAYDANCE_API_KEY and the base URL defaults to relaydance.com."""
    config = ClientConfig.from_environ({"RELAYDANCE_API_KEY": KEY})
    assert config.api_key.reveal() == KEY
    assert config.base_url == "https://relaydance.com"


def test_base_url_override_is_trimmed() -> None:
    """A trailing slash or an OpenAI-style /v1 suffix on RELAYDANCE_BASE_URL is dropped."""
    environ = {"RELAYDANCE_API_KEY": KEY, "RELAYDANCE_BASE_URL": "http://127.0.0.1:8000/v1/"}
    assert ClientConfig.from_environ(environ).base_url == "http://127.0.0.1:8000"


def test_missing_key_says_how_to_fix_it() -> None:
    """A missing or blank key explains how to set it and mentions --offline."""
    with pytest.raises(MissingApiKey) as caught:
        ClientConfig.from_environ({"RELAYDANCE_API_KEY": "  "})
    assert str(caught.value) == (
        "RELAYDANCE_API_KEY is not set, so rdpipe cannot talk to RelayDance.\n"
        "Set it in your shell (export RELAYDANCE_API_KEY=sk-...), "
        "or run with --offline to use the built-in simulator."
    )
    assert caught.value.exit_code == ExitCode.INVALID_INPUT


def test_bad_base_url_is_rejected() -> None:
    """A base URL that is not http(s) is refused with the offending value in the message."""
    with pytest.raises(InvalidBaseUrl, match=r"relaydance\.com/api"):
        ClientConfig.from_environ(
            {"RELAYDANCE_API_KEY": KEY, "RELAYDANCE_BASE_URL": "relaydance.com/api"}
        )


def test_key_hidden_from_repr_and_str() -> None:
    """Neither the key nor the config that holds it shows the secret in repr or str."""
    config = ClientConfig.from_environ({"RELAYDANCE_API_KEY": KEY})
    for text in (repr(config.api_key), str(config.api_key), repr(config), str(config), f"{config}"):
        assert KEY not in text
        assert "sk-live" not in text


def test_key_refuses_pickling() -> None:
    """Pickling a key fails instead of writing the secret somewhere."""
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(ApiKey(KEY))
