"""The run guard: one run per pipeline at a time, held with an OS lock that dies with its holder.

``fcntl.flock`` on ``.rdpipe/<pipeline>.run.lock`` is released by the kernel when the holding
process exits for any reason (``kill -9`` included), so a crash never leaves a stale guard. The
file itself is never deleted (deleting a flock file races with a waiter that already opened it);
the holder writes its pid, host and start time into it so a refused run can say who holds it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rdpipe.files import writing_to

from ._errors import RunBusy
from ._paths import StatePaths
from ._records import RunHolder


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
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._lock(descriptor, wait, poll_interval)
            holder = RunHolder(pid=self._pid, host=self._host, started_at=self._clock())
            with writing_to(self.path):  # a full disk names no file
                _write_holder(descriptor, holder)
            try:
                yield holder
            finally:
                os.ftruncate(descriptor, 0)  # a released guard names no holder
        finally:
            os.close(descriptor)  # closing releases the flock

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
            text = self.path.read_text(encoding="utf-8")
        except OSError:  # never created, or unreadable here
            return None
        return _parse_holder(text)

    def _lock(self, descriptor: int, wait: float, poll_interval: float) -> None:
        deadline = self._monotonic() + wait
        started = self._monotonic()
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                now = self._monotonic()
                if now >= deadline:
                    raise RunBusy(self._pipeline, self.path, self.holder(), now - started) from None
                self._sleep(min(poll_interval, deadline - now))


def _write_holder(descriptor: int, holder: RunHolder) -> None:
    data = {"pid": holder.pid, "host": holder.host, "started_at": holder.started_at}
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, (json.dumps(data) + "\n").encode(), 0)
    os.fsync(descriptor)


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
