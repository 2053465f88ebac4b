"""The balance (issue 15): the three balance routes as a client reads them, the pre-charge
held while a task runs, settled or refunded when it ends, 403 when it does not fit, and the
HTTP 200 that carries an error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from rdpipe.sim import Charge, Faults
from rdpipe.sim.pricing import settled_factor
from tests.sim.own_sim import own_simulator
from tests.sim.simclient import submit, wait_final

PRECHARGE = 4 * 9_720 * 5  # the small clip: 480p 16:9, 4 s, ratio 5
SUBSCRIPTION = "/v1/dashboard/billing/subscription"
USAGE = "/v1/dashboard/billing/usage"
CREDITS = "/v1/credits"


def _balances(api: httpx.Client) -> tuple[Any, Any, Any]:
    """The three balance answers, in the order subscription, usage, credits."""
    return api.get(SUBSCRIPTION).json(), api.get(USAGE).json(), api.get(CREDITS).json()


def _subscription(amount: float) -> dict[str, Any]:
    return {
        "object": "billing_subscription",
        "has_payment_method": True,
        "soft_limit_usd": amount,
        "hard_limit_usd": amount,
        "system_hard_limit_usd": amount,
        "access_until": 0,
    }


def _usage(used_quota: int) -> dict[str, Any]:
    return {"object": "list", "total_usage": used_quota / 500_000 * 100}


def _credits(remaining_quota: int) -> dict[str, Any]:
    return {"object": "credit_summary", "data": {"total_usage": remaining_quota / 500_000}}


def test_a_run_holds_then_settles_then_refunds(tmp_path: Path) -> None:
    """$2: before any task; while one runs its pre-charge is held; once it succeeded only its
    settled charge is spent; a failed task is refunded in full."""
    with own_simulator(tmp_path, balance_usd=2.0) as (sim, api):
        assert _balances(api) == (_subscription(2.0), _usage(0), _credits(1_000_000))
        sim.faults = Faults(extra_unknown=60.0)
        held = submit(api)
        assert _balances(api) == (
            _subscription(2.0), _usage(PRECHARGE), _credits(1_000_000 - PRECHARGE),
        )  # fmt: skip
        assert sim.charges() == [Charge(held, "doubao-seedance-2-0-480p", PRECHARGE)]
        sim.faults = Faults(failure_markers={"[refused]": "input_refused"})
        done = submit(api)
        failed = submit(api, prompt="a kite [refused]")
        wait_final(api, done)
        wait_final(api, failed)
        settled = round(4 * 9_720 * settled_factor(done)) * 5
        used = PRECHARGE + settled  # the held task and the settled one; the failure refunded
        assert _balances(api) == (_subscription(2.0), _usage(used), _credits(1_000_000 - used))
        assert sim.charges() == [
            Charge(held, "doubao-seedance-2-0-480p", PRECHARGE),
            Charge(done, "doubao-seedance-2-0-480p", PRECHARGE, settled),
            Charge(failed, "doubao-seedance-2-0-480p", PRECHARGE, 0, refunded=True),
        ]
        assert (sim.balance_quota(), sim.used_quota()) == (1_000_000 - used, used)


def test_a_submit_the_balance_cannot_hold_is_refused_403(tmp_path: Path) -> None:
    """A pre-charge above what remains: 403 insufficient_user_quota (relay style), nothing
    created or charged; a pre-charge equal to it passes and leaves 0."""
    with own_simulator(tmp_path, balance_usd=PRECHARGE / 500_000 - 0.01) as (sim, api):
        answer = api.post(
            "/v1/video/generations",
            json={"model": "doubao-seedance-2-0-480p", "prompt": "a kite", "seconds": "4"},
        )
        assert answer.status_code == 403
        assert answer.json() == {
            "code": "insufficient_user_quota",
            "message": "用户额度不足, 剩余额度: $0.378800, 需要预扣费额度: $0.388800 "
            "(insufficient user quota for the pre-charge)",
            "data": None,
        }
        assert (sim.created_task_ids(), sim.charges()) == ([], [])
        assert sim.balance_quota() == PRECHARGE - 5_000
    with own_simulator(tmp_path, balance_usd=PRECHARGE / 500_000) as (sim, api):
        submit(api)
        assert sim.balance_quota() == 0
        assert api.get(CREDITS).json() == _credits(0)


def test_the_balance_routes_can_answer_200_with_an_error(tmp_path: Path) -> None:
    """balance_error: each of the three routes answers HTTP 200 with new-api's error object."""
    with own_simulator(tmp_path, balance_usd=5.0, balance_error=True) as (_, api):
        for path in (SUBSCRIPTION, USAGE, CREDITS):
            answer = api.get(path)
            assert answer.status_code == 200
            assert answer.json() == {"error": {"message": "获取配额失败", "type": "upstream_error"}}


def test_an_unlimited_key_reports_100_000_000(api: httpx.Client) -> None:
    """The default account has no limit: 100,000,000 as the limit and the remaining amount."""
    subscription, usage, credits = _balances(api)
    assert subscription == _subscription(100_000_000.0)
    assert credits == {"object": "credit_summary", "data": {"total_usage": 100_000_000.0}}
    assert usage["object"] == "list"
    assert usage["total_usage"] >= 0


def _yuan(quota: int) -> float:
    return quota / 500_000 * 7.3


def _tokens(quota: int) -> float:
    return float(quota)


@pytest.mark.parametrize(("currency", "unit"), [("CNY", _yuan), ("TOKENS", _tokens)])
def test_the_balance_routes_answer_in_the_display_unit(
    tmp_path: Path, currency: str, unit: Callable[[int], float]
) -> None:
    """As new-api's: yuan at the rate /api/status gives, or raw quota units. $2 is 1,000,000
    units; a per-call task holds 300,000 (0.6 USD)."""
    with own_simulator(tmp_path, balance_usd=2.0, display_currency=currency) as (sim, api):
        sim.faults = Faults(extra_unknown=60.0)
        submit(api, model="doubao-seedance-1-0-pro", seconds="5")
        subscription, usage, credits = _balances(api)
    assert subscription == _subscription(unit(1_000_000))
    assert usage == {"object": "list", "total_usage": unit(300_000) * 100}
    assert credits == {"object": "credit_summary", "data": {"total_usage": unit(700_000)}}


def test_the_balance_routes_want_the_key(tmp_path: Path) -> None:
    """Without the key: 401, as the other /v1 routes."""
    with own_simulator(tmp_path, balance_usd=1.0) as (sim, _):
        assert httpx.get(f"{sim.base_url}{CREDITS}").status_code == 401
