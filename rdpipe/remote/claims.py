"""Claims on a shot's take, and the pure rule deciding whether a run may take one.

Before paying for a new clip, a run claims the take's request key in the shared store, so two
teammates running the same pipeline at once pay once (issue 13, section 4). A claim is a
sequence of generations, ``claims/<key>/<take>/1.json``, ``2.json``, ... each created with an
atomic create-if-absent: only the newest generation counts. It is free to take when it is
released or stale (no heartbeat for ``timeout`` seconds), and then the next generation is
created; of two runs creating the same generation at once exactly one succeeds. A run whose
owner id equals the newest generation's owner (the same machine and pipeline state: a crashed
run restarted) takes that generation over at once.

A claimer notes in its generation the id of the task it submitted, once it has one, so that a
run taking the claim over follows that task (already paid for) instead of paying again: the
:class:`Claim` a takeover returns carries the previous generation's task id
(``taken_from_task``), and :class:`HeldBy` the holder's. A generation made by a takeover starts
with that same task id in its record (the taker follows it and submits nothing), so a run
taking over from the taker in turn still finds it (A pays, dies; B follows, dies; C follows).
Records written before task ids were noted have none (``None``); such a record and one carrying
a task id are both version 1, since readers ignore fields they do not know.

A claim always goes stale: a record whose times are not finite numbers is unreadable (free),
and one whose last heartbeat lies more than a timeout ahead of ``now`` (a clock far ahead, or a
forged record) counts as stale, so no record can make teammates wait forever.

Times are epoch seconds passed in by the caller (``now``): nothing here reads a clock. Runs on
different machines compare each other's timestamps, so their clocks should agree to well within
the timeout.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from typing import TypeGuard

CLAIM_VERSION = 1


@dataclass(frozen=True)
class ClaimRecord:
    """The content of one claim generation: who holds it, since when, last heartbeat (epoch
    seconds), whether its holder released it, and the task it follows: one it submitted, or
    the one the generation it took over named (``None``: none yet, or a record from before task
    ids were noted)."""

    owner: str
    host: str
    claimed_at: float
    heartbeat_at: float
    released: bool = False
    task_id: str | None = None

    def to_json(self) -> bytes:
        """The stored form: UTF-8 JSON with sorted keys and the format's version."""
        document = {"version": CLAIM_VERSION, **asdict(self)}
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ClaimRecord | None:
        """The record stored as ``data``; ``None`` when it is not one this rdpipe can read."""
        try:
            document = json.loads(data)
        except ValueError:
            return None
        if not isinstance(document, dict) or document.get("version") != CLAIM_VERSION:
            return None
        owner, host = document.get("owner"), document.get("host")
        claimed_at, heartbeat_at = document.get("claimed_at"), document.get("heartbeat_at")
        released, task_id = document.get("released"), document.get("task_id")
        if not (isinstance(owner, str) and isinstance(host, str) and isinstance(released, bool)):
            return None
        if not (_is_time(claimed_at) and _is_time(heartbeat_at)):
            return None
        if not (task_id is None or isinstance(task_id, str)):
            return None
        return cls(owner, host, float(claimed_at), float(heartbeat_at), released, task_id)

    def beat(self, now: float) -> ClaimRecord:
        """This record with its heartbeat at ``now``."""
        return replace(self, heartbeat_at=now)


@dataclass(frozen=True)
class Claim:
    """A claim this run holds: keep it alive with heartbeats, note the task it submits, release
    it when the clip is in the store (or the run gives up). ``claimed_at`` is epoch seconds.

    ``taken_from_task`` is the task id the previous generation's record names (its holder's,
    or one it carried over itself), when this claim took a stale or released one over (or this
    owner's own, taken back after a crash): that
    task may be running or finished, paid for; follow it rather than submitting again. ``None``
    when there was no previous generation, or it noted no task.
    """

    key: str
    take: int
    generation: int
    owner: str
    host: str
    claimed_at: float
    taken_from_task: str | None = None


@dataclass(frozen=True)
class HeldBy:
    """Another run holds the claim: who (``owner`` on ``host``), since when (``since``), its
    last heartbeat, and when it becomes stale (``stale_at``) unless it beats again; all
    epoch seconds; ``task_id`` the task it follows, submitted or carried over from the
    generation it took over (``None``: none yet). The
    caller waits for the clip (bounded) instead of paying for it."""

    key: str
    take: int
    generation: int
    owner: str
    host: str
    since: float
    heartbeat_at: float
    stale_at: float
    task_id: str | None = None


@dataclass(frozen=True)
class CreateGeneration:
    """Decision: create this generation (1 when there is none) with an atomic create; the
    task the generation before it noted (``None``: none, or no generation before)."""

    generation: int
    previous_task: str | None = None


@dataclass(frozen=True)
class TakeOwn:
    """Decision: the newest generation is this owner's, live: take it over in place."""

    generation: int
    record: ClaimRecord


def decide_claim(
    key: str,
    take: int,
    newest: tuple[int, ClaimRecord | None] | None,
    *,
    owner: str,
    now: float,
    timeout: float,
) -> CreateGeneration | TakeOwn | HeldBy:
    """What a run owned by ``owner`` may do, given the newest generation and its record.

    ``newest`` is ``None`` when no generation exists; its record is ``None`` when it cannot be
    read (not written by rdpipe: treated as free). ``timeout`` is in seconds. A heartbeat more
    than ``timeout`` ahead of ``now`` counts as stale (see the module's docstring).
    """
    if newest is None:
        return CreateGeneration(1)
    generation, record = newest
    if record is None:
        return CreateGeneration(generation + 1)
    age = now - record.heartbeat_at
    if record.released or age >= timeout or -age > timeout:
        return CreateGeneration(generation + 1, record.task_id)
    if record.owner == owner:
        return TakeOwn(generation, record)
    return held_by(key, take, generation, record, timeout)


def held_by(key: str, take: int, generation: int, record: ClaimRecord, timeout: float) -> HeldBy:
    """The :class:`HeldBy` answer for a live generation's record."""
    return HeldBy(
        key=key,
        take=take,
        generation=generation,
        owner=record.owner,
        host=record.host,
        since=record.claimed_at,
        heartbeat_at=record.heartbeat_at,
        stale_at=record.heartbeat_at + timeout,
        task_id=record.task_id,
    )


def _is_time(value: object) -> TypeGuard[int | float]:
    """A finite number (JSON's ``NaN`` and ``Infinity`` are not times)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
