"""``rdpipe balance``: the remaining balance in the display currency and who answered, against
a scripted relay on 127.0.0.1 and against the simulator (relaydance-api.md §11, §13)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.client import ApiKey, ClientConfig, RelayDanceClient
from rdpipe.sim import SimConfig, Timing, run_simulator
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
        "kind": "balance",
        "version": 1,
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
        "kind": "balance",
        "version": 1,
        "remaining": None,
        "used": 1234,
        "currency": "TOKENS",
        "unlimited": True,
        "source": "billing/subscription",
    }


def test_a_display_currency_that_cannot_be_read_is_never_taken_as_dollars(
    relay: ScriptedServer,
) -> None:
    relay.json("GET", CREDITS, 200, {"data": {"total_usage": 4.25}})
    result = _balance(relay)  # no subscription route, no /api/status: both 404
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "Remaining balance: 4.25, in a unit rdpipe could not read."
    )
    assert result.stderr.startswith("note: the display currency could not be read (RelayDance")
    assert result.stderr.rstrip().endswith(
        "the amounts are shown as the relay reported them, in a unit rdpipe cannot name."
    )


def test_yuan_without_an_exchange_rate_are_not_shown_as_dollars(relay: ScriptedServer) -> None:
    """¥7.30 (one dollar) once showed as "$7.30": the unit is now said to be unread."""
    relay.json("GET", SUBSCRIPTION, 200, {"hard_limit_usd": 7.3})
    relay.json("GET", USAGE, 200, {"total_usage": 0})
    _status(relay, {"quota_per_unit": 500000, "quota_display_type": "CNY"})
    result = _balance(relay)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "Remaining balance: 7.30 (0.00 used so far), in a unit rdpipe could not read."
    )
    assert result.stderr == (
        "note: the display currency could not be read (it shows amounts in CNY without a "
        "usable usd_exchange_rate); the amounts are shown as the relay reported them, in a "
        "unit rdpipe cannot name.\n"
    )
    as_json = json.loads(_balance(relay, "--json").stdout)
    assert (as_json["remaining"], as_json["used"], as_json["currency"]) == (7.3, 0.0, None)


def test_a_large_balance_in_tokens_is_a_balance_not_unlimited(relay: ScriptedServer) -> None:
    """In tokens new-api's 100,000,000 mark is $200: 125,000,000 tokens is a real balance."""
    relay.json("GET", SUBSCRIPTION, 200, {"hard_limit_usd": 125_000_000})
    relay.json("GET", USAGE, 200, {"total_usage": 100_000_000})
    _status(relay, TOKENS)
    result = _balance(relay)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "Remaining balance: 124,000,000 tokens (1,000,000 tokens used so far)."
    )
    as_json = json.loads(_balance(relay, "--json").stdout)
    assert (as_json["remaining"], as_json["unlimited"]) == (124_000_000, False)


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
    said = (
        "RelayDance could not tell the account's balance (billing/subscription: "
        "获取配额失败; credits: token sk-[redacted] has no quota record).\n"
        "Look at the balance on the relay's web site (relaydance.com for RelayDance)."
    )
    assert result.stderr == f"error: {said}\n"
    error = json.loads(result.stdout)["error"]  # --json: the error document on stdout
    assert (error["code"], error["message"], error["exit_code"]) == ("balance_unavailable", said, 1)
    assert KEY not in result.stdout
    assert KEY not in result.output
    assert "Traceback" not in result.output


# Against the simulator -------------------------------------------------------------------


def test_balance_offline_asks_the_built_in_simulator() -> None:
    """--offline: the in-process simulator's account, unlimited, without any key."""
    result = CliRunner().invoke(app, ["balance", "--offline"], env={"RELAYDANCE_API_KEY": None})
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Remaining balance: unlimited (this key has no quota limit; $0.00 used so far).\n"
        "Answered by billing/subscription of the offline simulator.\n"
    )


def test_balance_of_a_served_simulator_after_a_task() -> None:
    """A simulator with 25 USD shown in yuan: after one settled task the screen gives what its
    account holds, at its rate of 7.3."""
    config = SimConfig(api_key=KEY, timing=Timing.fast(), balance_usd=25.0, display_currency="CNY")
    with run_simulator(config) as sim:
        env = {"RELAYDANCE_API_KEY": KEY, "RELAYDANCE_BASE_URL": sim.base_url}
        fresh = CliRunner().invoke(app, ["balance"], env=env)
        anyio.run(_one_task, sim.base_url)
        (charge,) = sim.charges()
        after = CliRunner().invoke(app, ["balance"], env=env)
        as_json = CliRunner().invoke(app, ["balance", "--json"], env=env)
        host = sim.base_url.removeprefix("http://")
    assert fresh.exit_code == 0, fresh.output
    assert fresh.stdout == (
        "Remaining balance: ¥182.50 (¥0.00 used so far).\n"
        f"Answered by billing/subscription at {host}.\n"
    )
    assert charge.settled is not None
    used = charge.settled / 500_000 * 7.3
    assert after.stdout == (
        f"Remaining balance: ¥{182.5 - used:,.2f} (¥{used:,.2f} used so far).\n"
        f"Answered by billing/subscription at {host}.\n"
    )
    assert json.loads(as_json.stdout) == {
        "kind": "balance",
        "version": 1,
        "remaining": round((25 * 500_000 - charge.settled) / 500_000 * 7.3, 6),
        "used": round(used, 6),
        "currency": "CNY",
        "unlimited": False,
        "source": "billing/subscription",
    }


def test_a_served_simulator_whose_balance_routes_fail() -> None:
    config = SimConfig(api_key=KEY, timing=Timing.fast(), balance_error=True)
    with run_simulator(config) as sim:
        env = {"RELAYDANCE_API_KEY": KEY, "RELAYDANCE_BASE_URL": sim.base_url}
        result = CliRunner().invoke(app, ["balance"], env=env)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: RelayDance could not tell the account's balance (billing/subscription: "
        "获取配额失败; credits: 获取配额失败).\n"
        "Look at the balance on the relay's web site (relaydance.com for RelayDance).\n"
    )


async def _one_task(base_url: str) -> None:
    """Submit one 4 s 480p task and wait until it has finished (and been settled)."""
    body = json.dumps(
        {"model": "doubao-seedance-2-0-480p", "prompt": "a boat", "seconds": "4"}
    ).encode()
    async with RelayDanceClient(ClientConfig(ApiKey(KEY), base_url)) as client:
        task_id = await client.submit(body)
        with anyio.fail_after(60):
            while not (await client.get_task(task_id)).state.finished:
                await anyio.sleep(0.05)
