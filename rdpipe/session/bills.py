"""What each take cost, in the display currency: the figures the lock file, the manifest and
``rdpipe cost`` write (issue 15, "the bill after").

The run state keeps quota units (:class:`~rdpipe.state.TaskRecord`): the estimate a submit was
sent with, the charge the relay settled (the task's ``data.quota``), and the display currency the
run that sent it saw. Here they are converted "with the unit the relay states"
(:meth:`rdpipe.prices.Currency.amount`): quota / ``quota_per_unit`` US dollars, times the
exchange rate for yuan; raw quota units for an account shown in tokens. A task sent while the
prices could not be read is converted with new-api's defaults (USD, 500,000 units a dollar). A
failed task is refunded in full (relaydance-api.md §12): it settles 0 whatever the relay says.
Figures are rounded to 6 decimals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from rdpipe.plan import Plan
from rdpipe.prices import Currency, ShotCost
from rdpipe.state import (
    DisplayCurrency,
    ShotLock,
    StateStore,
    TakeCost,
    TakeLock,
    TaskRecord,
)

#: Decimals kept of an amount in the display currency.
DECIMALS = 6


def currency_of(unit: DisplayCurrency | None) -> Currency:
    """``unit`` as a :class:`Currency`; new-api's defaults (USD) when it is not known."""
    if unit is None:
        return Currency()
    return Currency(unit.code, unit.quota_per_unit, unit.rate)


class RecordedUnit(Protocol):
    """The display currency a run saw, as the state records it (a task, clip or run record)."""

    @property
    def currency(self) -> str | None: ...

    @property
    def quota_per_unit(self) -> float | None: ...

    @property
    def currency_rate(self) -> float | None: ...


class RecordedCharge(RecordedUnit, Protocol):
    """A task's charge as the state records it (:class:`TaskRecord`, :class:`ClipRecord`)."""

    @property
    def expected_quota(self) -> int | None: ...

    @property
    def settled_quota(self) -> int | None: ...

    @property
    def restored_cost(self) -> TakeCost | None: ...


def task_currency(task: RecordedUnit) -> Currency:
    """The display currency the run that sent ``task`` saw (a run's own, for a
    :class:`RunRecord`), else new-api's defaults."""
    if task.currency is None or task.quota_per_unit is None:
        return Currency()
    return Currency(task.currency, task.quota_per_unit, task.currency_rate or 1.0)


def amount(currency: Currency, quota: int | None) -> float | None:
    """``quota`` units in ``currency``, rounded; ``None`` stays ``None``."""
    return None if quota is None else round(currency.amount(quota), DECIMALS)


@dataclass(frozen=True)
class TakeBill:
    """What one take (one task) cost: amounts in ``currency`` (its code) and in quota units.

    ``precharge``: held from the balance at submit; ``expected``: the estimate; ``settled``:
    what the relay charged once the task finished (``None``: not finished, or not stated).
    ``refunded``: the task failed and its pre-charge came back (``settled`` is then 0).
    """

    currency: str
    precharge: float | None = None
    expected: float | None = None
    settled: float | None = None
    precharge_quota: int | None = None
    expected_quota: int | None = None
    settled_quota: int | None = None
    refunded: bool = False

    def manifest_fields(self) -> dict[str, Any]:
        """The take's fields in ``manifest.json``."""
        return {
            "currency": self.currency,
            "precharge": self.precharge,
            "expected_cost": self.expected,
            "settled_cost": self.settled,
            "refunded": self.refunded,
            "precharge_quota": self.precharge_quota,
            "expected_quota": self.expected_quota,
            "settled_quota": self.settled_quota,
        }


#: A take's fields in ``manifest.json`` when nothing is known of its cost.
NO_BILL: dict[str, Any] = {name: None for name in TakeBill("").manifest_fields()} | {
    "refunded": False
}


def bill_of_task(task: TaskRecord, currency: Currency | None = None) -> TakeBill:
    """A recorded task's bill, converted with ``currency`` (default: the one its run saw)."""
    currency = currency or task_currency(task)
    refunded = task.state == "failed"
    settled = 0 if refunded else task.settled_quota if task.state == "succeeded" else None
    return TakeBill(
        currency=currency.code,
        precharge=amount(currency, task.precharge_quota),
        expected=amount(currency, task.expected_quota),
        settled=amount(currency, settled),
        precharge_quota=task.precharge_quota,
        expected_quota=task.expected_quota,
        settled_quota=settled,
        refunded=refunded,
    )


