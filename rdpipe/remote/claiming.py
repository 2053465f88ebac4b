"""Claims in the store: the reads and atomic creates behind :mod:`rdpipe.remote.claims`' rule.

Blocking, like the rest of the store: a caller in an event loop runs these in a worker thread.
A run's heartbeats, task notes and release of one claim may come from different threads: each
rewrites the whole record, so they take turns (one lock), and each keeps the task id noted
last, which the book remembers for the claims it made (a claim made by another book, such as
before a restart, has its task id read back from its record).

A generation created by a takeover carries the previous generation's task id from the start:
a run that takes a claim over follows that task and submits nothing, so unless its record
named the task, a third run taking over from it in turn would find no task and pay again. A
task the run does submit (:meth:`ClaimBook.note_task`) replaces it.
"""

from __future__ import annotations

import threading

from .backends import Backend
from .claims import (
    Claim,
    ClaimRecord,
    CreateGeneration,
    HeldBy,
    TakeOwn,
    decide_claim,
    held_by,
)
from .errors import RemoteUnavailable
from .layout import claim_folder, claim_path, generation_of

_ATTEMPTS = 4  # a create lost to a claimer whose record then proves unreadable is retried


class ClaimBook:
    """The claims kept in one store's ``claims/`` folder; ``timeout`` is in seconds."""

    def __init__(self, backend: Backend, timeout: float) -> None:
        if backend.kind.create == "":
            raise ValueError(f"{backend.url} cannot hold claims: {backend.kind.no_claims_reason}")
        self._backend = backend
        self._timeout = timeout
        self._turn = threading.Lock()  # one rewrite of a claim's record at a time
        self._tasks: dict[tuple[str, int, int], str | None] = {}  # claims made here: task ids

    def claim(self, key: str, take: int, owner: str, *, now: float, host: str) -> Claim | HeldBy:
        """Claim ``key``'s take ``take`` for ``owner`` (on ``host``) at ``now`` (epoch seconds).

        Returns the :class:`Claim` when this run may generate the clip, or :class:`HeldBy` when
        another live run does. Raises :class:`RemoteUnavailable` when the store fails.
        """
        for _ in range(_ATTEMPTS):
            step = decide_claim(
                key, take, self._newest(key, take), owner=owner, now=now, timeout=self._timeout
            )
            if isinstance(step, HeldBy):
                return step
            if isinstance(step, TakeOwn):
                return self._take_own(key, take, step, now)
            record = ClaimRecord(owner, host, now, now, task_id=step.previous_task)
            answer = self._create(key, take, step, record)
            if answer is not None:
                return answer
        folder = self._backend.path(claim_folder(key, take))
        reason = f"{_ATTEMPTS} claims in a row were lost to unreadable ones"
        raise RemoteUnavailable(self._backend.url, "create a claim", folder, reason)

    def heartbeat(self, claim: Claim, now: float) -> bool:
        """Renew ``claim`` at ``now``; ``False`` (and nothing written) when it was taken over:
        a newer generation exists, so another run now generates the clip."""
        with self._turn:
            if self._newest_generation(claim.key, claim.take) != claim.generation:
                return False
            self._write(claim, now, self._task_of(claim), action="renew a claim")
            return True

    def note_task(self, claim: Claim, task_id: str, now: float) -> bool:
        """Note in ``claim``'s record that its run submitted ``task_id``, with a heartbeat at
        ``now``; ``False`` (and nothing written) when the claim was taken over."""
        with self._turn:
            if self._newest_generation(claim.key, claim.take) != claim.generation:
                return False
            self._write(claim, now, task_id, action="note the claim's task")
            self._tasks[_triple(claim)] = task_id
            return True

    def release(self, claim: Claim, now: float) -> None:
        """Mark ``claim`` released at ``now``: any run may claim the take again at once (and
        follow the task noted in it, if any)."""
        with self._turn:
            self._write(claim, now, self._task_of(claim), action="release a claim", released=True)

    def holder(self, key: str, take: int, *, now: float) -> HeldBy | None:
        """Who holds a live claim on ``key``'s take ``take`` at ``now`` (``None``: nobody)."""
        step = decide_claim(
            key, take, self._newest(key, take), owner="", now=now, timeout=self._timeout
        )
        return step if isinstance(step, HeldBy) else None

    def _take_own(self, key: str, take: int, step: TakeOwn, now: float) -> Claim:
        record = step.record
        with self._turn:
            path = self._path(key, take, step.generation)
            self._backend.write_bytes(path, record.beat(now).to_json(), "renew a claim")
            self._tasks[(key, take, step.generation)] = record.task_id
        return Claim(
            key, take, step.generation, record.owner, record.host, record.claimed_at,
            taken_from_task=record.task_id,
        )  # fmt: skip

    def _create(
        self, key: str, take: int, step: CreateGeneration, record: ClaimRecord
    ) -> Claim | HeldBy | None:
        path = self._path(key, take, step.generation)
        if self._backend.create_exclusive(path, record.to_json(), "create a claim"):
            self._tasks[(key, take, step.generation)] = record.task_id
            return Claim(
                key, take, step.generation, record.owner, record.host, record.claimed_at,
                taken_from_task=step.previous_task,
            )  # fmt: skip
        winner = self._record(path)
        if winner is None:
            return None
        return held_by(key, take, step.generation, winner, self._timeout)

    def _newest(self, key: str, take: int) -> tuple[int, ClaimRecord | None] | None:
        generation = self._newest_generation(key, take)
        if generation is None:
            return None
        return generation, self._record(self._path(key, take, generation))

    def _newest_generation(self, key: str, take: int) -> int | None:
        folder = self._backend.path(claim_folder(key, take))
        names = self._backend.list_names(folder, "list the claims")
        generations = [g for g in map(generation_of, names) if g is not None]
        return max(generations, default=None)

    def _record(self, path: str) -> ClaimRecord | None:
        data = self._backend.read_bytes(path, "read a claim")
        return None if data is None else ClaimRecord.from_json(data)

    def _task_of(self, claim: Claim) -> str | None:
        """The task id noted last in ``claim``'s record: remembered, or read back."""
        if _triple(claim) in self._tasks:
            return self._tasks[_triple(claim)]
        record = self._record(self._path(claim.key, claim.take, claim.generation))
        return record.task_id if record is not None and record.owner == claim.owner else None

    def _write(
        self, claim: Claim, now: float, task_id: str | None, *, action: str, released: bool = False
    ) -> None:
        record = ClaimRecord(claim.owner, claim.host, claim.claimed_at, now, released, task_id)
        path = self._path(claim.key, claim.take, claim.generation)
        self._backend.write_bytes(path, record.to_json(), action)

    def _path(self, key: str, take: int, generation: int) -> str:
        return self._backend.path(claim_path(key, take, generation))


def _triple(claim: Claim) -> tuple[str, int, int]:
    return claim.key, claim.take, claim.generation
