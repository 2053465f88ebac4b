"""The run guard: one run per pipeline at a time, held with an OS lock that dies with its holder.

The lock is :mod:`filelock`'s on ``.rdpipe/<pipeline>.run.lock`` (``flock`` on Linux and macOS,
``msvcrt.locking`` on Windows): the kernel releases it when the holding process exits for any
reason (``kill -9`` included), so a crash never leaves a stale guard. The lock file is never
deleted (deleting a lock file races with a waiter that already opened it). The holder writes
its pid, host and start time into ``.rdpipe/<pipeline>.run.json`` beside it, a file of its own
(Windows forbids reading a locked byte), so that a refused run can say who holds the guard.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout

from rdpipe.files import writing_to

from ._errors import RunBusy
from ._paths import StatePaths
from ._records import RunHolder

_WINDOWS = os.name == "nt"


class RunGuard:
    """Mutual exclusion between runs of one pipeline (not to be confused with the lock file).

    Held on the pipeline's ``paths.run_lock``.
    """

    def __init__(
        self,
        paths: StatePaths,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        pid: int | None = None,
        host: str | None = None,
    ) -> None:
        self.path = paths.run_lock
        self.holder_path = holder_path(paths.run_lock)
        self._pipeline = paths.pipeline
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._pid = os.getpid() if pid is None else pid
        self._host = socket.gethostname() if host is None else host

    @contextmanager
    def acquire(self, wait: float = 0.0, poll_interval: float = 0.1) -> Iterator[RunHolder]:
        """Hold the guard for the ``with`` block, waiting up to ``wait`` seconds for it.

        Raises :class:`RunBusy`, naming the holder, if it is still held after ``wait``.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = _file_lock(self.path)
        self._lock(lock, wait, poll_interval)
        try:
            holder = RunHolder(pid=self._pid, host=self._host, started_at=self._clock())
            with writing_to(self.holder_path):  # a full disk names no file
                _write_holder(self.holder_path, holder)
            try:
                yield holder
            finally:
                with suppress(FileNotFoundError):
                    self.holder_path.unlink()  # a released guard names no holder
        finally:
            lock.release()

    def held(self) -> bool:
        """Whether a run seems to hold the guard now, read from the file the holder writes.

        Asked without touching the lock, so asking never makes a starting run wait or refuse
        (``rdpipe status`` in a loop); a holder killed with ``-9`` is seen dead by its pid.
        """
        holder = self.holder()
        if holder is None or holder.pid is None:
            return False
        if holder.host != self._host:
            return True  # another machine's run: its pid cannot be checked from here
        if _WINDOWS:  # os.kill(pid, 0) would end the process there: ask the lock instead
            return _lock_taken(self.path)
        try:
            os.kill(holder.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def holder(self) -> RunHolder | None:
        """Who the guard file names, or ``None``; it may name a holder that just released it."""
        try:
            text = self.holder_path.read_text(encoding="utf-8")
        except OSError:  # never created, or unreadable here
            return None
        return _parse_holder(text)

    def _lock(self, lock: FileLock, wait: float, poll_interval: float) -> None:
        deadline = self._monotonic() + wait
        started = self._monotonic()
        while True:
            try:
                lock.acquire(timeout=0)
                return
            except Timeout:
                now = self._monotonic()
                if now >= deadline:
                    raise RunBusy(self._pipeline, self.path, self.holder(), now - started) from None
                self._sleep(min(poll_interval, deadline - now))


def holder_path(run_lock: Path) -> Path:
    """The file beside the guard's lock naming its holder: ``<pipeline>.run.json``."""
    return run_lock.with_suffix(".json")


def _file_lock(path: Path) -> FileLock:
    """An exclusive, cross-platform lock on ``path``, kept on release, for one acquirer.

    Not thread-local: a run may release from another thread than the one that acquired it.
    """
    return FileLock(path, thread_local=False, preserve_lock_file=True)


def _lock_taken(path: Path) -> bool:
    """Whether another process holds the lock on ``path`` now (it is taken and given back)."""
    lock = _file_lock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def _write_holder(path: Path, holder: RunHolder) -> None:
    data = {"pid": holder.pid, "host": holder.host, "started_at": holder.started_at}
    with open(path, "w", encoding="utf-8") as file:
        file.write(json.dumps(data) + "\n")
        file.flush()
        os.fsync(file.fileno())


def _parse_holder(text: str) -> RunHolder | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    pid, host, started = data.get("pid"), data.get("host"), data.get("started_at")
    return RunHolder(
        pid=pid if isinstance(pid, int) else None,
        host=host if isinstance(host, str) else None,
        started_at=float(started) if isinstance(started, int | float) else None,
    )
