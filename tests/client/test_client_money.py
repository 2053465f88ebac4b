"""Issue 15 over real HTTP: prices, display currency, balance, and a task's settled charge.

Each test scripts a server on 127.0.0.1 (``http_script``) and counts at the server what the
client sent (relaydance-api.md §3, §11-13).
"""

from __future__ import annotations

from typing import Any

import pytest

from rdpipe.client import (
    ApiError,
    AuthenticationFailed,
    Balance,
    BalanceUnavailable,
    MalformedResponse,
    RecordingClock,
    RelayDanceClient,
    TaskState,
    TaskStatus,
)
from rdpipe.prices import Currency, ModelPrice, PriceBook, PricingUnreadable
from tests.client.http_fixture import Reply, ScriptedServer
from tests.client.mock_server import API_KEY

pytestmark = pytest.mark.anyio

TASK = "task_" + "q" * 32
ENVELOPE = f"/v1/video/generations/{TASK}"
VIDEO = f"/v1/videos/{TASK}"
SUBSCRIPTION = "/v1/dashboard/billing/subscription"
USAGE = "/v1/dashboard/billing/usage"
CREDITS = "/v1/credits"
FAILED_QUOTA = {"error": {"message": "获取配额失败", "type": "upstream_error"}}


def _envelope(status: str, upstream: dict[str, Any], **fields: Any) -> dict[str, Any]:
    data = {"task_id": TASK, "status": status, "progress": "100%", "fail_reason": ""}
    return {"code": "success", "message": "", "data": {**data, **fields, "data": upstream}}


# A task's settled charge and upstream status ----------------------------------------------


@pytest.mark.parametrize(
    ("quota", "settled"),
    [
        (1_093_750, 1_093_750),
        ("1093750", 1_093_750),
        (1_093_750.0, 1_093_750),
        (0, 0),
        ("n/a", None),
        (-5, None),
        (2.5, None),
        (True, None),
        (None, None),
    ],
)
async def test_the_envelope_gives_the_settled_quota(
    http_client: RelayDanceClient, http_script: ScriptedServer, quota: object, settled: int | None
) -> None:
    """``data.quota`` of the envelope is the settled charge in quota units; a numeric string
    is read; what is not a whole non-negative number is None."""
    upstream = {"id": "cgt-1", "status": "succeeded", "seed": 11, "duration": 5}
    http_script.json(
        "GET",
        ENVELOPE,
        200,
        _envelope("SUCCESS", upstream, result_url="https://s.test/c.mp4", quota=quota),
    )
    assert await http_client.get_task(TASK) == TaskStatus(
        task_id=TASK,
        state=TaskState.SUCCEEDED,
        progress=100,
        video_url="https://s.test/c.mp4",
        seed=11,
        duration=5.0,
        raw_status="SUCCESS",
        settled_quota=settled,
        upstream_status="succeeded",
    )
    assert http_script.paths() == [f"GET {ENVELOPE}"]


