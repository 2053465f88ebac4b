"""``rdpipe cost``: the last run's tasks and the lock file's takes, estimate against settled,
read from the state and the lock file alone (built here without a server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.prices import Currency, ShotCost
from rdpipe.request import GenerationRequest
from rdpipe.session.costs_view import cost_document, read_costs
from rdpipe.state import LockFile, ShotLock, StatePaths, StateStore, TakeCost, TakeLock

#: A pipeline file ``rdpipe cost`` loads (it checks its FILE as status does).
PIPELINE = "version: 1\nname: film\nmodel: doubao-seedance-2-0-480p\nshots: [{id: a, prompt: x}]\n"

REQUEST = GenerationRequest("m", "p", "4")
LONG = "a-shot-with-a-rather-long-name-that-needs-folding-in-the-table"


def _state(pipeline: Path) -> StateStore:
    paths = StatePaths.for_pipeline(pipeline)
    paths.state_dir.mkdir(exist_ok=True)
    return StateStore.open(paths.database, pipeline=paths.pipeline, clock=lambda: 1_000.0)


def _submit(store: StateStore, shot: str, task: str | None, cost: ShotCost | None) -> int:
    intent = store.record_intent(key=shot * 4, shot_id=shot, take=1, request=REQUEST, cost=cost)
    if task is not None:
        store.record_submitted(intent, task)
    return intent


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    """A pipeline whose last run sent five submits (an earlier run one more), and whose lock
    file holds takes in two currencies and one without a cost."""
    path = tmp_path / "film.yaml"
    path.write_text(PIPELINE)
    with _state(path) as earlier:
        _submit(earlier, "old", "task_old", ShotCost(9, 9))
    with _state(path) as store:
        store.use_currency(Currency("USD", 500_000, 1.0))
        _submit(store, "a", "task_a", ShotCost(1_000_000, 800_000))
        store.record_status("task_a", state="succeeded", settled_quota=700_000)
        _submit(store, LONG, "task_b", ShotCost(1_000_000, 800_000))
        store.record_status("task_b", state="failed", error_code="E", settled_quota=0)
        _submit(store, "c", "task_c", ShotCost(500_000, 400_000))
        store.record_status("task_c", state="running")
        unknown = _submit(store, "d", None, ShotCost(250_000, 200_000))
        store.record_unknown(unknown, "no answer")
        refused = _submit(store, "e", None, ShotCost(250_000, 200_000))
        store.record_refused(refused, "403")
    takes = [
        ShotLock("a", "a" * 64, "m", (TakeLock(1, "task_a", "clips/a.mp4", "aa" * 32,
                 cost=TakeCost("USD", 1.4, 700_000, 500_000, 1.6)),)),
        ShotLock("f", "f" * 64, "m", (TakeLock(1, "task_f", "clips/f.mp4", "ff" * 32,
                 cost=TakeCost("CNY", 7.3, 500_000, 500_000, None, 7.3)),
                 TakeLock(2, "task_g", "clips/g.mp4", "ee" * 32))),
    ]  # fmt: skip
    LockFile(StatePaths.for_pipeline(path).lock_file).write(takes)
    return path


def test_the_last_run_shows_each_submit_and_its_charge(pipeline: Path) -> None:
    """Settled, refunded (pre-charge back), held (still running), unknown (no answer); a
    refused submit cost nothing and is not shown; the earlier run is not the last."""
    document = cost_document(read_costs(pipeline))
    run = document["last_run"]
    assert (run["currency"], run["quota_per_unit"], run["priced"]) == ("USD", 500_000, True)
    rows = [(r["shot"], r["task_id"], r["charge"], r["settled"], r["refunded"])
            for r in run["takes"]]  # fmt: skip
    assert rows == [
        ("a", "task_a", "settled", 1.4, False),
        (LONG, "task_b", "refunded", 0.0, True),
        ("c", "task_c", "held", None, False),
        ("d", None, "unknown", None, False),
    ]
    assert run["totals"] == {
        "currency": "USD", "takes": 4, "precharge": 5.5, "expected": 1.6, "settled": 1.4,
        "refunded": 2.0, "held": 1.5, "precharge_quota": 2_750_000, "expected_quota": 800_000,
        "settled_quota": 700_000, "refunded_quota": 1_000_000, "held_quota": 750_000,
    }  # fmt: skip


def test_the_lock_shows_every_take_with_totals_per_currency(pipeline: Path) -> None:
    """The lock file's takes with their cost, totals per currency, and the takes without one."""
    lock = cost_document(read_costs(pipeline))["lock"]
    takes = [(t["shot"], t["currency"], t["settled"], t["settled_quota"]) for t in lock["takes"]]
    assert takes == [("a", "USD", 1.4, 700_000), ("f", "CNY", 7.3, 500_000)]
    assert [(t["currency"], t["takes"], t["settled"]) for t in lock["totals"]] == [
        ("USD", 1, 1.4), ("CNY", 1, 7.3),
    ]  # fmt: skip
    assert lock["without_cost"] == [{"shot": "f", "take": 2, "task_id": "task_g"}]


def _cost(*args: str) -> Any:
    return CliRunner().invoke(app, ["cost", *args], env={"COLUMNS": "80"})


def test_cost_prints_tables_that_fit_80_columns(pipeline: Path) -> None:
    """The human form: both tables within 80 columns (a long shot id folds), the refund
    said, figures in the account's currency."""
    result = _cost(str(pipeline))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), result.stdout
    assert "Refunded: 1 failed task, $2.00 of pre-charge returned to the balance." in lines
    assert any("¥7.30" in line for line in lines)
    assert any(line.split()[:2] == ["a", "1"] and "$1.40" in line for line in lines)
    assert "No cost recorded for f take 2" in result.stdout


