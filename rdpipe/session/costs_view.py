"""``rdpipe cost``'s view of what a pipeline cost: the last run (from the run state) and every
take the lock file holds, estimate against settled charge. Reads; never sends or writes.

The last run is the newest command that submitted for the pipeline (:meth:`StateStore.last_run`):
each task it sent, and each task an earlier (interrupted) run sent that it followed to its end
(:meth:`StateStore.tasks_finished_in_run`), in its currency, with the pre-charge and expected
charge it was sent with and what the relay settled; a failed task was refunded (its pre-charge
came back, it settled 0); a task still running holds its pre-charge; a submit that got no
answer may hold one. The lock file holds the
settled cost of each take it names (:class:`~rdpipe.state.TakeCost`), its own or a teammate's,
in the currency of the run that made it. :func:`cost_document` is ``rdpipe cost --json``.

The journal names a take by its shot id and take number: a drafted shot's draft takes, its
final and its regenerations share that id. Each row of the last run is named by the label of
the current pipeline's rendition whose request key and take are the row's
(:func:`rendition_labels`: ``kite:draft#2``, ``kite``, ``kite:vertical``); a key the pipeline
no longer makes (an edited file) keeps the shot id. The lock file's rows are named by their
entry (``kite:draft``, the take number beside it), which says the rendition itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdpipe.prices import Currency
from rdpipe.session.bills import (
    DECIMALS,
    TakeBill,
    amount,
    bill_of_lock,
    bill_of_task,
    task_currency,
)
from rdpipe.state import IntentRecord, LockFile, RunRecord, ShotLock, StatePaths, StateStore

if TYPE_CHECKING:
    from rdpipe.render import RenderedShot

#: A rendition's label by its request key and take (:func:`rendition_labels`).
Labels = Mapping[tuple[str, int], str]

#: What became of a task's charge.
SETTLED = "settled"  # finished: the relay settled it (``settled``)
NOT_STATED = "not stated"  # finished, but the relay said nothing of its charge
REFUNDED = "refunded"  # failed: its pre-charge came back, it cost nothing
HELD = "held"  # still running: its pre-charge is held from the balance
UNKNOWN = "unknown"  # sent, no answer recorded: it may hold a pre-charge

#: Version of the ``rdpipe cost --json`` document.
COST_DOCUMENT_VERSION = 1


@dataclass(frozen=True)
class CostRow:
    """One take's task (or a submit without one) and its :class:`TakeBill`. A lock file's
    row names its entry: ``kite:draft`` for a shot's draft takes (issue 17). ``label``: the
    rendition's label when the pipeline makes the take's key (``kite:draft#2``), else ``""``."""

    shot_id: str
    take: int
    task_id: str | None
    charge: str
    bill: TakeBill
    label: str = ""

    @property
    def name(self) -> str:
        """How the row is shown: its :attr:`label`, else the shot id."""
        return self.label or self.shot_id


@dataclass(frozen=True)
class RunCosts:
    """The last run's submits, in the order sent, in the currency it saw (``currency``; new-api's
    defaults when it could not read prices: ``priced`` is then false)."""

    run: RunRecord
    currency: Currency
    priced: bool
    rows: tuple[CostRow, ...]


@dataclass(frozen=True)
class LockCosts:
    """The lock file's takes with a cost, and those without one (made before rdpipe recorded
    costs, or restored from a store that did not say), in lock file order."""

    rows: tuple[CostRow, ...]
    without_cost: tuple[CostRow, ...]


@dataclass(frozen=True)
class CostView:
    """What ``rdpipe cost`` shows for one pipeline file."""

    pipeline: str
    last_run: RunCosts | None
    lock: LockCosts
    lock_file: Path
    #: Tasks no run sent, so without a cost recorded (made before rdpipe recorded costs, or
    #: restored): they are why a pipeline without a ``last_run`` may have tasks.
    tasks_without_run: int = 0


def rendition_labels(shots: Sequence[RenderedShot]) -> dict[tuple[str, int], str]:
    """Each take's label by its cache key (:func:`rdpipe.plan.shot_keys`) and take number."""
    from rdpipe.plan import shot_keys

    keys = shot_keys(shots)
    return {(keys[shot.label], shot.take): shot.label for shot in shots}


def read_costs(
    pipeline_file: Path, *, offline: bool = False, labels: Labels | None = None
) -> CostView:
    """The costs of ``pipeline_file``'s last run and lock file (``offline``: the offline
    previews' state and lock file), each row of the last run named from ``labels``
    (:func:`rendition_labels` of the pipeline's shots; none: by shot id). A pipeline never
    run has neither: empty.
    Raises :class:`~rdpipe.state.StateError` (an unreadable state or lock file)."""
    labels = labels or {}
    paths = StatePaths.for_pipeline(pipeline_file, offline=offline)
    last_run = None
    without_run = 0
    if paths.database.is_file():
        with StateStore.open(
            paths.database, pipeline=paths.pipeline, clock=time.time, read_only=True
        ) as store:
            last_run = _last_run(store, labels)
            without_run = store.tasks_without_run()
    entries = LockFile(paths.lock_file).read()
    lock = _lock_costs(entries)
    return CostView(paths.pipeline, last_run, lock, paths.lock_file, without_run)


def _last_run(store: StateStore, labels: Labels) -> RunCosts | None:
    run = store.last_run()
    if run is None:
        return None
    currency = task_currency(run)
    # An interrupted run's tasks it resumed, shown in its own currency (one bill, one total).
    followed = store.tasks_finished_in_run(run)
    rows = [CostRow(t.shot_id, t.take, t.task_id, _charge(t.state, t.settled_quota),
                    bill_of_task(t, currency), labels.get((t.key, t.take), ""))
            for t in [*followed, *store.tasks_of_run(run.run_id)]]  # fmt: skip
    unknown = [_unknown_row(i, currency, labels) for i in store.intents_of_run(run.run_id)
               if i.outcome in ("pending", "unknown")]  # fmt: skip
    return RunCosts(run, currency, run.currency is not None, tuple(rows + unknown))


def _charge(state: str, settled_quota: int | None) -> str:
    if state == "failed":
        return REFUNDED
    if state == "succeeded":
        return SETTLED if settled_quota is not None else NOT_STATED
    return HELD


def _unknown_row(intent: IntentRecord, currency: Currency, labels: Labels) -> CostRow:
    bill = TakeBill(
        currency=currency.code,
        precharge=amount(currency, intent.precharge_quota),
        expected=amount(currency, intent.expected_quota),
        precharge_quota=intent.precharge_quota,
        expected_quota=intent.expected_quota,
    )
    label = labels.get((intent.key, intent.take), "")
    return CostRow(intent.shot_id, intent.take, None, UNKNOWN, bill, label)


def _lock_costs(entries: Sequence[ShotLock]) -> LockCosts:
    """The lock file's takes, each named by its entry (``kite:draft``)."""
    rows: list[CostRow] = []
    without: list[CostRow] = []
    for entry in entries:
        for take in entry.takes:
            if take.cost is None:
                without.append(CostRow(entry.name, take.take, take.task_id, NOT_STATED,
                                       TakeBill("")))  # fmt: skip
            else:
                bill = bill_of_lock(take.cost)
                charge = SETTLED if take.cost.settled is not None else NOT_STATED
                rows.append(CostRow(entry.name, take.take, take.task_id, charge, bill))
    return LockCosts(tuple(rows), tuple(without))


@dataclass(frozen=True)
class Totals:
    """Sums over rows of one currency; ``None`` where no row knows the figure.

    ``precharge``: every task's pre-charge; ``expected`` and ``settled``: the tasks that
    settled (so the two compare); ``refunded``: the pre-charges of failed tasks, which came
    back; ``held``: the pre-charges of tasks still running or without an answer.
    """

    currency: str
    takes: int
    precharge: float | None
    expected: float | None
    settled: float | None
    refunded: float | None
    held: float | None
    precharge_quota: int | None
    expected_quota: int | None
    settled_quota: int | None
    refunded_quota: int | None
    held_quota: int | None


def totals(rows: Sequence[CostRow]) -> list[Totals]:
    """The totals of ``rows``, one per currency, in the order the currencies first appear."""
    codes = list(dict.fromkeys(row.bill.currency for row in rows))
    return [_totals(code, [row for row in rows if row.bill.currency == code]) for code in codes]


def _totals(code: str, rows: Sequence[CostRow]) -> Totals:
    bills = [row.bill for row in rows]
    settled = [row.bill for row in rows if row.charge == SETTLED]
    refunded = [row.bill for row in rows if row.charge == REFUNDED]
    held = [row.bill for row in rows if row.charge in (HELD, UNKNOWN)]
    return Totals(
        currency=code,
        takes=len(rows),
        precharge=_amount(b.precharge for b in bills),
        expected=_amount(b.expected for b in settled),
        settled=_amount(b.settled for b in settled),
        refunded=_amount(b.precharge for b in refunded),
        held=_amount(b.precharge for b in held),
        precharge_quota=_quota(b.precharge_quota for b in bills),
        expected_quota=_quota(b.expected_quota for b in settled),
        settled_quota=_quota(b.settled_quota for b in settled),
        refunded_quota=_quota(b.precharge_quota for b in refunded),
        held_quota=_quota(b.precharge_quota for b in held),
    )


def _amount(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(sum(known), DECIMALS) if known else None


def _quota(values: Iterable[int | None]) -> int | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def cost_document(view: CostView) -> dict[str, Any]:
    """``rdpipe cost --json``: ``{"version", "pipeline", "lock_file", "last_run", "lock"}``
    (README, "The bill after"); each take's ``label`` is its row's name (:attr:`CostRow.name`:
    ``kite:draft#2``, else the shot id)."""
    return {
        "version": COST_DOCUMENT_VERSION,
        "pipeline": view.pipeline,
        "lock_file": str(view.lock_file),
        "last_run": None if view.last_run is None else _run_document(view.last_run),
        "lock": {
            "takes": [_row_document(row) for row in view.lock.rows],
            "without_cost": [
                {"shot": r.shot_id, "take": r.take, "task_id": r.task_id}
                for r in view.lock.without_cost
            ],
            "totals": [_totals_document(t) for t in totals(view.lock.rows)],
        },
    }


def _run_document(run: RunCosts) -> dict[str, Any]:
    currency = run.currency
    [total] = totals(run.rows) or [_totals(currency.code, [])]
    return {
        "run_id": run.run.run_id,
        "started_at": run.run.started_at,
        "currency": currency.code,
        "quota_per_unit": currency.quota_per_unit,
        "rate": currency.rate,
        "priced": run.priced,
        "takes": [_row_document(row) for row in run.rows],
        "totals": _totals_document(total),
    }


def _row_document(row: CostRow) -> dict[str, Any]:
    bill = row.bill
    return {
        "shot": row.shot_id,
        "label": row.name,
        "take": row.take,
        "task_id": row.task_id,
        "charge": row.charge,
        "currency": bill.currency,
        "precharge": bill.precharge,
        "expected": bill.expected,
        "settled": bill.settled,
        "refunded": bill.refunded,
        "precharge_quota": bill.precharge_quota,
        "expected_quota": bill.expected_quota,
        "settled_quota": bill.settled_quota,
    }


def _totals_document(total: Totals) -> dict[str, Any]:
    return dict(vars(total))
