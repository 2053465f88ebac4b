"""The simulated account: its balance, what each task was charged, and the balance routes.

A submit holds the task's pre-charge from the balance (:meth:`Account.hold`, refused when less
remains); when the task finishes the hold is settled to the real charge, the difference given
back (:meth:`Account.settle`), or refunded in full when it failed (:meth:`Account.refund`),
as the relay does (relaydance-api.md §12). Amounts are quota units.

The three balance routes answer in new-api's shapes and display unit (§13;
:func:`rdpipe.sim.pricing.display_amount`): ``/v1/dashboard/billing/subscription``
(``hard_limit_usd`` = remaining + used), ``/v1/dashboard/billing/usage`` (``total_usage`` = used
x 100) and ``/v1/credits`` (``data.total_usage`` = remaining). A key without a limit reports
100,000,000. Tests read the account from another thread: every access takes a lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

from rdpipe.sim.pricing import QUOTA_PER_UNIT, display_amount

JsonObject = dict[str, Any]

UNLIMITED_AMOUNT = 100_000_000
#: What new-api answers, with HTTP 200, when it cannot read the quota (§13).
BALANCE_ERROR: JsonObject = {"error": {"message": "获取配额失败", "type": "upstream_error"}}


@dataclass(frozen=True)
class Charge:
    """What one task was charged, in quota units.

    ``precharge``: held at submit. ``settled``: the final charge once the task finished
    (``None`` while it runs; 0 for a failure, which is ``refunded``).
    """

    task_id: str
    model: str
    precharge: int
    settled: int | None = None
    refunded: bool = False

    @property
    def held(self) -> bool:
        """Whether the pre-charge is still held (the task has not finished)."""
        return self.settled is None


class Account:
    """One account's balance; ``balance_usd=None`` has no limit (it still counts what is used)."""

    def __init__(self, balance_usd: float | None) -> None:
        self._lock = threading.Lock()
        self._remaining = None if balance_usd is None else round(balance_usd * QUOTA_PER_UNIT)
        self._used = 0
        self._charges: dict[str, Charge] = {}

    @property
    def remaining(self) -> int | None:
        """Quota units left (``None``: no limit)."""
        with self._lock:
            return self._remaining

    @property
    def used(self) -> int:
        """Quota units spent, pre-charges still held included."""
        with self._lock:
            return self._used

    def hold(self, task_id: str, model: str, precharge: int) -> bool:
        """Take ``precharge`` from the balance for a new task; ``False`` (nothing taken) when
        less than that remains."""
        with self._lock:
            if self._remaining is not None:
                if precharge > self._remaining:
                    return False
                self._remaining -= precharge
            self._used += precharge
            self._charges[task_id] = Charge(task_id, model, precharge)
            return True

    def settle(self, task_id: str, quota: int) -> None:
        """Settle a held task at ``quota``: the difference from its pre-charge goes back."""
        self._close(task_id, quota, refunded=False)

    def refund(self, task_id: str) -> None:
        """Give a failed task's pre-charge back in full."""
        self._close(task_id, 0, refunded=True)

    def held(self) -> list[str]:
        """Ids of the tasks whose pre-charge is still held, oldest first."""
        with self._lock:
            return [charge.task_id for charge in self._charges.values() if charge.held]

    def charges(self) -> list[Charge]:
        """Every task's charge, oldest first."""
        with self._lock:
            return list(self._charges.values())

    def _close(self, task_id: str, quota: int, *, refunded: bool) -> None:
        with self._lock:
            charge = self._charges.get(task_id)
            if charge is None or not charge.held:
                return
            back = charge.precharge - quota
            if self._remaining is not None:
                self._remaining += back
            self._used -= back
            self._charges[task_id] = replace(charge, settled=quota, refunded=refunded)


def subscription_document(account: Account, display_currency: str) -> JsonObject:
    """``GET /v1/dashboard/billing/subscription``: ``hard_limit_usd`` = remaining + used."""
    remaining, used = account.remaining, account.used
    amount = (
        float(UNLIMITED_AMOUNT)
        if remaining is None
        else display_amount(remaining + used, display_currency)
    )
    return {
        "object": "billing_subscription",
        "has_payment_method": True,
        "soft_limit_usd": amount,
        "hard_limit_usd": amount,
        "system_hard_limit_usd": amount,
        "access_until": 0,
    }


def usage_document(account: Account, display_currency: str) -> JsonObject:
    """``GET /v1/dashboard/billing/usage``: ``total_usage`` = used x 100 (hundredths)."""
    return {"object": "list", "total_usage": display_amount(account.used, display_currency) * 100}


def credits_document(account: Account, display_currency: str) -> JsonObject:
    """``GET /v1/credits``: ``data.total_usage`` holds the **remaining** amount (§13)."""
    remaining = account.remaining
    if remaining is None:
        return {"object": "credit_summary", "data": {"total_usage": float(UNLIMITED_AMOUNT)}}
    amount = display_amount(remaining, display_currency)
    return {"object": "credit_summary", "data": {"total_usage": amount}}
