"""What each take cost, converted with the unit the relay stated: the lock file's cost, the
manifest's fields, and a reused clip keeping the cost it was generated with."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rdpipe.plan import plan_run
from rdpipe.prepare.pipeline import prepare_pipeline
from rdpipe.prices import Currency, ShotCost
from rdpipe.request import GenerationRequest
from rdpipe.session.bills import (
    NO_BILL,
    TakeBill,
    bill_of_estimate,
    bill_of_task,
    costed,
    take_bills,
    take_cost,
)
from rdpipe.state import ClipFile, ShotLock, StateStore, TakeCost, TakeLock, TaskRecord

QUOTA = 1_093_750  # the captured 5 s 720p task of relaydance-api.md §12


def _task(**changes: object) -> TaskRecord:
    task = TaskRecord(
        task_id="task_a", intent_id=1, key="k" * 64, shot_id="a", take=1, attempt=1,
        model="m", submitted_at=1.0, state="succeeded", progress=100, error_code=None,
        error_message=None, seed=1, duration=5.0, updated_at=2.0, finished_at=2.0,
        run_id=1, precharge_quota=1_500_000, expected_quota=1_205_000, settled_quota=QUOTA,
        currency="USD", quota_per_unit=500_000, currency_rate=1.0,
    )  # fmt: skip
    return dataclasses.replace(task, **changes)


@pytest.mark.parametrize(
    ("currency", "rate", "settled", "expected", "lock_rate"),
    [
        ("USD", 1.0, 2.1875, 2.41, None),
        ("CNY", 7.3, 15.96875, 17.593, 7.3),
        ("TOKENS", 1.0, 1_093_750.0, 1_205_000.0, None),
    ],
)
def test_a_settled_task_is_converted_with_its_runs_unit(
    currency: str, rate: float, settled: float, expected: float, lock_rate: float | None
) -> None:
    """Dollars are quota / quota_per_unit, yuan that times the rate (kept in the lock file),
    tokens the quota itself."""
    task = _task(currency=currency, currency_rate=rate)
    assert take_cost(task) == TakeCost(currency, settled, QUOTA, 500_000, expected, lock_rate)
    bill = bill_of_task(task)
    assert (bill.currency, bill.settled, bill.expected, bill.refunded) == (
        currency, settled, expected, False,
    )  # fmt: skip


def test_a_task_sent_without_prices_uses_new_apis_defaults() -> None:
    """No currency recorded (prices unreadable in that run): USD at 500,000 units a dollar."""
    task = _task(currency=None, quota_per_unit=None, currency_rate=None)
    cost = take_cost(task)
    assert cost is not None and (cost.currency, cost.settled) == ("USD", 2.1875)


def test_a_failed_task_is_refunded_and_has_no_lock_cost() -> None:
    """A failed task settles 0 (refunded in full) whatever the relay said; one still running
    has no settled charge yet."""
    failed = bill_of_task(_task(state="failed", settled_quota=None))
    assert (failed.refunded, failed.settled, failed.settled_quota) == (True, 0.0, 0)
    assert failed.precharge == 3.0
    running = bill_of_task(_task(state="running", settled_quota=None))
    assert (running.refunded, running.settled) == (False, None)
    # The relay did not say (no usable quota): the lock keeps the expected figure, settled null.
    assert take_cost(_task(settled_quota=None)) == TakeCost(
        "USD", None, None, 500_000.0, expected=2.41
    )
    assert take_cost(_task(settled_quota=None, expected_quota=None)) is None  # nothing known


def test_manifest_fields_of_an_estimate_and_of_nothing() -> None:
    """A take not submitted shows its estimate; one with nothing known has null figures."""
    bill = bill_of_estimate(ShotCost(1_000_000, 750_000), Currency("CNY", 500_000, 7.0))
    assert bill.manifest_fields() == {
        "currency": "CNY", "precharge": 14.0, "expected_cost": 10.5, "settled_cost": None,
        "refunded": False, "precharge_quota": 1_000_000, "expected_quota": 750_000,
        "settled_quota": None,
    }  # fmt: skip
    assert {**TakeBill("").manifest_fields(), "currency": None} == NO_BILL


def _lock(cost: TakeCost | None, task_id: str = "task_a") -> ShotLock:
    take = TakeLock(1, task_id, "clips/a/1.mp4", "ab" * 32, cost=cost)
    return ShotLock("a", "k" * 64, "m", (take,))


def test_a_reused_clip_keeps_the_cost_it_was_generated_with() -> None:
    """The lock file's cost for the same task wins over the state's (another currency now);
    a new task takes the state's; a take the state knows nothing of stays without one."""
    generated = TakeCost("USD", 2.1875, QUOTA, 500_000, 2.41)
    now_in_yuan = {"task_a": _task(currency="CNY", currency_rate=7.3)}
    assert costed(_lock(None), now_in_yuan, _lock(generated)) == _lock(generated)
    fresh = costed(_lock(None), {"task_a": _task()}, _lock(generated, task_id="task_old"))
    assert fresh is not None and fresh.takes[0].cost == generated
    assert costed(_lock(None), {}, None) == _lock(None)
    assert costed(None, {}, _lock(generated)) is None


def test_take_bills_reads_the_state_and_the_lock(tmp_path: Path) -> None:
    """The manifest's bills: a submitted take's from its task (currency of its run), a
    restored one's from the lock file's cost, one not sent from its estimate."""
    path = tmp_path / "film.yaml"
    path.write_text(
        "version: 1\nname: film\nmodel: doubao-seedance-2-0-480p\n"
        "defaults: {seconds: 4, ratio: '16:9'}\nshots:\n"
        "  - {id: a, prompt: one}\n  - {id: b, prompt: two}\n  - {id: c, prompt: three}\n"
    )
    prepared = prepare_pipeline(path)
    plan = plan_run(prepared.name, prepared.shots)
    plan = dataclasses.replace(plan, jobs=[job.with_cost(ShotCost(400, 300)) for job in plan.jobs])
    a, b, c = plan.jobs
    request = GenerationRequest("m", "p", "4")
    with StateStore.open(tmp_path / "state.db", pipeline="film", clock=lambda: 5.0) as store:
        store.use_currency(Currency("CNY", 500_000, 7.0))
        intent = store.record_intent(key=a.key, shot_id="a", take=1, request=request,
                                     cost=ShotCost(500_000, 400_000))  # fmt: skip
        store.record_submitted(intent, "task_a")
        store.record_status("task_a", state="succeeded", settled_quota=250_000)
        store.record_restored(key=b.key, shot_id="b", take=1, request=request, task_id="task_b",
                              clip=ClipFile("clips/b/1.mp4", 1, "cd" * 32), seed=1,
                              duration=4.0)  # fmt: skip
        lock = [_lock(TakeCost("USD", 1.5, 750_000, 500_000), task_id="task_b")]
        task_ids = {a.shot.label: "task_a", b.shot.label: "task_b", c.shot.label: None}
        bills = take_bills(store, plan, task_ids, lock)
    assert bills[a.shot.label] == TakeBill("CNY", 7.0, 5.6, 3.5, 500_000, 400_000, 250_000)
    assert bills[b.shot.label] == TakeBill("USD", settled=1.5, settled_quota=750_000)
    assert bills[c.shot.label] == TakeBill("CNY", 0.0056, 0.0042, None, 400, 300, None)
