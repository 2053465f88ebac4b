"""Opening state.db: schema version checks and refusal of files rdpipe did not write."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rdpipe.request import GenerationRequest
from rdpipe.state import SCHEMA_VERSION, StateSchemaMismatch, StateStore, StateUnreadable
from rdpipe.state._schema import APPLICATION_ID, MIGRATIONS

#: A request as the scheduler journals it.
REQUEST = GenerationRequest("m", "p", "5")


def _open(path: Path) -> StateStore:
    return StateStore.open(path, pipeline="p", clock=lambda: 0.0)


def test_new_database_gets_current_schema_version(tmp_path: Path) -> None:
    """A freshly created state database carries the current schema version."""
    _open(tmp_path / "state.db").close()
    with sqlite3.connect(tmp_path / "state.db") as reader:
        assert reader.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_newer_schema_is_refused_with_clear_message(tmp_path: Path) -> None:
    """A database from a newer rdpipe is refused, telling the user to upgrade and not delete it."""
    path = tmp_path / "state.db"
    _open(path).close()
    with sqlite3.connect(path) as writer:
        writer.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(StateSchemaMismatch) as caught:
        _open(path)
    assert str(caught.value) == (
        f"Cannot use the run state {path}: it was written by a newer rdpipe (schema version "
        f"{SCHEMA_VERSION + 1}; this rdpipe understands versions up to {SCHEMA_VERSION}).\n"
        "Upgrade rdpipe and run again. Do not delete the file: it records tasks that were "
        "already paid for."
    )


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    """An SQLite file that rdpipe did not create is refused, not migrated over."""
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as writer:
        writer.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(StateUnreadable, match="not one written by rdpipe"):
        _open(path)
    with sqlite3.connect(path) as reader:
        assert reader.execute("SELECT name FROM sqlite_schema").fetchall() == [("notes",)]


def test_garbage_file_is_refused(tmp_path: Path) -> None:
    """A damaged state file is refused with advice instead of a raw SQLite traceback."""
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateUnreadable, match="damaged or not an SQLite database"):
        _open(path)


def test_version_1_database_is_migrated_keeping_every_record(tmp_path: Path) -> None:
    """A state.db of schema 1 keeps its tasks and clips, and then accepts a reused task id."""
    path = tmp_path / "state.db"
    with sqlite3.connect(path, isolation_level=None) as writer:
        writer.execute("BEGIN")
        MIGRATIONS[1](writer)
        writer.execute(
            "INSERT INTO intents VALUES (1, 'p', 'k1', 'coast', 1, 1, 'm', '{}', 10.0, "
            "'pending', NULL, NULL, NULL)"
        )
        writer.execute(
            "INSERT INTO tasks VALUES ('task_x', 1, 11.0, 'succeeded', 100, NULL, NULL, 5, "
            "4.0, 12.0, 12.0)"
        )
        writer.execute(
            "INSERT INTO clips VALUES (1, 'task_x', 'clips/coast/1-k1.mp4', 9, 'ab', 4.0, 5, 13.0)"
        )
        writer.execute("PRAGMA user_version=1")
        writer.execute(f"PRAGMA application_id={APPLICATION_ID}")
        writer.execute("COMMIT")
    with _open(path) as store:
        state = store.lookup("k1", 1)
        assert [(c.task_id, c.path, c.seed) for c in state.clips] == [
            ("task_x", "clips/coast/1-k1.mp4", 5)
        ]
        assert [(t.task_id, t.state, t.can_follow) for t in state.succeeded] == [
            ("task_x", "succeeded", True)
        ]
        intent = store.record_intent(key="k2", shot_id="lamp", take=1, request=REQUEST)
        assert store.record_submitted(intent, "task_x").shot_id == "lamp"
    with sqlite3.connect(path) as reader:
        assert reader.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert reader.execute("PRAGMA foreign_key_check").fetchall() == []
