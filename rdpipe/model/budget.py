"""``budget:``: the most one run may bill, in seconds of generation and in money.

Written as a whole number of seconds (``budget: 300``, as before money was known) or as a
mapping (``budget: {seconds: 300, cost: 20}``); ``cost`` is in the account's display currency
(US dollars, yuan, or tokens, as the relay shows it). No I/O.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The smallest cost budget: one cent (or one token); below it no figure rdpipe shows could
#: tell a run's cost from the budget.
SMALLEST_COST = 0.01

#: The two forms, for messages.
FORMS = "a whole number of seconds (budget: 300) or a mapping (budget: {seconds: 300, cost: 20})"


class Budget(BaseModel):
    """The most one run may bill: seconds of generation, and the cost in the account's display
    currency (checked against both the expected cost and the pre-charge). Either may be left
    out."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    seconds: int | None = Field(
        default=None, ge=1, description="Most billed seconds one run may submit."
    )
    cost: float | None = Field(
        default=None,
        json_schema_extra={"minimum": SMALLEST_COST},  # checked by _large_enough, in words
        description="Most one run may cost, in the account's display currency (USD, CNY or "
        "tokens, as RelayDance shows it): the run is refused when its expected cost or its "
        "pre-charge is above it.",
    )

    @field_validator("cost", mode="before")
    @classmethod
    def _amount(cls, value: object) -> object:
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            return value
        shown = str(value).lower() if isinstance(value, bool) else repr(value)
        raise ValueError(
            f"{shown} is not an amount: write it as a number, like 20 or 7.5, with "
            "no currency sign (it is in the account's display currency)"
        )

    @field_validator("cost", mode="after")
    @classmethod
    def _large_enough(cls, value: float | None) -> float | None:
        problem = None if value is None else cost_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


def cost_problem(amount: float, written: str | None = None) -> str | None:
    """Why ``amount`` cannot be a cost budget (``budget: {cost:}``, ``--max-cost``), in one
    clause quoting it (as ``written``, when given); ``None`` when it can: a finite amount of at
    least :data:`SMALLEST_COST`."""
    shown = written if written is not None else f"{amount:g}"
    if amount != amount or amount in (float("inf"), float("-inf")):
        return f"{shown} is not a finite amount: write a number, like 20 or 7.5"
    if amount <= 0:
        return f"{shown} is not an amount above 0: write a number, like 20 or 7.5"
    if amount < SMALLEST_COST:
        return (
            f"{shown} is below one cent ({SMALLEST_COST}), too small an amount to show or "
            "compare: write a budget of at least 0.01"
        )
    return None


def check_budget_shape(value: object) -> object:
    """A ``budget:`` as written, checked before pydantic reads it: a whole number of seconds
    (at least 1) or a mapping naming ``seconds`` or ``cost``. Raises ``ValueError`` with the
    two forms otherwise (one message, rather than one per form)."""
    if isinstance(value, dict):
        named = {"seconds", "cost"}
        if not set(value) - named and all(value.get(name) is None for name in named):
            raise ValueError(f"name seconds, cost or both: write {FORMS}")
        return value
    if value is None:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError(f"{value} is below the minimum of 1 second")
        return value
    shown = str(value).lower() if isinstance(value, bool) else repr(value)
    raise ValueError(f"{shown} is not a budget: write {FORMS}")


def seconds_of(budget: int | Budget | None) -> int | None:
    """The budget's limit in billed seconds (``None``: none)."""
    return budget.seconds if isinstance(budget, Budget) else budget


def cost_of(budget: int | Budget | None) -> float | None:
    """The budget's limit in the display currency (``None``: none)."""
    return budget.cost if isinstance(budget, Budget) else None
