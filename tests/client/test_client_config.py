"""Configuration from an environment mapping, and the secrecy of the API key."""

from __future__ import annotations

import pickle

import pytest

from rdpipe.client import ApiKey, ClientConfig, InvalidBaseUrl, InvalidMediaUrl, MissingApiKey
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


def test_media_url_defaults_to_relaydance_pay_host() -> None:
    """With RelayDance's own API, uploads and portraits go to pay.relaydance.com."""
    assert ClientConfig.from_environ({"RELAYDANCE_API_KEY": KEY}).media_url == (
        "https://pay.relaydance.com"
    )
    environ = {"RELAYDANCE_API_KEY": KEY, "RELAYDANCE_BASE_URL": "https://relaydance.com/v1/"}
    assert ClientConfig.from_environ(environ).media_url == "https://pay.relaydance.com"


def test_media_url_follows_another_base_url() -> None:
    """A relay deployment (or the simulator) serves the media routes at its own address."""
    environ = {"RELAYDANCE_API_KEY": KEY, "RELAYDANCE_BASE_URL": "http://127.0.0.1:8000/v1"}
    assert ClientConfig.from_environ(environ).media_url == "http://127.0.0.1:8000"
    made = ClientConfig(ApiKey(KEY), "http://127.0.0.1:8000")
    assert made.media_url == "http://127.0.0.1:8000"
    assert ClientConfig(ApiKey(KEY)).media_url == "https://pay.relaydance.com"


def test_media_url_override_is_trimmed() -> None:
    """RELAYDANCE_MEDIA_URL wins over the default, trimmed like the base URL."""
    environ = {"RELAYDANCE_API_KEY": KEY, "RELAYDANCE_MEDIA_URL": " https://media.example/ "}
    config = ClientConfig.from_environ(environ)
    assert (config.base_url, config.media_url) == (
        "https://relaydance.com",
        "https://media.example",
    )


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (
            "pay.relaydance.com",
            "RELAYDANCE_MEDIA_URL is not an http(s) URL: 'pay.relaydance.com'; nothing was sent.",
        ),
        (
            "https://user:pw@pay.relaydance.com",
            "RELAYDANCE_MEDIA_URL is not a usable media host address "
            "('https://***@pay.relaydance.com'): it carries a user name or password; the key "
            "goes in RELAYDANCE_API_KEY; nothing was sent.",
        ),
    ],
)
def test_bad_media_url_names_the_variable(value: str, said: str) -> None:
    """A bad RELAYDANCE_MEDIA_URL is refused (exit 2), naming that variable, not the base URL's."""
    with pytest.raises(InvalidMediaUrl) as caught:
        ClientConfig.from_environ({"RELAYDANCE_API_KEY": KEY, "RELAYDANCE_MEDIA_URL": value})
    assert str(caught.value) == (
        f"{said}\nUnset it to use the media host that goes with RELAYDANCE_BASE_URL "
        "(https://pay.relaydance.com for RelayDance itself), or set it like "
        "https://pay.relaydance.com."
    )
    assert isinstance(caught.value, InvalidBaseUrl)
    assert caught.value.exit_code == ExitCode.INVALID_INPUT


def test_bad_base_url_message_is_unchanged() -> None:
    """RELAYDANCE_BASE_URL's refusal still names that variable and its own hint."""
    with pytest.raises(InvalidBaseUrl) as caught:
        ClientConfig.from_environ({"RELAYDANCE_API_KEY": KEY, "RELAYDANCE_BASE_URL": "ftp://x"})
    assert str(caught.value) == (
        "RELAYDANCE_BASE_URL is not an http(s) URL: 'ftp://x'; nothing was sent.\n"
        "Unset it to use https://relaydance.com, or set it like https://relaydance.com."
    )


@pytest.mark.parametrize(
    ("base_url", "media_url"),
    [
        ("https://relaydance.com", "https://pay.relaydance.com"),
        ("https://RelayDance.com", "https://pay.relaydance.com"),
        ("https://relaydance.com:443", "https://pay.relaydance.com"),
        ("https://relaydance.com/", "https://pay.relaydance.com"),
        ("https://relaydance.com:8443", "https://relaydance.com:8443"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ],
)
def test_the_media_host_goes_with_relaydance_however_its_address_is_spelt(
    base_url: str, media_url: str
) -> None:
    from rdpipe.client.config import default_media_url

    assert default_media_url(base_url) == media_url