def test_cost_json_and_a_pipeline_never_run(tmp_path: Path) -> None:
    """Before any run: no last run, an empty lock; --json says so; a missing file exits 2."""
    path = tmp_path / "film.yaml"
    path.write_text(PIPELINE)
    result = _cost(str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "kind": "cost", "version": 1, "pipeline": "film", "lock_file": "film.rdpipe.lock",
        "last_run": None, "lock": {"takes": [], "without_cost": [], "totals": []},
    }  # fmt: skip
    said = _cost(str(path))
    assert "film: no run has submitted anything yet." in said.stdout
    assert _cost(str(tmp_path / "gone.yaml")).exit_code == 2


def test_the_last_run_bills_the_interrupted_runs_tasks_it_resumed(tmp_path: Path) -> None:
    """Run 1 sent two tasks and was stopped (Ctrl-C) before they finished; run 2 sent a third
    and followed the first two to their end: its bill has all three, so its total is what the
    relay charged for them (B1 round 18: "Last run" left them out, 38% low). A task run 1
    finished before run 2 began is run 1's alone."""
    path = tmp_path / "film.yaml"
    path.write_text(PIPELINE)
    paths = StatePaths.for_pipeline(path)
    paths.state_dir.mkdir()
    now = [1_000.0]

    def _open() -> StateStore:
        return StateStore.open(paths.database, pipeline=paths.pipeline, clock=lambda: now[0])

    with _open() as interrupted:
        interrupted.use_currency(Currency())
        _submit(interrupted, "z", "task_z", ShotCost(100_000, 90_000))
        interrupted.record_status("task_z", state="succeeded", settled_quota=80_000)
        _submit(interrupted, "a", "task_a", ShotCost(1_000_000, 800_000))
        _submit(interrupted, "b", "task_b", ShotCost(1_000_000, 800_000))
    now[0] = 2_000.0
    with _open() as resumed:  # shows yuan now: the resumed tasks are shown in yuan too
        resumed.use_currency(Currency("CNY", 500_000, 7.3))
        _submit(resumed, "c", "task_c", ShotCost(500_000, 400_000))
        now[0] = 2_100.0
        resumed.record_status("task_a", state="succeeded", settled_quota=750_000)
        resumed.record_status("task_b", state="failed", settled_quota=0)
        resumed.record_status("task_c", state="succeeded", settled_quota=350_000)
    run = cost_document(read_costs(path))["last_run"]
    rows = [(r["task_id"], r["charge"], r["settled_quota"]) for r in run["takes"]]
    assert rows == [
        ("task_a", "settled", 750_000),
        ("task_b", "refunded", 0),
        ("task_c", "settled", 350_000),
    ]
    total = run["totals"]
    assert (total["currency"], total["takes"], total["settled_quota"]) == ("CNY", 3, 1_100_000)
    assert total["settled"] == pytest.approx(16.06)  # 1,100,000 / 500,000 * 7.3


def test_a_charge_the_relay_did_not_state_usably_keeps_the_expected_figure_in_the_lock(
    tmp_path: Path,
) -> None:
    """An envelope whose quota is 1e30 (no charge is that large; SQLite cannot keep it) is
    recorded as not stated, never a crash; the lock keeps the take's cost with its expected
    figure and no settled one, and `rdpipe cost` lists it with the lock's takes as "not stated"
    (not among those made before rdpipe recorded costs)."""
    from rdpipe.session.bills import take_cost

    path = tmp_path / "film.yaml"
    path.write_text(PIPELINE)
    with _state(path) as store:
        store.use_currency(Currency())
        _submit(store, "a", "task_a", ShotCost(250_000, 200_000))
        task = store.record_status("task_a", state="succeeded", settled_quota=10**30)
    assert task.settled_quota is None
    cost = take_cost(task)
    assert cost == TakeCost("USD", None, None, 500_000.0, expected=0.4)
    lock = LockFile(StatePaths.for_pipeline(path).lock_file)
    lock.write([ShotLock("a", "a" * 64, "m", (TakeLock(1, "task_a", "a.mp4", "aa" * 32,
                                                       cost=cost),))])  # fmt: skip
    assert (
        "    cost:\n      currency: USD\n      expected: 0.4\n      quota_per_unit: 500000\n"
    ) in lock.path.read_text()
    assert lock.read()[0].takes[0].cost == cost
    document = cost_document(read_costs(path))
    assert document["last_run"]["takes"][0]["charge"] == "not stated"
    (row,) = document["lock"]["takes"]
    assert (row["charge"], row["expected"], row["settled"], row["settled_quota"]) == (
        "not stated",
        0.4,
        None,
        None,
    )
    assert document["lock"]["without_cost"] == []


def test_a_run_in_tokens_prints_bare_figures_that_fit_80_columns(tmp_path: Path) -> None:
    """B1 round 18: every "tokens" wrapped onto a second line at 80 columns. The title names
    the unit once and each figure stays on its row."""
    path = tmp_path / "film.yaml"
    path.write_text(PIPELINE)
    with _state(path) as store:
        store.use_currency(Currency("TOKENS", 500_000, 1.0))
        _submit(store, LONG, "task_a", ShotCost(16_402_500, 16_402_500))
        store.record_status("task_a", state="succeeded", settled_quota=14_762_250)
    result = _cost(str(path))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), result.stdout
    assert lines[0].startswith("Last run (") and lines[0].endswith("), in tokens")
    rows = [line.split() for line in lines if "16,402,500" in line]
    assert rows == [
        [LONG[:20], "1", "16,402,500", "16,402,500", "14,762,250", "settled"],
        ["total", "(1)", "16,402,500", "16,402,500", "14,762,250"],
    ]
