"""A command without a key reads the relay's public documents (prices, display currency) with
no ``Authorization`` header; with a key, the key goes as to any API path."""

from __future__ import annotations

import httpx
import pytest

from rdpipe.client import ApiKey, ClientConfig, InvalidBaseUrl, RelayDanceClient

pytestmark = pytest.mark.anyio

_PRICING = {
    "success": True,
    "data": [{"model_name": "doubao-seedance-2-0-720p", "quota_type": 0, "model_ratio": 10}],
    "pricing_version": "v7",
}


def test_without_a_key_the_public_config_has_an_empty_one() -> None:
    config = ClientConfig.public_from_environ({"RELAYDANCE_BASE_URL": "http://relay.test/"})
    assert config.api_key == ApiKey("")
    assert config.base_url == "http://relay.test"
    with_key = {"RELAYDANCE_API_KEY": "sk-abcdef123", "RELAYDANCE_BASE_URL": "http://relay.test"}
    assert ClientConfig.public_from_environ(with_key).api_key == ApiKey("sk-abcdef123")
    with pytest.raises(InvalidBaseUrl):
        ClientConfig.public_from_environ({"RELAYDANCE_BASE_URL": "ftp://relay.test"})


@pytest.mark.parametrize(("key", "sent"), [("", None), ("sk-abcdef123", "Bearer sk-abcdef123")])
async def test_the_price_list_is_read_with_the_key_only_when_there_is_one(
    key: str, sent: str | None
) -> None:
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200, json=_PRICING)

    config = ClientConfig(api_key=ApiKey(key), base_url="http://relay.test")
    async with RelayDanceClient(config, transport=httpx.MockTransport(answer)) as client:
        book = await client.get_price_book()
    assert book.version == "v7"
    assert seen == [sent]
