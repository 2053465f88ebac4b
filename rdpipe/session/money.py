"""A run's money checks before its first submit: the cost budgets, and the balance.

- ``budget: {cost: 20}`` in the file and ``--max-cost 20`` (in the account's display currency)
  refuse a run whose expected cost, or whose pre-charge, is above them
  (:class:`CostOverBudget`); when the prices could not be read, or a model to generate is not
  priced, the budget cannot be checked and the run is refused too (:class:`CostUnchecked`).
- The balance: a run whose pre-charges come to more than the account's remaining balance is
  refused (:class:`BalanceTooLow`), since the relay would refuse the submits past it (403
  ``insufficient_user_quota``) half-way through the run. An unlimited key passes; a balance
  that cannot be read is a note, and the run goes on.

Every refusal is exit 2 with nothing submitted. Amounts are compared in quota units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdpipe.costs import PlanCosts
from rdpipe.errors import ExitCode, RdpipeError
from rdpipe.hints import Suggestion
from rdpipe.model.budget import cost_of
from rdpipe.prices import Currency
from rdpipe.session.pricing import (
    BalanceUncompared,
    BalanceUnread,
    PriceReading,
    Prices,
    Reading,
)

if TYPE_CHECKING:
    from rdpipe.plan import Plan
    from rdpipe.prepare.pipeline import PreparedPipeline
    from rdpipe.session.settings import RunSettings

#: What to do about a cost above a budget.
_OVER_HINT = Suggestion.of(
    "plan", "Raise the budget, or run fewer shots (`{0}` shows what each costs)."
)


@dataclass(frozen=True)
class CostLimit:
    """A cost budget: ``amount`` in the display currency, and where it was set (``--max-cost``,
    ``budget: in film.yaml``)."""

    amount: float
    source: str


class CostOverBudget(RdpipeError):
    """The run's expected cost or its pre-charge is above a cost budget; nothing was sent."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, costs: PlanCosts, currency: Currency, limit: CostLimit) -> None:
        quota = currency.quota_of(limit.amount)
        over = costs.total.expected if costs.total.expected > quota else costs.total.precharge
        # As many decimals as tell the figure above the budget from it ($1.750 above $1.749).
        shown, budget = currency.show_apart(currency.amount(over), currency.amount(quota))
        expected = shown if over == costs.total.expected else currency.show(costs.total.expected)
        precharge = shown if over == costs.total.precharge else currency.show(costs.total.precharge)
        if costs.total.expected > quota:
            said = (
                f"this run's expected cost is {expected} (pre-charge {precharge}), above the "
                f"budget of {budget} ({limit.source}); nothing was submitted"
            )
        else:
            said = (
                f"this run's pre-charge is {precharge}, above the budget of {budget} "
                f"({limit.source}), though its expected cost is {expected}: the relay holds "
                "each task's pre-charge, an upper bound, until the task settles; nothing was "
                "submitted"
            )
        super().__init__(said, suggestion=_OVER_HINT)


class CostUnchecked(RdpipeError):
    """A cost budget is set but the run's cost is not known; nothing was sent."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, limit: CostLimit, why: str, currency: Currency | None = None) -> None:
        budget = (
            currency.show_amount(limit.amount)
            if currency is not None
            else f"{limit.amount:g} in the account's display currency"
        )
        super().__init__(
            f"{why}, so the cost budget of {budget} ({limit.source}) cannot be "
            "checked; nothing was submitted",
            hint="Run again when the relay's prices can be read, or set no cost budget to run "
            "on the seconds budget alone.",
        )


class BalanceTooLow(RdpipeError):
    """The run's pre-charges are above the account's remaining balance; nothing was sent."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, precharge: int, remaining: int, currency: Currency, source: str) -> None:
        held, left = currency.show_apart(currency.amount(precharge), currency.amount(remaining))
        super().__init__(
            f"this run's pre-charges come to {held}, above the balance of "
            f"{left} left on the account (as {source} reports it): the relay "
            "would refuse the submits past it (insufficient_user_quota); nothing was submitted",
            suggestion=Suggestion.of(
                "plan",
                "Top up the balance, or run fewer shots at a time (`{0}` shows each shot's "
                "pre-charge).",
            ),
        )


def cost_limits(prepared: PreparedPipeline, settings: RunSettings) -> list[CostLimit]:
    """The run's cost budgets: ``--max-cost``, then ``budget: {cost: ...}`` in the file."""
    written = cost_of(prepared.loaded.pipeline.budget)
    limits = [
        (settings.max_cost, "--max-cost"),
        (written, f"budget: in {prepared.loaded.shown_as}"),
    ]
    return [CostLimit(amount, source) for amount, source in limits if amount is not None]


def check_costs(plan: Plan, limits: list[CostLimit], prices: PriceReading | None) -> None:
    """Refuse the run when a cost budget in ``limits`` is exceeded by the expected cost or the
    pre-charge of the jobs ``plan`` generates, or cannot be checked: ``prices`` were not read
    (``None``: not asked for), or a model to generate is not priced. A plan that generates
    nothing costs nothing. Raises :class:`CostUnchecked` or :class:`CostOverBudget`."""
    if not limits or not plan.generations:
        return
    if not isinstance(prices, Prices):
        why = "the prices were not read" if prices is None else prices.unread
        raise CostUnchecked(limits[0], why)
    costs = prices.costs(plan)
    if costs.unpriced:
        models = ", ".join(costs.unpriced)
        raise CostUnchecked(
            limits[0], f"{prices.host}'s price list does not price {models}", prices.currency
        )
    for limit in limits:
        quota = prices.currency.quota_of(limit.amount)
        if costs.total.expected > quota or costs.total.precharge > quota:
            raise CostOverBudget(costs, prices.currency, limit)


def check_balance(plan: Plan, reading: Reading) -> str | None:
    """Refuse the run when the pre-charges of the jobs ``plan`` generates are above the
    account's remaining balance; an unlimited key passes. Returns a note when the balance was
    asked for and could not be read, or could not be compared because the prices were not read
    (the run goes on), else ``None``. Raises
    :class:`BalanceTooLow`."""
    prices, balance = reading.prices, reading.balance
    if isinstance(balance, BalanceUncompared) and plan.generations:
        return (
            f"the balance was not compared with this run's pre-charges ({balance.reason}); "
            "the run goes on, and RelayDance refuses a submit the balance cannot cover "
            "(insufficient_user_quota)"
        )
    if balance is None or isinstance(balance, BalanceUncompared) or not plan.generations:
        return None
    if not isinstance(prices, Prices):
        return None
    if isinstance(balance, BalanceUnread):
        return (
            f"the balance could not be read ({balance.reason}); the run goes on, and RelayDance "
            "refuses a submit the balance cannot cover (insufficient_user_quota)"
        )
    balance = balance.in_unit(prices.currency)  # in tokens, 100,000,000+ is a balance
    remaining = balance.remaining_quota(prices.currency)
    if balance.unlimited or remaining is None:
        return None
    precharge = prices.costs(plan).total.precharge
    if precharge > remaining:
        raise BalanceTooLow(precharge, remaining, prices.currency, balance.source)
    return None
