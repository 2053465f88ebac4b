"""What tasks cost, in the run state (schema 5): the estimate each submit was sent with, the run
and display currency it was sent in, and the charge the relay settled; older states migrate."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rdpipe.prices import Currency, ShotCost
from rdpipe.request import GenerationRequest
from rdpipe.state import SCHEMA_VERSION, ClipFile, RunRecord, StateStore, TakeCost
from rdpipe.state._schema import APPLICATION_ID, MIGRATIONS

REQUEST = GenerationRequest("m", "p", "5")
SHA = "ab" * 32


def _open(path: Path, *, read_only: bool = False, start: float = 100.0) -> StateStore:
    clock = iter(range(int(start), int(start) + 1000))
    return StateStore.open(
        path, pipeline="p", clock=lambda: float(next(clock)), read_only=read_only
    )


@pytest.fixture
def version_4_database(tmp_path: Path) -> Path:
    """A state.db as rdpipe wrote it before issue 15 (migrations up to 4): a finished shot with
    its clip, a task still running and a failed one."""
    path = tmp_path / "v4" / "state.db"
    path.parent.mkdir()
    with sqlite3.connect(path, isolation_level=None) as writer:
        writer.execute("BEGIN")
        for step in (1, 2, 3, 4):
            MIGRATIONS[step](writer)
        for intent, key, shot, task in ((1, "k1", "coast", "task_x"), (2, "k2", "lamp", "task_y"),
                                        (3, "k3", "pier", "task_z")):  # fmt: skip
            writer.execute(
                f"INSERT INTO intents VALUES ({intent}, 'p', '{key}', '{shot}', 1, 1, 'm', '{{}}', "
                f"10.0, 'submitted', NULL, '{task}', 11.0, 'relay:9')"
            )
        writer.execute(
            "INSERT INTO tasks VALUES (1, 'task_x', 11.0, 'succeeded', 100, NULL, NULL, 5, 4.0, "
            "12.0, 12.0, NULL)"
        )
        writer.execute(
            "INSERT INTO tasks VALUES (2, 'task_y', 21.0, 'running', 30, NULL, NULL, NULL, NULL, "
            "22.0, NULL, NULL)"
        )
        writer.execute(
            "INSERT INTO tasks VALUES (3, 'task_z', 21.0, 'failed', NULL, 'E', 'no', NULL, NULL, "
            "22.0, 22.0, NULL)"
        )
        writer.execute(
            f"INSERT INTO clips VALUES (1, 1, 'clips/coast/1-k1.mp4', 9, '{SHA}', 4.0, 5, 13.0)"
        )
        writer.execute("PRAGMA user_version=4")
        writer.execute(f"PRAGMA application_id={APPLICATION_ID}")
        writer.execute("COMMIT")
    return path


def test_a_version_4_state_migrates_with_its_costs_unknown(version_4_database: Path) -> None:
    """Schema 4 becomes 5 keeping every task and clip; what they cost is not known (None), and
    no run is the last one; a task still running then settles into the new column."""
    with _open(version_4_database) as store:
        assert store.task("task_x") is not None
        finished = store.lookup("k1", 1)
        assert [c.task_id for c in finished.clips] == ["task_x"]
        task = finished.succeeded[0]
        assert (task.precharge_quota, task.expected_quota, task.settled_quota) == (None,) * 3
        assert (task.run_id, task.currency, task.quota_per_unit, task.currency_rate) == (None,) * 4
        assert store.last_run() is None
        settled = store.record_status("task_y", state="succeeded", settled_quota=875_000)
        assert (settled.settled_quota, settled.precharge_quota) == (875_000, None)
    with sqlite3.connect(version_4_database) as reader:
        assert reader.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (5,)
        assert reader.execute("PRAGMA foreign_key_check").fetchall() == []


def test_a_version_4_state_read_only_is_migrated_in_memory(version_4_database: Path) -> None:
    """``status`` and ``cost`` read a schema 4 file through a copy: the costs read as unknown
    and the file itself stays at version 4."""
    with _open(version_4_database, read_only=True) as store:
        assert store.last_run() is None
        task = store.task("task_z")
        assert task is not None and task.state == "failed" and task.settled_quota is None
    with sqlite3.connect(version_4_database) as reader:
        assert reader.execute("PRAGMA user_version").fetchone() == (4,)


def test_a_submit_keeps_its_estimate_run_and_currency(tmp_path: Path) -> None:
    """The estimate given with the intent, the currency the command noted and the settled
    charge of its status come back on the task, and the run is the last one."""
    path = tmp_path / "state.db"
    with _open(path) as store:
        store.use_currency(Currency("CNY", 500_000, 7.3))
        intent = store.record_intent(
            key="k1", shot_id="coast", take=1, request=REQUEST, cost=ShotCost(3_000_000, 1_200_000)
        )
        store.record_submitted(intent, "task_a")
        running = store.record_status("task_a", state="running", progress=10)
        assert running.settled_quota is None
        store.record_status("task_a", state="succeeded", settled_quota=1_093_750)
        task = store.record_status("task_a", state="succeeded", progress=100)  # None keeps it
        assert (task.precharge_quota, task.expected_quota, task.settled_quota) == (
            3_000_000, 1_200_000, 1_093_750,
        )  # fmt: skip
        assert (task.currency, task.quota_per_unit, task.currency_rate) == ("CNY", 500_000, 7.3)
        run = store.last_run()
        assert run == RunRecord(task.run_id or 0, 100.0, "CNY", 500_000.0, 7.3)
        assert [t.task_id for t in store.tasks_of_run(run.run_id)] == ["task_a"]
        [recorded] = store.intents_of_run(run.run_id)
        assert (recorded.precharge_quota, recorded.expected_quota) == (3_000_000, 1_200_000)


def test_each_command_that_submits_is_a_run_of_its_own(tmp_path: Path) -> None:
    """A second command's submits make a new run, which becomes the last one; a command that
    only reads or resumes makes none. Without prices, a submit and its run have no cost."""
    path = tmp_path / "state.db"
    with _open(path) as first:
        first.use_currency(Currency())
        first.record_submitted(
            first.record_intent(key="k1", shot_id="coast", take=1, request=REQUEST,
                                cost=ShotCost(10, 8)),
            "task_a",
        )  # fmt: skip
        first_run = first.last_run()
    with _open(path, start=500.0) as resuming:
        resuming.record_status("task_a", state="succeeded", settled_quota=7)
        assert resuming.last_run() == first_run
    with _open(path, start=900.0) as second:
        intent = second.record_intent(key="k2", shot_id="lamp", take=1, request=REQUEST)
        second.record_intent(key="k3", shot_id="pier", take=1, request=REQUEST)
        second.record_submitted(intent, "task_b")
        run = second.last_run()
        assert first_run is not None and run is not None and run.run_id > first_run.run_id
        assert (run.started_at, run.currency, run.quota_per_unit) == (900.0, None, None)
        assert [t.task_id for t in second.tasks_of_run(run.run_id)] == ["task_b"]
        assert [i.key for i in second.intents_of_run(run.run_id)] == ["k2", "k3"]
        task_b = second.task("task_b")
        assert task_b is not None and task_b.precharge_quota is None
        assert [t.settled_quota for t in second.tasks_of_run(first_run.run_id)] == [7]


def test_a_currency_noted_after_the_first_submit_updates_the_run(tmp_path: Path) -> None:
    """``use_currency`` after a submit gives the run (and so its tasks) that currency."""
    with _open(tmp_path / "state.db") as store:
        store.record_submitted(
            store.record_intent(key="k1", shot_id="coast", take=1, request=REQUEST), "task_a"
        )
        store.use_currency(Currency("TOKENS", 250_000, 1.0))
        task = store.task("task_a")
        assert task is not None
        assert (task.currency, task.quota_per_unit) == ("TOKENS", 250_000)


def test_a_restored_clip_was_not_submitted_by_a_run(tmp_path: Path) -> None:
    """A clip restored from the lock file or the shared store belongs to no run and has no
    cost here: nothing was billed for it on this machine."""
    with _open(tmp_path / "state.db") as store:
        store.use_currency(Currency())
        store.record_restored(
            key="k1", shot_id="coast", take=1, request=REQUEST, task_id="task_r",
            clip=ClipFile("clips/coast/1.mp4", 9, SHA), seed=1, duration=5.0,
        )  # fmt: skip
        task = store.task("task_r")
        assert task is not None and (task.run_id, task.settled_quota) == (None, None)
        assert store.last_run() is None


def test_a_negative_settled_charge_is_refused(tmp_path: Path) -> None:
    """A settled charge below zero is not a charge: refused before anything is written."""
    with _open(tmp_path / "state.db") as store:
        store.record_submitted(
            store.record_intent(key="k1", shot_id="coast", take=1, request=REQUEST), "task_a"
        )
        with pytest.raises(ValueError, match="not negative"):
            store.record_status("task_a", state="succeeded", settled_quota=-1)
        task = store.task("task_a")
        assert task is not None and task.state == "pending"


def test_a_restored_clip_keeps_the_cost_it_was_restored_with(tmp_path: Path) -> None:
    """The cost the lock file or the shared store gave comes back, as given, on the task and
    its clip; a stored cost this rdpipe cannot read is no cost."""
    cost = TakeCost("CNY", 15.96875, 1_093_750, 500_000.0, 17.593, 7.3)
    with _open(tmp_path / "state.db") as store:
        store.record_restored(
            key="k1", shot_id="coast", take=1, request=REQUEST, task_id="task_r",
            clip=ClipFile("clips/coast/1.mp4", 9, SHA), seed=1, duration=5.0, cost=cost,
        )  # fmt: skip
        task = store.task("task_r")
        assert task is not None and task.restored_cost == cost
        assert (task.run_id, task.settled_quota) == (None, None)
        clip = store.lookup("k1", 1).clip
        assert clip is not None and clip.restored_cost == cost
    with sqlite3.connect(tmp_path / "state.db") as writer:
        writer.execute('UPDATE tasks SET restored_cost = \'{"currency": 1, "x": 2}\'')
    with _open(tmp_path / "state.db") as store:
        task = store.task("task_r")
        assert task is not None and task.restored_cost is None
