"""``rdpipe balance``: the remaining balance in the display currency and who answered, against
a scripted relay on 127.0.0.1 (relaydance-api.md §11, §13)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from rdpipe.cli import app
from tests.client.http_fixture import ScriptedServer, serve_script

KEY = "sk-balance-secret-4d2f9a"
SUBSCRIPTION = "/v1/dashboard/billing/subscription"
USAGE = "/v1/dashboard/billing/usage"
CREDITS = "/v1/credits"
USD = {"quota_per_unit": 500000, "display_in_currency": True, "quota_display_type": "USD"}
CNY = {"quota_per_unit": 500000, "quota_display_type": "CNY", "usd_exchange_rate": 7.3}
TOKENS = {"quota_per_unit": 500000, "display_in_currency": False}
FAILED = {"error": {"message": "获取配额失败", "type": "upstream_error"}}


@pytest.fixture
def relay() -> Iterator[ScriptedServer]:
    yield from serve_script()


def _status(relay: ScriptedServer, data: dict[str, Any]) -> None:
    relay.json("GET", "/api/status", 200, {"success": True, "message": "", "data": data})


def _balance(relay: ScriptedServer, *args: str) -> Any:
    env = {"RELAYDANCE_API_KEY": KEY, "RELAYDANCE_BASE_URL": relay.base_url, "COLUMNS": "200"}
    return CliRunner().invoke(app, ["balance", *args], env=env)


def test_the_balance_in_dollars_from_billing_subscription(relay: ScriptedServer) -> None:
    relay.json("GET", SUBSCRIPTION, 200, {"hard_limit_usd": 10.0})
    relay.json("GET", USAGE, 200, {"total_usage": 250})
    _status(relay, USD)
    result = _balance(relay)
    assert result.exit_code == 0, result.output
    host = relay.base_url.removeprefix("http://")
    assert result.stdout == (
        "Remaining balance: $7.50 ($2.50 used so far).\n"
        f"Answered by billing/subscription at {host}.\n"
    )
    assert result.stderr == ""


def test_the_balance_in_yuan_from_credits_as_json(relay: ScriptedServer) -> None:
    """billing/subscription answers 200 with an error: credits tells the remaining amount, in
    the relay's display unit (yuan here)."""
    relay.json("GET", SUBSCRIPTION, 200, FAILED)
    relay.json("GET", CREDITS, 200, {"data": {"total_usage": 73.0}})
    _status(relay, CNY)
    result = _balance(relay, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "remaining": 73.0,
        "used": None,
        "currency": "CNY",
        "unlimited": False,
        "source": "credits",
    }
    text = _balance(relay)
    assert text.stdout.splitlines()[0] == "Remaining balance: ¥73.00."


def test_an_unlimited_key_in_tokens(relay: ScriptedServer) -> None:
    relay.json("GET", SUBSCRIPTION, 200, {"hard_limit_usd": 100_000_000})
    relay.json("GET", USAGE, 200, {"total_usage": 123_400})
    _status(relay, TOKENS)
    result = _balance(relay)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "Remaining balance: unlimited (this key has no quota limit; 1,234 tokens used so far)."
    )
    as_json = json.loads(_balance(relay, "--json").stdout)
    assert as_json == {
        "remaining": None,
        "used": 1234,
        "currency": "TOKENS",
        "unlimited": True,
        "source": "billing/subscription",
    }


def test_a_display_currency_that_cannot_be_read_is_taken_as_dollars(
    relay: ScriptedServer,
) -> None:
    relay.json("GET", CREDITS, 200, {"data": {"total_usage": 4.25}})
    result = _balance(relay)  # no subscription route, no /api/status: both 404
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "Remaining balance: $4.25."
    assert result.stderr.startswith("note: the display currency could not be read (RelayDance")
    assert result.stderr.rstrip().endswith("amounts are in US dollars.")


def test_both_endpoints_answering_200_with_an_error_exit_1_in_one_paragraph(
    relay: ScriptedServer,
) -> None:
    """No traceback, what each endpoint said, and never the key, even one the relay echoes."""
    relay.json("GET", SUBSCRIPTION, 200, FAILED)
    relay.json(
        "GET", CREDITS, 200, {"error": {"message": f"token {KEY} has no quota record", "type": "x"}}
    )
    result = _balance(relay, "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: RelayDance could not tell the account's balance (billing/subscription: "
        "获取配额失败; credits: token sk-[redacted] has no quota record).\n"
        "Look at the balance on the relay's web site (relaydance.com for RelayDance).\n"
    )
    assert KEY not in result.output
    assert "Traceback" not in result.output
