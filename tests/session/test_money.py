"""The money checks before a run (session.money), the prices' cache and the plan's costs
(session.pricing), and the announcement's figures, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdpipe.client.balance import Balance
from rdpipe.plan import Plan, plan_run
from rdpipe.prices import BY_TOKENS, Currency, ModelPrice, PriceBook, ShotCost
from rdpipe.render import RenderedShot
from rdpipe.request import GenerationRequest, LocalFile
from rdpipe.session.events import PlanAnnounced
from rdpipe.session.money import (
    BalanceTooLow,
    CostLimit,
    CostOverBudget,
    CostUnchecked,
    check_balance,
    check_costs,
)
from rdpipe.session.pricing import (
    BalanceUnread,
    PlanMoney,
    Prices,
    PricesUnavailable,
    Reading,
    priced,
)

SD2 = "doubao-seedance-2-0-720p"
#: 720p 16:9 at ratio 10: 21,600 tokens a second, 216,000 quota units.
PER_SECOND = 216_000
BOOK = PriceBook(
    "v 1/2",
    {
        SD2: ModelPrice(SD2, BY_TOKENS, 10.0, 0.0),
        "tiered": ModelPrice("tiered", BY_TOKENS, 1.0, 0.0, tiered=True),
    },
)
USD = Currency()
PRICES = Prices("relay.test:8443", BOOK, USD)
LIMIT = CostLimit(2.0, "--max-cost")


def _video(seconds: float) -> LocalFile:
    return LocalFile(
        kind="video", role="reference_video", path=Path("v.mp4"), shown="v.mp4", size=1,
        md5="0" * 32, sha256="1" * 64, extension="mp4", content_type="video/mp4",
        send_as="hosted", duration=seconds,
    )  # fmt: skip


def _plan(*requests: GenerationRequest) -> Plan:
    shots = [RenderedShot(i, f"s{i}", request) for i, request in enumerate(requests)]
    return plan_run("film", shots)


def test_an_expected_cost_above_the_budget_names_both_figures() -> None:
    plan = _plan(GenerationRequest(SD2, "a", "5"))  # $2.16
    with pytest.raises(CostOverBudget) as caught:
        check_costs(plan, [LIMIT], PRICES)
    assert caught.value.message == (
        "this run's expected cost is $2.16 (pre-charge $2.16), above the budget of $2.00 "
        "(--max-cost); nothing was submitted"
    )


def test_a_precharge_alone_above_the_budget_says_so() -> None:
    """A 2 s video reference: expected (4 + 2) s = $2.59, pre-charge (4 + 15) s = $8.21."""
    plan = _plan(GenerationRequest(SD2, "a", "4").with_content([_video(2.0)]))
    check_costs(plan, [CostLimit(9.0, "budget: in film.yaml")], PRICES)
    with pytest.raises(CostOverBudget) as caught:
        check_costs(plan, [CostLimit(5.0, "budget: in film.yaml")], PRICES)
    assert caught.value.message == (
        "this run's pre-charge is $8.21, above the budget of $5.00 (budget: in film.yaml), "
        "though its expected cost is $2.59: the relay holds each task's pre-charge, an upper "
        "bound, until the task settles; nothing was submitted"
    )


def test_a_budget_in_yuan_is_compared_in_yuan() -> None:
    """$2.16 is ¥15.77 at 7.3 yuan a dollar."""
    yuan = Prices("relay.test", BOOK, Currency("CNY", 500_000, 7.3))
    plan = _plan(GenerationRequest(SD2, "a", "5"))
    check_costs(plan, [CostLimit(15.8, "--max-cost")], yuan)
    with pytest.raises(CostOverBudget, match=r"expected cost is ¥15\.77 .* budget of ¥15\.70"):
        check_costs(plan, [CostLimit(15.7, "--max-cost")], yuan)


def test_a_cost_budget_that_cannot_be_checked_refuses_the_run() -> None:
    plan = _plan(GenerationRequest(SD2, "a", "5"), GenerationRequest("tiered", "b", "5"))
    with pytest.raises(CostUnchecked) as caught:
        check_costs(plan, [LIMIT], PRICES)
    assert caught.value.message == (
        "relay.test:8443's price list does not price tiered, so the cost budget of $2.00 "
        "(--max-cost) cannot be checked; nothing was submitted"
    )
    unread = PricesUnavailable("relay.test", "no answer")
    with pytest.raises(CostUnchecked) as caught:
        check_costs(plan, [CostLimit(2.5, "--max-cost")], unread)
    assert caught.value.message == (  # the currency is not known: the budget says so
        "prices could not be read from relay.test (no answer), so the cost budget of 2.5 in "
        "the account's display currency (--max-cost) cannot be checked; nothing was submitted"
    )


def test_a_cost_just_above_the_budget_shows_enough_decimals_to_tell_them_apart() -> None:
    """5 s 720p = $2.16 (1,080,000 units); a budget of $2.159 is 1,079,500 units."""
    plan = _plan(GenerationRequest(SD2, "a", "5"))
    with pytest.raises(CostOverBudget) as caught:
        check_costs(plan, [CostLimit(2.159, "--max-cost")], PRICES)
    assert caught.value.message == (
        "this run's expected cost is $2.160 (pre-charge $2.160), above the budget of $2.159 "
        "(--max-cost); nothing was submitted"
    )


def test_a_plan_that_generates_nothing_passes_any_cost_budget() -> None:
    plan = _plan(GenerationRequest(SD2, "a", "5"))
    cached = Plan("film", [], {})
    check_costs(cached, [CostLimit(0.01, "--max-cost")], None)
    check_costs(plan, [], PricesUnavailable("relay.test", "down"))


def test_the_balance_refuses_precharges_above_it_and_passes_an_unlimited_key() -> None:
    plan = _plan(GenerationRequest(SD2, "a", "5"))  # pre-charge $2.16
    low = Reading(PRICES, Balance(2.15, 1.0, False, "credits"))
    with pytest.raises(BalanceTooLow) as caught:
        check_balance(plan, low)
    assert caught.value.message.startswith(
        "this run's pre-charges come to $2.16, above the balance of $2.15 left on the account "
        "(as credits reports it)"
    )
    assert check_balance(plan, Reading(PRICES, Balance(2.16, None, False, "credits"))) is None
    assert check_balance(plan, Reading(PRICES, Balance(None, 9.0, True, "credits"))) is None
    assert check_balance(plan, Reading(PRICES)) is None  # not asked (no key)


def test_a_negative_balance_shows_its_sign_before_the_symbol() -> None:
    plan = _plan(GenerationRequest(SD2, "a", "5"))
    with pytest.raises(BalanceTooLow) as caught:
        check_balance(plan, Reading(PRICES, Balance(-4.0, 14.0, False, "billing/subscription")))
    assert caught.value.message.startswith(
        "this run's pre-charges come to $2.16, above the balance of -$4.00 left on the account"
    )


def test_in_tokens_a_balance_past_the_unlimited_mark_is_compared() -> None:
    """new-api's 100,000,000 means "no limit" in dollars; in tokens it is $200, and 125,000,000
    tokens ($250) is a balance: a run pre-charging more is refused up front (B1 round 18)."""
    tokens = Prices("relay.test", BOOK, Currency("TOKENS", 500_000, 1.0))
    plan = _plan(*(GenerationRequest(SD2, str(i), "15") for i in range(40)))  # 129,600,000
    read = Balance(None, 0.0, True, "billing/subscription", marker=125_000_000)
    with pytest.raises(BalanceTooLow) as caught:
        check_balance(plan, Reading(tokens, read))
    assert caught.value.message.startswith(
        "this run's pre-charges come to 129,600,000 tokens, above the balance of 125,000,000 "
        "tokens left on the account (as billing/subscription reports it)"
    )
    exact = Balance(None, 0.0, True, "billing/subscription", marker=100_000_000)
    assert check_balance(plan, Reading(tokens, exact)) is None  # the mark itself: unlimited
    dollars = Balance(None, 0.0, True, "billing/subscription", marker=125_000_000)
    assert check_balance(plan, Reading(PRICES, dollars)) is None  # $125,000,000: unlimited


def test_a_balance_that_cannot_be_read_is_a_note_and_the_run_goes_on() -> None:
    plan = _plan(GenerationRequest(SD2, "a", "5"))
    note = check_balance(plan, Reading(PRICES, BalanceUnread("credits: 获取配额失败")))
    assert note == (
        "the balance could not be read (credits: 获取配额失败); the run goes on, and RelayDance "
        "refuses a submit the balance cannot cover (insufficient_user_quota)"
    )


def test_priced_jobs_carry_their_estimate_and_plan_money_totals_the_jobs_to_generate() -> None:
    a = GenerationRequest(SD2, "a", "5")
    plan = _plan(a, GenerationRequest(SD2, "b", "4"), a)  # s2 reuses s0's clip
    jobs = priced(plan, PRICES).jobs
    assert [job.cost for job in jobs] == [
        ShotCost(5 * PER_SECOND, 5 * PER_SECOND),
        ShotCost(4 * PER_SECOND, 4 * PER_SECOND),
        ShotCost(5 * PER_SECOND, 5 * PER_SECOND),
    ]
    assert priced(plan, PricesUnavailable("h", "r")) is plan
    money = PlanMoney.of(plan, PRICES)
    assert money.billed(jobs[2]) is None  # reused: not billed by this run
    assert money.costs.total == ShotCost(9 * PER_SECOND, 9 * PER_SECOND)
    assert money.by_model(plan) == {SD2: ShotCost(9 * PER_SECOND, 9 * PER_SECOND)}
    assert money.amounts(money.costs.total) == {
        "precharge": 3.888, "expected_cost": 3.888,
        "precharge_quota": 1_944_000, "expected_quota": 1_944_000,
    }  # fmt: skip


def test_the_announcement_gives_both_totals_in_the_display_currency() -> None:
    cost = ShotCost(precharge=2_700_000, expected=1_080_000)
    online = PlanAnnounced("film", 2, 10, 0, 1, offline=False, cost=cost, currency=USD)
    assert online.message == (
        "film: 2 to generate (10 s submitted to RelayDance, expected $2.16, pre-charge $5.40; "
        "failed tasks are refunded), 0 to resume, 1 cached"
    )
    offline = PlanAnnounced("film", 2, 10, 0, 1, offline=True, cost=cost, currency=USD,
                            unpriced=("tiered",))  # fmt: skip
    assert offline.message == (
        "film: 2 to generate (10 s on the offline simulator, free; at its prices: expected "
        "$2.16, pre-charge $5.40 without tiered (not priced)), 1 cached"  # offline: no resumes
    )
    seconds = PlanAnnounced("film", 2, 10, 0, 1, offline=False)
    assert seconds.message == (
        "film: 2 to generate (10 s submitted to RelayDance; failed tasks are refunded), 0 to "
        "resume, 1 cached"
    )