async def test_an_envelope_without_quota_or_upstream_status(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    """An envelope with neither ``quota`` nor ``data.data.status`` leaves both None."""
    http_script.json("GET", ENVELOPE, 200, _envelope("IN_PROGRESS", {}, progress="40%"))
    status = await http_client.get_task(TASK)
    assert (status.state, status.progress) == (TaskState.RUNNING, 40)
    assert (status.settled_quota, status.upstream_status) == (None, None)


async def test_an_expired_task_says_so_in_its_upstream_status(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    """A FAILURE whose upstream status is ``Expired`` reads ``expired`` (lower case), refunded."""
    upstream = {"id": "cgt-2", "status": "Expired", "error": {"code": "TaskExpired"}}
    http_script.json(
        "GET", ENVELOPE, 200, _envelope("FAILURE", upstream, fail_reason="expired", quota=0)
    )
    status = await http_client.get_task(TASK)
    assert status == TaskStatus(
        task_id=TASK,
        state=TaskState.FAILED,
        progress=100,
        error_code="TaskExpired",
        error_message="expired",
        raw_status="FAILURE",
        settled_quota=0,
        upstream_status="expired",
    )


async def test_the_video_object_form_has_no_settled_quota(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    """A relay without the envelope route answers the video object, which carries no charge
    (a ``quota`` there is not the envelope's): both new fields stay None."""
    http_script.json(
        "GET",
        VIDEO,
        200,
        {
            "id": TASK,
            "object": "video",
            "status": "completed",
            "progress": 100,
            "quota": 1_093_750,
            "metadata": {"url": "https://s.test/c.mp4"},
        },
    )
    status = await http_client.get_task(TASK)
    assert status == TaskStatus(
        task_id=TASK,
        state=TaskState.SUCCEEDED,
        progress=100,
        video_url="https://s.test/c.mp4",
        raw_status="completed",
    )
    assert http_script.paths() == [f"GET {ENVELOPE}", f"GET {VIDEO}"]


# Prices --------------------------------------------------------------------------------------


async def test_the_price_book_as_the_relay_publishes_it(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    """Token-priced, per-call and tiered items, numbers as strings; an item without its
    figures ("bare") is not priced, never free; the key goes with it (it is the API host)."""
    http_script.json(
        "GET",
        "/api/pricing",
        200,
        {
            "success": True,
            "message": "",
            "data": [
                {
                    "model_name": "doubao-seedance-2-0-720p",
                    "quota_type": 0,
                    "model_ratio": 10.0,
                    "model_price": 0,
                    "completion_ratio": 1,
                    "enable_groups": ["default"],
                    "supported_endpoint_types": ["openai-video"],
                },
                {"model_name": "per-call-video", "quota_type": 1, "model_price": "0.6"},
                {"model_name": "bare"},
                {"model_name": "tiered-video", "quota_type": 0, "billing_expr": "tier(...)"},
                {"quota_type": 0},
            ],
            "group_ratio": {"default": 0.9, "vip": 0.5},
            "pricing_version": "sim-2026-11",
        },
    )
    book = await http_client.get_price_book()
    assert book == PriceBook(
        version="sim-2026-11",
        models={
            "doubao-seedance-2-0-720p": ModelPrice("doubao-seedance-2-0-720p", 0, 10.0, 0.0),
            "per-call-video": ModelPrice("per-call-video", 1, 0.0, 0.6),
            "tiered-video": ModelPrice("tiered-video", 0, 0.0, 0.0, tiered=True),
        },
        group_ratio=0.9,
    )
    (arrived,) = http_script.arrived
    assert arrived.authorization == f"Bearer {API_KEY}"


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (Reply(200, {"success": False, "message": "pricing is off"}), "pricing is off"),
        (Reply(200, {"success": True, "data": None}), "it has no list of models (data)"),
        (Reply(200, ["not", "an", "object"]), "the answer is not a JSON object"),
        (Reply(200, text="<html>maintenance</html>"), "the answer is not JSON"),
    ],
)
async def test_a_price_list_that_cannot_be_read(
    http_client: RelayDanceClient, http_script: ScriptedServer, reply: Reply, why: str
) -> None:
    """``success: false``, a missing list, or no JSON at all: PricingUnreadable, asked once."""
    http_script.add("GET", "/api/pricing", reply)
    with pytest.raises(PricingUnreadable) as caught:
        await http_client.get_price_book()
    assert caught.value.message == f"the relay's price list could not be read: {why}"
    assert http_script.count("GET", "/api/pricing") == 1


async def test_prices_are_read_like_any_read(
    http_client: RelayDanceClient, http_script: ScriptedServer, fake_time: RecordingClock
) -> None:
    """A 502 is retried; a relay without the route answers 404, an ApiError, asked once."""
    http_script.add(
        "GET",
        "/api/pricing",
        Reply(502, text="bad gateway"),
        Reply(200, {"success": True, "data": []}),
    )
    assert await http_client.get_price_book() == PriceBook("unversioned", {}, 1.0)
    assert http_script.count("GET", "/api/pricing") == 2
    assert len(fake_time.waits) == 1
    with pytest.raises(ApiError) as caught:
        await http_client.get_currency()  # /api/status is not scripted: 404
    assert caught.value.status == 404
    assert http_script.count("GET", "/api/status") == 1


# Display currency --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "currency"),
    [
        (
            {"quota_per_unit": 500000, "display_in_currency": True, "quota_display_type": "USD"},
            Currency("USD", 500_000.0, 1.0),
        ),
        (
            {"quota_per_unit": 500000, "quota_display_type": "CNY", "usd_exchange_rate": 7.3},
            Currency("CNY", 500_000.0, 7.3),
        ),
        (
            {"quota_per_unit": "250000", "display_in_currency": False, "quota_display_type": "USD"},
            Currency("TOKENS", 250_000.0),
        ),
        ({"quota_display_type": "EUR"}, Currency("USD", 500_000.0)),
        ({}, Currency()),
    ],
    ids=["usd", "cny", "tokens", "unknown-type", "empty"],
)
async def test_the_display_currency(
    http_client: RelayDanceClient,
    http_script: ScriptedServer,
    data: dict[str, Any],
    currency: Currency,
) -> None:
    """``/api/status`` tells the display currency; what is missing takes new-api's defaults
    (USD, 500,000 units a dollar); yuan without a rate are unread (tests/pricing)."""
    http_script.json("GET", "/api/status", 200, {"success": True, "message": "", "data": data})
    assert await http_client.get_currency() == currency


async def test_a_status_without_data_is_dollars_and_no_json_is_an_error(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    http_script.add(
        "GET",
        "/api/status",
        Reply(200, {"success": False, "message": "down"}),
        Reply(200, text="oops"),
    )
    assert await http_client.get_currency() == Currency()
    with pytest.raises(MalformedResponse):
        await http_client.get_currency()


async def test_yuan_show_with_the_relays_rate(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    """The captured 1,093,750-unit task in yuan at 7.3: 2.1875 USD, ¥15.97."""
    http_script.json(
        "GET",
        "/api/status",
        200,
        {"data": {"quota_per_unit": 500000, "quota_display_type": "CNY", "usd_exchange_rate": 7.3}},
    )
    currency = await http_client.get_currency()
    assert currency.show(1_093_750) == "¥15.97"
    assert currency.amount(1_093_750) == pytest.approx(15.96875)


# Balance -------------------------------------------------------------------------------------


async def test_the_balance_from_subscription_and_usage(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    """remaining = hard_limit_usd - total_usage / 100; /v1/credits is not asked."""
    http_script.json(
        "GET",
        SUBSCRIPTION,
        200,
        {"object": "billing_subscription", "hard_limit_usd": 10.0, "soft_limit_usd": 10.0},
    )
    http_script.json("GET", USAGE, 200, {"object": "list", "total_usage": 250})
    balance = await http_client.get_balance()
    assert balance == Balance(7.5, 2.5, False, "billing/subscription")
    assert http_script.paths() == [f"GET {SUBSCRIPTION}", f"GET {USAGE}"]
    assert all(a.authorization == f"Bearer {API_KEY}" for a in http_script.arrived)
    assert balance.remaining_quota(Currency()) == 3_750_000
    assert balance.used_quota(Currency()) == 1_250_000


async def test_a_subscription_that_answers_200_with_an_error_falls_back_to_credits(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    """HTTP 200 carrying ``{"error": ...}`` is an error: /v1/credits answers instead, whose
    ``data.total_usage`` is the remaining amount."""
    http_script.json("GET", SUBSCRIPTION, 200, FAILED_QUOTA)
    http_script.json(
        "GET", CREDITS, 200, {"object": "credit_summary", "data": {"total_usage": 4.25}}
    )
    assert await http_client.get_balance() == Balance(4.25, None, False, "credits")
    assert http_script.paths() == [f"GET {SUBSCRIPTION}", f"GET {CREDITS}"]


async def test_a_usage_that_answers_200_with_an_error_falls_back_to_credits(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    http_script.json("GET", SUBSCRIPTION, 200, {"hard_limit_usd": 10.0})
    http_script.json("GET", USAGE, 200, {"error": {"message": "db down", "type": "new_api_error"}})
    http_script.json("GET", CREDITS, 200, {"data": {"total_usage": "3.5"}})
    assert await http_client.get_balance() == Balance(3.5, None, False, "credits")
    assert http_script.count("GET", CREDITS) == 1


async def test_a_relay_without_the_subscription_route_answers_through_credits(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    """A 404 on billing/subscription is not retried: credits is asked next."""
    http_script.json("GET", CREDITS, 200, {"data": {"total_usage": 12}})
    assert await http_client.get_balance() == Balance(12.0, None, False, "credits")
    assert http_script.paths() == [f"GET {SUBSCRIPTION}", f"GET {CREDITS}"]


async def test_both_ways_answer_200_with_an_error(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    """Neither way tells the balance: BalanceUnavailable with what each said, each asked once
    (a 200-with-error is not retried), and never the key."""
    http_script.json("GET", SUBSCRIPTION, 200, FAILED_QUOTA)
    http_script.json("GET", CREDITS, 200, {"error": {"message": "", "type": "new_api_error"}})
    with pytest.raises(BalanceUnavailable) as caught:
        await http_client.get_balance()
    error = caught.value
    assert error.failures == (
        ("billing/subscription", "获取配额失败"),
        ("credits", "new_api_error"),
    )
    assert error.server_message == "获取配额失败; new_api_error"
    assert str(error) == (
        "RelayDance could not tell the account's balance (billing/subscription: 获取配额失败; "
        "credits: new_api_error).\n"
        "Look at the balance on the relay's web site (relaydance.com for RelayDance)."
    )
    assert http_script.paths() == [f"GET {SUBSCRIPTION}", f"GET {CREDITS}"]


async def test_answers_without_their_figures(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    """A subscription without hard_limit_usd and a credits answer without data.total_usage."""
    http_script.json("GET", SUBSCRIPTION, 200, {"object": "billing_subscription"})
    http_script.add("GET", CREDITS, Reply(200, text="not json"))
    with pytest.raises(BalanceUnavailable) as caught:
        await http_client.get_balance()
    assert caught.value.failures == (
        ("billing/subscription", "its answer has no hard_limit_usd"),
        ("credits", "the body is not JSON"),
    )


@pytest.mark.parametrize(
    ("subscription", "usage", "credits", "balance"),
    [
        (100_000_000, 1234, None, Balance(None, 12.34, True, "billing/subscription", 1e8)),
        (None, None, 100_000_000, Balance(None, None, True, "credits", 1e8)),
    ],
)
async def test_an_unlimited_key(
    http_client: RelayDanceClient,
    http_script: ScriptedServer,
    subscription: float | None,
    usage: float | None,
    credits: float | None,
    balance: Balance,
) -> None:
    """new-api reports 100,000,000 for a key without a limit: unlimited, no remaining figure."""
    if subscription is None:
        http_script.json("GET", SUBSCRIPTION, 200, FAILED_QUOTA)
    else:
        http_script.json("GET", SUBSCRIPTION, 200, {"hard_limit_usd": subscription})
        http_script.json("GET", USAGE, 200, {"total_usage": usage})
    http_script.json("GET", CREDITS, 200, {"data": {"total_usage": credits}})
    found = await http_client.get_balance()
    assert found == balance
    assert found.remaining_quota(Currency()) is None


async def test_a_refused_key_is_said_at_once(
    http_client: RelayDanceClient, http_script: ScriptedServer
) -> None:
    """401 on the first way: AuthenticationFailed, credits not asked (the same key)."""
    http_script.json(
        "GET", SUBSCRIPTION, 401, {"error": {"message": "invalid token", "type": "new_api_error"}}
    )
    with pytest.raises(AuthenticationFailed):
        await http_client.get_balance()
    assert http_script.paths() == [f"GET {SUBSCRIPTION}"]


async def test_balance_reads_are_retried_like_any_read(
    http_client: RelayDanceClient, http_script: ScriptedServer, fake_time: RecordingClock
) -> None:
    http_script.add("GET", SUBSCRIPTION, Reply(503, text="busy"), Reply(200, {"hard_limit_usd": 2}))
    http_script.json("GET", USAGE, 200, {"total_usage": 50})
    assert await http_client.get_balance() == Balance(1.5, 0.5, False, "billing/subscription")
    assert http_script.count("GET", SUBSCRIPTION) == 2
    assert len(fake_time.waits) == 1


@pytest.mark.parametrize(
    ("amount", "currency", "quota"),
    [
        (7.5, Currency(), 3_750_000),
        (73.0, Currency("CNY", 500_000, 7.3), 5_000_000),
        (1234.0, Currency("TOKENS"), 1234),
        (0.1 + 0.2, Currency(), 150_000),
    ],
)
def test_the_balance_in_quota_units_follows_the_relays_display_unit(
    amount: float, currency: Currency, quota: int
) -> None:
    """new-api gives the figures in its display unit (dollars, yuan or tokens): they turn back
    into quota units through the display currency, to the nearest unit."""
    assert Balance(amount, amount, False, "credits").remaining_quota(currency) == quota
    assert Balance(amount, amount, False, "credits").used_quota(currency) == quota
