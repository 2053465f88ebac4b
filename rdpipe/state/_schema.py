"""The SQLite schema of ``state.db`` and the one function that opens it.

WAL mode lets ``rdpipe status`` read while a run writes; ``synchronous=FULL`` makes every commit
fsync the WAL, so a recorded task id survives a crash or power loss, not only a killed process.
The schema version lives in ``PRAGMA user_version``; a database from a newer rdpipe is refused,
an older one is migrated step by step inside one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from rdpipe.files import fsync_directory

from ._access import unusable
from ._errors import StateSchemaMismatch, StateUnreadable

SCHEMA_VERSION = 5
APPLICATION_ID = 0x72647069  # "rdpi": marks the file as rdpipe's, see sqlite.org/fileformat.html

_SCHEMA_1 = """
CREATE TABLE intents (
    intent_id INTEGER PRIMARY KEY,
    pipeline TEXT NOT NULL,
    key TEXT NOT NULL,
    shot_id TEXT NOT NULL,
    take INTEGER NOT NULL CHECK (take >= 1),
    attempt INTEGER NOT NULL,
    model TEXT,
    request_json TEXT NOT NULL,
    created_at REAL NOT NULL,
    outcome TEXT NOT NULL
        CHECK (outcome IN ('pending', 'submitted', 'unknown', 'refused', 'abandoned')),
    reason TEXT,
    task_id TEXT UNIQUE,
    resolved_at REAL
);
CREATE INDEX intents_by_key ON intents (pipeline, key, take);
CREATE INDEX intents_by_outcome ON intents (pipeline, outcome);
CREATE TABLE tasks (
    task_id TEXT PRIMARY KEY,
    intent_id INTEGER NOT NULL UNIQUE REFERENCES intents (intent_id),
    submitted_at REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
    progress INTEGER,
    error_code TEXT,
    error_message TEXT,
    seed INTEGER,
    duration REAL,
    updated_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX tasks_by_state ON tasks (state);
CREATE TRIGGER tasks_resolve_intent AFTER INSERT ON tasks
BEGIN
    UPDATE intents SET outcome = 'submitted', task_id = NEW.task_id,
        resolved_at = NEW.submitted_at
    WHERE intent_id = NEW.intent_id;
END;
CREATE TABLE clips (
    clip_id INTEGER PRIMARY KEY,
    task_id TEXT NOT NULL UNIQUE REFERENCES tasks (task_id),
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    duration REAL,
    seed INTEGER,
    recorded_at REAL NOT NULL
);
"""

# Version 2: a task id is no longer unique. A server may hand out an id again (the offline
# simulator did, issue 10): the newer task is a task of its own, keyed by its intent, and the
# older one is marked reissued (``reissued_at``): it can no longer be polled or downloaded, since
# its id now names the newer task; if it was still running it becomes failed ``task_id_reused``.
# At most one task per id is not reissued (index ``tasks_live_id``). Tables are rebuilt the way
# sqlite.org/lang_altertable.html#otheralter describes (foreign keys are off while migrating).
_SCHEMA_2 = """
CREATE TABLE intents_v2 (
    intent_id INTEGER PRIMARY KEY,
    pipeline TEXT NOT NULL,
    key TEXT NOT NULL,
    shot_id TEXT NOT NULL,
    take INTEGER NOT NULL CHECK (take >= 1),
    attempt INTEGER NOT NULL,
    model TEXT,
    request_json TEXT NOT NULL,
    created_at REAL NOT NULL,
    outcome TEXT NOT NULL
        CHECK (outcome IN ('pending', 'submitted', 'unknown', 'refused', 'abandoned')),
    reason TEXT,
    task_id TEXT,
    resolved_at REAL
);
INSERT INTO intents_v2 SELECT intent_id, pipeline, key, shot_id, take, attempt, model,
    request_json, created_at, outcome, reason, task_id, resolved_at FROM intents;
CREATE TABLE tasks_v2 (
    intent_id INTEGER PRIMARY KEY REFERENCES intents (intent_id),
    task_id TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
    progress INTEGER,
    error_code TEXT,
    error_message TEXT,
    seed INTEGER,
    duration REAL,
    updated_at REAL NOT NULL,
    finished_at REAL,
    reissued_at REAL
);
INSERT INTO tasks_v2 SELECT intent_id, task_id, submitted_at, state, progress, error_code,
    error_message, seed, duration, updated_at, finished_at, NULL FROM tasks;
CREATE TABLE clips_v2 (
    clip_id INTEGER PRIMARY KEY,
    intent_id INTEGER NOT NULL UNIQUE REFERENCES tasks (intent_id),
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    duration REAL,
    seed INTEGER,
    recorded_at REAL NOT NULL
);
INSERT INTO clips_v2 SELECT c.clip_id, t.intent_id, c.path, c.size, c.sha256, c.duration, c.seed,
    c.recorded_at FROM clips c JOIN tasks t USING (task_id);
DROP TABLE clips;
DROP TABLE tasks;
DROP TABLE intents;
ALTER TABLE intents_v2 RENAME TO intents;
ALTER TABLE tasks_v2 RENAME TO tasks;
ALTER TABLE clips_v2 RENAME TO clips;
CREATE INDEX intents_by_key ON intents (pipeline, key, take);
CREATE INDEX intents_by_outcome ON intents (pipeline, outcome);
CREATE INDEX tasks_by_state ON tasks (state);
CREATE UNIQUE INDEX tasks_live_id ON tasks (task_id) WHERE reissued_at IS NULL;
CREATE TRIGGER tasks_retire_reissued_id BEFORE INSERT ON tasks
BEGIN
    UPDATE tasks SET reissued_at = NEW.submitted_at, updated_at = NEW.submitted_at,
        finished_at = coalesce(finished_at, NEW.submitted_at),
        error_code = CASE WHEN state IN ('succeeded', 'failed') THEN error_code
            ELSE 'task_id_reused' END,
        error_message = CASE WHEN state IN ('succeeded', 'failed') THEN error_message
            ELSE 'the server gave this task id to a later submit, so this task can no longer '
                || 'be followed' END,
        state = CASE WHEN state IN ('succeeded', 'failed') THEN state ELSE 'failed' END
    WHERE task_id = NEW.task_id AND reissued_at IS NULL;
END;
CREATE TRIGGER tasks_resolve_intent AFTER INSERT ON tasks
BEGIN
    UPDATE intents SET outcome = 'submitted', task_id = NEW.task_id,
        resolved_at = NEW.submitted_at
    WHERE intent_id = NEW.intent_id;
END;
"""

# Version 3: each submit records the API host it went to (``host[:port]``, never the key), so
# a run pointed at another server (RELAYDANCE_BASE_URL) neither follows nor gives up a task it
# cannot know. Submits recorded before have NULL: their host is unknown.
_SCHEMA_3 = """
ALTER TABLE intents ADD COLUMN api_host TEXT;
"""

# Version 4: local media hosted for requests (issue 14), shared by every pipeline of the folder,
# so a file is uploaded once however many pipelines use it. ``hosted_files``: where a file
# (md5, extension) is hosted, per host (the media host's ``host[:port]``, or a shared clip
# store's URL, whose ``url`` is then a presigned GET URL valid until ``expires_at``).
# ``refused_extensions``: the extensions a host refused to take, with its message.
# ``portraits``: images registered in a host's asset library, by md5. See ``_media.py``.
_SCHEMA_4 = """
CREATE TABLE hosted_files (
    md5 TEXT NOT NULL,
    ext TEXT NOT NULL,
    host TEXT NOT NULL,
    size INTEGER NOT NULL CHECK (size >= 0),
    url TEXT NOT NULL,
    expires_at REAL,
    recorded_at REAL NOT NULL,
    PRIMARY KEY (md5, ext, host)
);
CREATE TABLE refused_extensions (
    host TEXT NOT NULL,
    ext TEXT NOT NULL,
    message TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    PRIMARY KEY (host, ext)
);
CREATE TABLE portraits (
    md5 TEXT NOT NULL,
    host TEXT NOT NULL,
    asset_id TEXT NOT NULL,
    uri TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    source_url TEXT NOT NULL,
    name TEXT NOT NULL,
    file TEXT NOT NULL,
    registered_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (md5, host)
);
CREATE INDEX portraits_by_age ON portraits (registered_at);
"""

# Version 5: what each task costs (issue 15), in quota units, the relay's own unit. An intent
# keeps the estimate it was sent with (``precharge_quota``: what the relay holds from the balance
# at submit, an upper bound; ``expected_quota``: what should be settled) and the run that sent it
# (``run_id``). ``runs``: one row per command that submitted, with the display currency it saw
# (``currency`` "USD", "CNY" or "TOKENS", ``quota_per_unit`` quota units per US dollar,
# ``currency_rate`` units of the currency per US dollar). A task keeps the charge the relay
# settled (``settled_quota``, its envelope's ``data.quota``; 0 for a failed, refunded task). A
# clip restored rather than submitted here (from the lock file or the shared store) keeps the
# cost they gave for it, as the lock file writes it (``restored_cost``, JSON). Rows recorded
# before have NULL: not known.
_SCHEMA_5 = """
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    currency TEXT,
    quota_per_unit REAL CHECK (quota_per_unit > 0),
    currency_rate REAL CHECK (currency_rate > 0)
);
ALTER TABLE intents ADD COLUMN run_id INTEGER REFERENCES runs (run_id);
ALTER TABLE intents ADD COLUMN precharge_quota INTEGER CHECK (precharge_quota >= 0);
ALTER TABLE intents ADD COLUMN expected_quota INTEGER CHECK (expected_quota >= 0);
ALTER TABLE tasks ADD COLUMN settled_quota INTEGER CHECK (settled_quota >= 0);
ALTER TABLE tasks ADD COLUMN restored_cost TEXT;
CREATE INDEX intents_by_run ON intents (pipeline, run_id);
"""

# Migration n creates version n from version n - 1. Add entries; never edit a released one.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: lambda connection: _run_script(connection, _SCHEMA_1),
    2: lambda connection: _run_script(connection, _SCHEMA_2),
    3: lambda connection: _run_script(connection, _SCHEMA_3),
    4: lambda connection: _run_script(connection, _SCHEMA_4),
    5: lambda connection: _run_script(connection, _SCHEMA_5),
}


def _run_script(connection: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT first; run statement by statement inside our transaction.
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            connection.execute(statement)
            statement = ""


def connect(path: Path, *, busy_timeout: float = 10.0) -> sqlite3.Connection:
    """Open (creating if needed) the state database at ``path`` and bring its schema up to date."""
    created = not path.exists()
    try:
        connection = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as error:
        raise unusable(path, error, writing=True) from error
    try:
        connection.row_factory = sqlite3.Row
        _configure(connection, path)
        _migrate(connection, path)
        connection.execute("PRAGMA foreign_keys=ON")  # off while migrating: tables are rebuilt
    except sqlite3.DatabaseError as error:
        connection.close()
        raise unusable(path, error, writing=True) from error
    except BaseException:
        connection.close()
        raise
    if created:
        fsync_directory(path.parent)
    return connection


def connect_read_only(path: Path, *, busy_timeout: float = 10.0) -> sqlite3.Connection:
    """A copy in memory of the state database at ``path``, read without writing beside it.

    For commands that only read (``status``), so they work on a read-only checkout and never
    migrate the file: an older schema is brought up to date in the copy. The copy refuses writes.
    """
    try:
        source = _open_read_only(path, busy_timeout)
        copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            source.backup(copy)
        finally:
            source.close()
    except sqlite3.Error as error:
        raise unusable(path, error, writing=False) from error
    try:
        copy.row_factory = sqlite3.Row
        _migrate(copy, path)
        copy.execute("PRAGMA foreign_keys=ON")
        copy.execute("PRAGMA query_only=ON")
    except sqlite3.DatabaseError as error:
        copy.close()
        raise unusable(path, error, writing=False) from error
    except BaseException:
        copy.close()
        raise
    return copy


def _open_read_only(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """Open ``path`` read-only; without its WAL index files and no way to create them, immutable.

    SQLite reads a WAL database read-only only where its ``-shm`` file exists or can be created
    (sqlite.org/wal.html#readonly). A cleanly closed database has no ``-wal`` left, so reading it
    as immutable then misses nothing.
    """
    if not path.is_file():
        raise sqlite3.OperationalError("unable to open database file")
    uri = path.absolute().as_uri()
    try:
        return _checked(f"{uri}?mode=ro", busy_timeout)
    except sqlite3.OperationalError:
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise
    return _checked(f"{uri}?immutable=1", busy_timeout)


def _checked(uri: str, busy_timeout: float) -> sqlite3.Connection:
    """A connection to ``uri`` that has read the schema (SQLite opens files lazily)."""
    connection = sqlite3.connect(uri, timeout=busy_timeout, uri=True, check_same_thread=False)
    try:
        connection.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except BaseException:
        connection.close()
        raise
    return connection


def _configure(connection: sqlite3.Connection, path: Path) -> None:
    mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StateUnreadable(
            path,
            f"SQLite could not switch it to WAL mode (got {mode!r})",
            hint="Keep the pipeline on a local disk; network filesystems often lack WAL support.",
        )
    connection.execute("PRAGMA synchronous=FULL")


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        _check_identity(connection, path, version)
        if version > SCHEMA_VERSION:
            raise StateSchemaMismatch(path, found=version, supported=SCHEMA_VERSION)
        for step in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[step](connection)
        if version != SCHEMA_VERSION:
            if connection.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise sqlite3.DatabaseError("its records do not refer to each other")
            connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            connection.execute(f"PRAGMA application_id={APPLICATION_ID}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _check_identity(connection: sqlite3.Connection, path: Path, version: int) -> None:
    application_id = connection.execute("PRAGMA application_id").fetchone()[0]
    tables = connection.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
    fresh = version == 0 and application_id == 0 and tables == 0
    if not fresh and application_id != APPLICATION_ID:
        raise StateUnreadable(
            path,
            "it is an SQLite database, but not one written by rdpipe",
            hint="Move it aside, or point rdpipe at a different pipeline directory.",
        )
