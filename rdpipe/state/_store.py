"""The journal of submitted tasks and the cache index of finished clips, in one SQLite file.

Every ``record_*`` method is a single autocommitted statement that has committed (and fsynced
the WAL) when it returns: "never pay twice" rests on ``record_intent`` before the POST and
``record_submitted`` the moment it answers. Calls block for one commit (about a millisecond on
a local SSD); they are serialised by an internal lock, so they may run in worker threads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from rdpipe.redaction import NO_SECRETS, Redactor

from . import _queries as queries
from ._errors import StateWriteFailed, TaskReissued
from ._lock_entries import TakeCost
from ._media import MediaRecords
from ._records import (
    ClipFile,
    ClipRecord,
    CostEstimate,
    DisplayCurrency,
    IntentRecord,
    RecordedTaskState,
    RunRecord,
    ShotState,
    TaskRecord,
)
from ._redact import redact_request
from ._schema import connect, connect_read_only

if TYPE_CHECKING:
    from rdpipe.request import GenerationRequest

_TASK_STATES = ("pending", "running", "succeeded", "failed")
#: The largest charge kept, in quota units (2**62, rdpipe.prices.MOST_QUOTA; SQLite's INTEGER
#: stops at 2**63 - 1): a relay stating more has stated no usable figure.
MOST_STORED = 2**62


class StateStore(MediaRecords):
    """Run state of the pipelines in one directory, seen through one pipeline's name.

    The local media hosted for requests and the portraits registered are the directory's, not
    the pipeline's (:class:`~._media.MediaRecords`).
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        pipeline: str,
        clock: Callable[[], float],
        redactor: Redactor = NO_SECRETS,
    ) -> None:
        self._connection = connection
        self._path = path
        self._pipeline = pipeline
        self._clock = clock
        self._redactor = redactor
        self._lock = threading.RLock()
        self._currency: DisplayCurrency | None = None
        self._run_id: int | None = None  # this command's run, from its first submit

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        pipeline: str,
        clock: Callable[[], float],
        read_only: bool = False,
        redactor: Redactor = NO_SECRETS,
    ) -> StateStore:
        """Open or create the database at ``path``; ``clock`` returns epoch seconds.

        ``read_only`` reads a copy of an existing database and never writes a byte beside it
        (``status`` on a read-only checkout); its ``record_*`` methods then fail. ``redactor``
        takes the command's secrets out of every reason and error message before it is stored
        (the default removes credential shapes only).
        """
        if read_only:
            return cls(connect_read_only(path), path, pipeline, clock, redactor)
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(connect(path), path, pipeline, clock, redactor)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def pipeline(self) -> str:
        return self._pipeline

    @property
    def currency(self) -> DisplayCurrency | None:
        """The display currency this command noted (:meth:`use_currency`); ``None``: none."""
        return self._currency

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # Writes ---------------------------------------------------------------------------------

    def use_currency(self, currency: DisplayCurrency | None) -> None:
        """Note the display currency this command saw (``None``: its prices could not be
        read): the run's submits record it, so their charges are later converted with the unit
        the relay stated then. Call it before the first submit; a later call updates the run.
        """
        self._currency = currency
        if self._run_id is not None:
            parameters = (*self._currency_row(), self._run_id)
            self._execute("the run's currency", queries.UPDATE_RUN_CURRENCY, parameters)

    def record_intent(
        self,
        *,
        key: str,
        shot_id: str,
        take: int,
        request: GenerationRequest,
        api_host: str | None = None,
        cost: CostEstimate | None = None,
    ) -> int:
        """Durably note that a submit for ``key``/``take`` is about to be sent; returns its id.

        ``request`` is the request submitted (without the run's webhook URL, a per-run secret);
        its body is kept with URL query strings and inline data redacted (:func:`redact_request`).
        ``api_host`` is where it goes (``host[:port]``, never a key): a task is followed there.
        ``cost`` is its estimate from the relay's prices (quota units), kept with it. The
        command's first submit also records its run (:meth:`last_run`).
        """
        if take < 1:
            raise ValueError(f"take numbers start at 1, got {take}")
        kept = redact_request(request)
        body = kept.body.decode()
        now = self._clock()
        estimate = (cost.precharge, cost.expected) if cost is not None else (None, None)
        with self._write(f"the submit of shot '{shot_id}' take {take}") as db:
            run_id = self._run_id
            if run_id is None:
                run_id = db.execute(queries.INSERT_RUN, (now, *self._currency_row())).lastrowid
            row = (self._pipeline, key, shot_id, take, kept.model, body, now, api_host)
            cursor = db.execute(
                queries.INSERT_INTENT, (*row, run_id, *estimate, self._pipeline, key, take)
            )
        self._run_id = run_id  # only once committed
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _currency_row(self) -> tuple[str | None, float | None, float | None]:
        currency = self._currency
        if currency is None:
            return (None, None, None)
        return (currency.code, currency.quota_per_unit, currency.rate)

    def record_submitted(self, intent_id: int, task_id: str) -> TaskRecord:
        """Durably bind the task id the server returned to its intent; returns after the commit.

        One INSERT (a trigger resolves the intent), so no signal can split it in two. An id
        the server gave out before makes a task of its own; the earlier task with that id is
        marked reissued (see :attr:`TaskRecord.reissued_at`).
        """
        now = self._clock()
        parameters = (task_id, now, now, intent_id, self._pipeline)
        try:
            cursor = self._execute(f"task {task_id}", queries.INSERT_TASK, parameters)
        except sqlite3.IntegrityError as error:
            raise ValueError(f"task {task_id} is already recorded ({error})") from error
        if cursor.rowcount != 1:
            raise ValueError(self._not_open(intent_id, "submitted"))
        return self._task(task_id)

    def record_unknown(self, intent_id: int, reason: str) -> None:
        """Note that the submit was sent but its outcome is unknown: it may have been billed."""
        self._resolve(intent_id, "unknown", reason, ("pending", "pending"))

    def record_refused(self, intent_id: int, reason: str) -> None:
        """Note that the server refused the submit (nothing billed), with its reason."""
        self._resolve(intent_id, "refused", reason, ("pending", "unknown"))

    def abandon_unknown(self, intent_id: int, reason: str) -> None:
        """Stop reporting an unknown submit, because the user chose to submit again over it."""
        self._resolve(intent_id, "abandoned", reason, ("pending", "unknown"))

    def recover_interrupted(self) -> list[IntentRecord]:
        """Mark intents a crashed run left without an answer as unknown, and return them.

        Call it once, holding the :class:`RunGuard`, before planning: only then can no live
        run still be waiting for the answer to one of them.
        """
        reason = "the previous run stopped after sending this submit, before recording its answer"
        with self._write("interrupted submits") as db:
            pending = [row[0] for row in db.execute(queries.PENDING_INTENTS, (self._pipeline,))]
            db.execute(queries.RECOVER_PENDING, (reason, self._clock(), self._pipeline))
        return [i for i in self.unknown_submits() if i.intent_id in pending]

    def record_status(
        self,
        task_id: str,
        *,
        state: RecordedTaskState,
        progress: int | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        seed: int | None = None,
        duration: float | None = None,
        settled_quota: int | None = None,
    ) -> TaskRecord:
        """Store the latest polled status of a task; ``None`` fields keep their stored value.

        ``settled_quota``: the charge the relay settled for it (quota units; 0 when it failed
        and was refunded), as a finished task's envelope gives it; one above
        :data:`MOST_STORED` (no charge is that large, nor can SQLite keep it) is not stated.
        """
        if state not in _TASK_STATES:
            raise ValueError(f"unknown task state {state!r}; expected one of {_TASK_STATES}")
        if settled_quota is not None and settled_quota < 0:
            raise ValueError(f"a settled charge is not negative, got {settled_quota}")
        if settled_quota is not None and settled_quota > MOST_STORED:
            settled_quota = None  # no charge can be that large (1e30): recorded as not stated
        now = self._clock()
        final = state in ("succeeded", "failed")
        error_message = self._redactor.redact_optional(error_message)
        values = (state, progress, error_code, error_message, seed, duration, settled_quota, now,
                  final, now)  # fmt: skip
        parameters = (*values, task_id, self._pipeline)
        cursor = self._execute(f"the status of task {task_id}", queries.UPDATE_TASK, parameters)
        task = self._task(task_id)
        if cursor.rowcount != 1:
            raise TaskReissued(task_id, task.shot_id)
        return task

    def record_clip(
        self,
        task_id: str,
        clip: ClipFile,
        *,
        duration: float | None = None,
        seed: int | None = None,
    ) -> ClipRecord:
        """Index a clip adopted by :class:`ClipStore` as the result of ``task_id``.

        Recording the same task again (a re-download) replaces its row; clips of other tasks stay.
        ``duration`` and ``seed`` default to what the task's last status reported.
        """
        task = self._task(task_id)
        if not task.can_follow:
            raise TaskReissued(task_id, task.shot_id)
        duration = task.duration if duration is None else duration
        seed = task.seed if seed is None else seed
        row = (clip.path, clip.size, clip.sha256, duration, seed, self._clock())
        self._execute(
            f"the clip of task {task_id}", queries.UPSERT_CLIP, (*row, task_id, self._pipeline)
        )
        return self._clips(queries.CLIP_OF_TASK, (self._pipeline, task_id))[0]

    def record_restored(
        self,
        *,
        key: str,
        shot_id: str,
        take: int,
        request: GenerationRequest,
        task_id: str,
        clip: ClipFile,
        seed: int | None,
        duration: float | None,
        api_host: str | None = None,
        cost: TakeCost | None = None,
    ) -> ClipRecord:
        """Record a clip made before, obtained without submitting (the lock file names it, or
        the shared clip store held it), as the finished task ``task_id`` of ``key``/``take``.

        One transaction: the submit (its request redacted, as :meth:`record_intent` keeps it),
        the task, finished, and its clip; so the state answers as if this machine had run it,
        and the lock file written from it names the same task, seed, duration and ``cost`` (what
        the lock file or the store's index said it cost; kept as given). Nothing new was billed.
        """
        now = self._clock()
        with self._write(f"the restored clip of shot '{shot_id}' take {take}") as db:
            self._insert_task(db, key, shot_id, take, request, task_id, now, api_host)
            status = ("succeeded", 100, None, None, seed, duration, None, now, True, now)
            db.execute(queries.UPDATE_TASK, (*status, task_id, self._pipeline))
            if cost is not None:
                kept = json.dumps(asdict(cost), sort_keys=True)
                db.execute(queries.SET_RESTORED_COST, (kept, task_id, self._pipeline))
            row = (clip.path, clip.size, clip.sha256, duration, seed, now)
            db.execute(queries.UPSERT_CLIP, (*row, task_id, self._pipeline))
        return self._clips(queries.CLIP_OF_TASK, (self._pipeline, task_id))[0]

    def record_taken_over(
        self, *, key: str, shot_id: str, take: int, request: GenerationRequest, task_id: str
    ) -> TaskRecord:
        """Record ``task_id``, submitted for ``key``/``take`` by another machine's run that
        stopped, as a task of this state to follow (a shot's claim in the shared store named
        it): the plan then resumes it instead of paying again. Its host is unknown (``None``).
        One transaction; nothing was billed here.
        """
        now = self._clock()
        with self._write(f"the task taken over for shot '{shot_id}' take {take}") as db:
            self._insert_task(db, key, shot_id, take, request, task_id, now, None)
        return self._task(task_id)

    def _insert_task(
        self,
        db: sqlite3.Connection,
        key: str,
        shot_id: str,
        take: int,
        request: GenerationRequest,
        task_id: str,
        now: float,
        api_host: str | None,
    ) -> None:
        """Insert a submit and its task, as submitted at ``now`` (inside a write)."""
        kept = redact_request(request)
        intent = (self._pipeline, key, shot_id, take, kept.model, kept.body.decode(), now, api_host)
        unpriced = (None, None, None)  # not sent by a run here: no run, no estimate
        cursor = db.execute(queries.INSERT_INTENT, (*intent, *unpriced, self._pipeline, key, take))
        db.execute(queries.INSERT_TASK, (task_id, now, now, cursor.lastrowid, self._pipeline))

    # Reads ----------------------------------------------------------------------------------

    def lookup(self, key: str, take: int) -> ShotState:
        """What the state knows about one key and take (pure data for the planner)."""
        where = (self._pipeline, key, take)
        with self._snapshot():
            tasks = self._tasks(queries.TASKS_OF_KEY, where)
            intents = self._intents(queries.INTENTS_OF_KEY, where)
            clips = self._clips(queries.CLIPS_OF_KEY, where)
        return ShotState(
            key=key,
            take=take,
            clips=tuple(clips),
            in_flight=tuple(t for t in tasks if not t.is_final),
            succeeded=tuple(t for t in tasks if t.state == "succeeded"),
            failed=tuple(t for t in tasks if t.state == "failed"),
            unknown=tuple(i for i in intents if i.outcome in ("pending", "unknown")),
            refused=tuple(i for i in intents if i.outcome == "refused"),
            attempts=len(intents),
        )

    def in_flight(self) -> list[TaskRecord]:
        """Every task of this pipeline still to be polled, oldest submit first."""
        return self._tasks(queries.TASKS_IN_FLIGHT, (self._pipeline,))

    def unknown_submits(self) -> list[IntentRecord]:
        """Every submit of this pipeline whose outcome is unknown (or was never recorded)."""
        return self._intents(queries.INTENTS_UNKNOWN, (self._pipeline,))

    def task(self, task_id: str) -> TaskRecord | None:
        """The task this id names, if this pipeline recorded it (else the newest it reissued)."""
        found = self._tasks(queries.TASK_BY_ID, (self._pipeline, task_id))
        return found[0] if found else None

    def last_run(self) -> RunRecord | None:
        """The newest run that submitted for this pipeline, or ``None`` before any did."""
        rows = self._rows(queries.LAST_RUN, (self._pipeline,))
        return RunRecord(**rows[0]) if rows else None

    def tasks_without_run(self) -> int:
        """How many tasks of this pipeline no run sent: submitted by an rdpipe that did not yet
        record runs and costs, or restored (from the lock file or the shared clip store)."""
        return int(self._rows(queries.TASKS_WITHOUT_RUN, (self._pipeline,))[0]["n"])

    def tasks_of_run(self, run_id: int) -> list[TaskRecord]:
        """Every task the run ``run_id`` submitted for this pipeline, in the order sent."""
        return self._tasks(queries.TASKS_OF_RUN, (self._pipeline, run_id))

    def tasks_finished_in_run(self, run: RunRecord) -> list[TaskRecord]:
        """The tasks earlier runs sent for this pipeline that finished after ``run`` started
        (its first submit): a run resumed after Ctrl-C followed them to their end, so they
        belong to its bill. In the order sent."""
        parameters = (self._pipeline, run.run_id, run.started_at)
        return self._tasks(queries.TASKS_FINISHED_IN_RUN, parameters)

    def intents_of_run(self, run_id: int) -> list[IntentRecord]:
        """Every submit the run ``run_id`` recorded for this pipeline (with or without a task)."""
        return self._intents(queries.INTENTS_OF_RUN, (self._pipeline, run_id))

    # Helpers --------------------------------------------------------------------------------

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        """One immediate transaction, committed (WAL fsynced) before the ``with`` block exits."""
        with self._lock:
            db = self._connection
            try:
                db.execute("BEGIN IMMEDIATE")
                yield db
                db.execute("COMMIT")
            except BaseException as error:
                if db.in_transaction:
                    with suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                if isinstance(error, sqlite3.IntegrityError) or not isinstance(
                    error, sqlite3.Error
                ):
                    raise
                raise StateWriteFailed(self._path, what, str(error)) from error

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """A read transaction, so several queries see one consistent state."""
        with self._lock:
            self._connection.execute("BEGIN")
            try:
                yield
            finally:
                self._connection.execute("COMMIT")

    def _resolve(self, intent_id: int, outcome: str, reason: str, allowed: tuple[str, str]) -> None:
        reason = self._redactor.redact(reason)
        parameters = (outcome, reason, self._clock(), intent_id, self._pipeline, *allowed)
        cursor = self._execute(
            f"submit {intent_id} as {outcome}", queries.RESOLVE_INTENT, parameters
        )
        if cursor.rowcount != 1:
            raise ValueError(self._not_open(intent_id, outcome))

    def _not_open(self, intent_id: int, outcome: str) -> str:
        row = self._rows(queries.INTENT_OUTCOME, (intent_id, self._pipeline))
        found = f"its outcome is already {row[0][0]!r}" if row else "no such submit intent"
        return f"cannot mark submit {intent_id} {outcome}: {found}"

    def _execute(self, what: str, sql: str, parameters: tuple[Any, ...]) -> sqlite3.Cursor:
        """Run one statement as its own transaction: committed, WAL fsynced, when it returns."""
        with self._lock:
            try:
                return self._connection.execute(sql, parameters)
            except sqlite3.IntegrityError:
                raise
            except sqlite3.Error as error:
                raise StateWriteFailed(self._path, what, str(error)) from error

    def _task(self, task_id: str) -> TaskRecord:
        found = self.task(task_id)
        if found is None:
            raise ValueError(f"task {task_id} is not recorded for '{self._pipeline}'")
        return found

    def _rows(self, sql: str, parameters: tuple[Any, ...]) -> list[sqlite3.Row]:
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    def _tasks(self, sql: str, parameters: tuple[Any, ...]) -> list[TaskRecord]:
        return [TaskRecord(**_with_cost(row)) for row in self._rows(sql, parameters)]

    def _intents(self, sql: str, parameters: tuple[Any, ...]) -> list[IntentRecord]:
        return [IntentRecord(**row) for row in self._rows(sql, parameters)]

    def _clips(self, sql: str, parameters: tuple[Any, ...]) -> list[ClipRecord]:
        return [ClipRecord(**_with_cost(row)) for row in self._rows(sql, parameters)]


def _with_cost(row: sqlite3.Row) -> dict[str, Any]:
    """A task's or clip's row with its ``restored_cost`` read back (``None``: none, or not one
    this rdpipe wrote)."""
    fields = dict(row)
    kept = fields["restored_cost"]
    try:
        fields["restored_cost"] = None if kept is None else TakeCost(**json.loads(kept))
    except (ValueError, TypeError):
        fields["restored_cost"] = None
    return fields
