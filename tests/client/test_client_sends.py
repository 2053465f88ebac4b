"""What the client tells its command: each request as it leaves (``on_send``), and reasons
with the client's own key taken out, whatever the key's shape."""

from __future__ import annotations

import httpx
import pytest

from rdpipe.client import (
    ApiKey,
    ClientConfig,
    NoAnswer,
    RelayDanceClient,
    RetryPolicy,
    TaskNotFound,
)
from rdpipe.send_record import SendRecord
from tests.client.mock_server import BASE_URL, Script

pytestmark = pytest.mark.anyio

KEY = "rd_live_9f8e7d6c5b4a"  # not sk- shaped: only the client's own redactor knows it
MODELS = {"object": "list", "data": [{"id": "doubao-seedance-2-0-480p", "object": "model"}]}


def _client(script: Script, sends: SendRecord | None = None) -> RelayDanceClient:
    config = ClientConfig(ApiKey(KEY), BASE_URL, retry=RetryPolicy(attempts=1))
    transport = httpx.MockTransport(script)
    return RelayDanceClient(
        config, transport=transport, on_send=None if sends is None else sends.note
    )


async def test_every_request_is_counted_as_it_leaves() -> None:
    """Two model lists, and a poll of an unknown task that tries both task routes: four
    requests, four notes in the command's record."""
    script = Script()
    script.json("GET", "/v1/models", 200, MODELS)
    sends = SendRecord()
    async with _client(script, sends) as client:
        await client.list_models()
        await client.list_models()
        assert sends.count == 2
        with pytest.raises(TaskNotFound):
            await client.get_task("task_" + "a" * 32)
    assert sends.count == len(script.requests) == 4


async def test_a_client_without_a_record_sends_all_the_same() -> None:
    """on_send is optional: a client used on its own (tests, tools) counts for nobody."""
    script = Script()
    script.json("GET", "/v1/models", 200, MODELS)
    async with _client(script) as client:
        assert [model.id for model in await client.list_models()] == ["doubao-seedance-2-0-480p"]


async def test_a_reason_quoting_the_key_names_it_as_the_key() -> None:
    """An HTTP library error that quotes the client's key (any shape) reads [API key]."""
    script = Script()
    script.add("GET", "/v1/models", httpx.ReadError(f"peer closed; last header Bearer {KEY}!"))
    script.add("GET", "/v1/models", httpx.ReadError(f"echoed {KEY} back"))
    async with _client(script) as client:
        for said in ("Bearer [API key]!", "echoed [API key] back"):
            with pytest.raises(NoAnswer) as caught:
                await client.list_models()
            assert KEY not in str(caught.value) and said in str(caught.value)