def bill_of_estimate(cost: ShotCost, currency: Currency) -> TakeBill:
    """The bill of a take not submitted yet: its estimate only."""
    return TakeBill(
        currency=currency.code,
        precharge=amount(currency, cost.precharge),
        expected=amount(currency, cost.expected),
        precharge_quota=cost.precharge,
        expected_quota=cost.expected,
    )


def bill_of_lock(cost: TakeCost) -> TakeBill:
    """The bill the lock file records for a take (made here before, or by a teammate)."""
    return TakeBill(
        currency=cost.currency,
        expected=cost.expected,
        settled=cost.settled,
        settled_quota=cost.quota,
    )


def take_cost(task: RecordedCharge) -> TakeCost | None:
    """The cost of a task that made a clip, as the lock file records it: for a clip restored,
    the cost it was restored with; when the relay stated no settled charge, the expected one
    with ``settled``/``quota`` ``None``; ``None`` when neither is known."""
    if task.restored_cost is not None:
        return task.restored_cost
    if task.settled_quota is None and task.expected_quota is None:
        return None
    currency = task_currency(task)
    return TakeCost(
        currency=currency.code,
        settled=amount(currency, task.settled_quota),
        quota=task.settled_quota,
        quota_per_unit=currency.quota_per_unit,
        expected=amount(currency, task.expected_quota),
        rate=currency.rate if currency.code == "CNY" else None,
    )


def costed(
    entry: ShotLock | None, tasks: Mapping[str, TaskRecord], before: ShotLock | None
) -> ShotLock | None:
    """``entry`` with each take's cost: the one the lock file had for the same task (a take
    keeps the cost it was generated with, whatever the currency now), else the one the state
    recorded for its task (``tasks`` by id; for a clip restored, the cost the lock file or the
    shared store's index gave), else none."""
    if entry is None:
        return None
    kept = lock_costs([before] if before is not None else [])
    takes = tuple(_costed_take(take, tasks, kept) for take in entry.takes)
    return replace(entry, takes=takes)


def _costed_take(
    take: TakeLock, tasks: Mapping[str, TaskRecord], kept: Mapping[str, TakeCost]
) -> TakeLock:
    cost = kept.get(take.task_id) or take.cost
    task = tasks.get(take.task_id)
    if cost is None and task is not None:
        cost = take_cost(task)
    return take if cost is take.cost else replace(take, cost=cost)


def lock_costs(entries: Sequence[ShotLock]) -> dict[str, TakeCost]:
    """Each lock take's cost by task id (takes without one left out)."""
    return {t.task_id: t.cost for entry in entries for t in entry.takes if t.cost is not None}


def take_bills(
    store: StateStore,
    plan: Plan,
    task_ids: Mapping[str, str | None],
    lock: Sequence[ShotLock] | None = None,
) -> dict[str, TakeBill]:
    """Each take's bill by label, for the manifest: its task's as the state recorded it (the
    task ``task_ids`` names for the label), else the cost the lock file records for that task
    (a clip restored, not submitted here), else, for a take not submitted, its estimate in the
    currency this command saw. A take with none of these is left out. Blocking (state reads).
    """
    noted = store.currency
    from_lock = lock_costs(lock or ())
    bills: dict[str, TakeBill] = {}
    for job in plan.jobs:
        label = job.shot.label
        task_id = task_ids.get(label)
        task = store.task(task_id) if task_id is not None else None
        if task is not None and (task.key, task.take) != (job.key, job.shot.take):
            task = None  # the id names another shot's task now (issue 10)
        if task is not None and task.restored_cost is not None:
            bills[label] = bill_of_lock(task.restored_cost)
        elif task is not None and (task.run_id is not None or task_id not in from_lock):
            bills[label] = bill_of_task(task)
        elif task_id is not None and task_id in from_lock:
            bills[label] = bill_of_lock(from_lock[task_id])
        elif task_id is None and job.cost is not None and noted is not None:
            bills[label] = bill_of_estimate(job.cost, currency_of(noted))
    return bills
