"""Opening state.db read-only, and saying why it cannot be opened: the real cause, never a
false "damaged" that would talk the user into paying again."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from rdpipe.request import GenerationRequest
from rdpipe.state import SCHEMA_VERSION, StateStore, StateUnreadable
from rdpipe.state._access import access_problem
from rdpipe.state._schema import APPLICATION_ID, MIGRATIONS

#: A request as the scheduler journals it.
REQUEST = GenerationRequest("m", "p", "5")

DAMAGED_HINT = (
    "Keep the file: it lists the tasks already paid for. If it cannot be repaired (sqlite3 "
    "offers `.recover`), moving it aside makes the next run submit every shot anew, and each is "
    "billed again. The clips already downloaded (clips/ beside the video) and the task ids in "
    "the pipeline's .rdpipe.lock file are not affected."
)


def _open(path: Path, *, read_only: bool = False) -> StateStore:
    return StateStore.open(path, pipeline="p", clock=lambda: 0.0, read_only=read_only)


def _version_2_database(path: Path) -> None:
    """A state.db as rdpipe wrote it before hosts were recorded: one task in flight."""
    with sqlite3.connect(path, isolation_level=None) as writer:
        writer.execute("BEGIN")
        MIGRATIONS[1](writer)
        MIGRATIONS[2](writer)
        writer.execute(
            "INSERT INTO intents VALUES (1, 'p', 'k1', 'coast', 1, 1, 'm', '{}', 10.0, "
            "'submitted', NULL, 'task_x', 11.0)"
        )
        writer.execute(
            "INSERT INTO tasks VALUES (1, 'task_x', 11.0, 'running', 40, NULL, NULL, NULL, NULL, "
            "12.0, NULL, NULL)"
        )
        writer.execute("PRAGMA user_version=2")
        writer.execute(f"PRAGMA application_id={APPLICATION_ID}")
        writer.execute("COMMIT")


def test_version_2_tasks_have_no_host_and_new_submits_record_theirs(tmp_path: Path) -> None:
    """Migrating schema 2 keeps a task in flight with an unknown host; a new submit records the
    API host it goes to, and its task carries it."""
    path = tmp_path / "state.db"
    _version_2_database(path)
    with _open(path) as store:
        (old,) = store.in_flight()
        assert (old.task_id, old.api_host) == ("task_x", None)
        intent = store.record_intent(
            key="k2", shot_id="lamp", take=1, request=REQUEST, api_host="relaydance.com"
        )
        assert store.record_submitted(intent, "task_y").api_host == "relaydance.com"
        lost = store.record_intent(
            key="k3", shot_id="beam", take=1, request=REQUEST, api_host="relaydance.com"
        )
        store.record_unknown(lost, "no answer")
        assert [i.api_host for i in store.unknown_submits()] == ["relaydance.com"]
    with sqlite3.connect(path) as reader:
        assert reader.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_read_only_open_migrates_a_copy_and_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    """A read-only store reads an older schema through a migrated copy: the file keeps its
    version and bytes, no journal files appear beside it, and writes are refused."""
    path = tmp_path / "state.db"
    _version_2_database(path)
    before = path.read_bytes()
    with _open(path, read_only=True) as store:
        assert [t.task_id for t in store.in_flight()] == ["task_x"]
        with pytest.raises(Exception, match="readonly"):
            store.record_intent(key="k3", shot_id="beam", take=1, request=REQUEST)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.db"]


def test_read_only_open_reads_a_wal_database_a_run_has_open(tmp_path: Path) -> None:
    """While a run holds the database open (WAL), a read-only store sees its committed tasks."""
    path = tmp_path / "state.db"
    with _open(path) as writer:
        intent = writer.record_intent(key="k1", shot_id="coast", take=1, request=REQUEST)
        writer.record_submitted(intent, "task_live")
        with _open(path, read_only=True) as reader:
            assert [t.task_id for t in reader.in_flight()] == ["task_live"]


def test_damaged_file_advice_says_what_moving_it_aside_costs(tmp_path: Path) -> None:
    """Only a file SQLite reads as damaged is called damaged, and the advice says plainly that
    moving it aside pays again, and that the clips and the lock file survive."""
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database" * 100)
    for read_only in (False, True):
        with pytest.raises(StateUnreadable) as caught:
            _open(path, read_only=read_only)
        assert str(caught.value) == (
            f"Cannot use the run state {path}: the file is damaged or not an SQLite database "
            f"(file is not a database).\n{DAMAGED_HINT}"
        )


def test_a_directory_where_the_file_should_be_is_named_as_such(tmp_path: Path) -> None:
    """A directory at state.db is reported as a directory, not as a damaged database."""
    path = tmp_path / "state.db"
    path.mkdir()
    for read_only in (False, True):
        with pytest.raises(StateUnreadable) as caught:
            _open(path, read_only=read_only)
        assert str(caught.value) == (
            f"Cannot use the run state {path}: it is a directory, where rdpipe keeps a file "
            f"(unable to open database file).\nRename or remove the directory {path} (rdpipe "
            "did not make it), then run again."
        )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may read and write whatever the mode says")
def test_permissions_are_named_from_os_access(tmp_path: Path) -> None:
    """A folder this user may not write to is named as a permission problem."""
    folder = tmp_path / "state"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        problem, hint = access_problem(folder / "state.db", writing=True) or ("", "")
    finally:
        folder.chmod(0o755)
    assert problem.startswith(f"permission denied: this user may not create files in {folder}")
    assert hint.startswith(f"Run rdpipe as the user who owns {folder}")
