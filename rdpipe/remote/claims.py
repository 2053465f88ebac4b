"""Claims on a shot's take, and the pure rule deciding whether a run may take one.

Before paying for a new clip, a run claims the take's request key in the shared store, so two
teammates running the same pipeline at once pay once (issue 13, section 4). A claim is a
sequence of generations, ``claims/<key>/<take>/1.json``, ``2.json``, ... each created with an
atomic create-if-absent: only the newest generation counts. It is free to take when it is
released or stale (no heartbeat for ``timeout`` seconds), and then the next generation is
created; of two runs creating the same generation at once exactly one succeeds. A run whose
owner id equals the newest generation's owner (the same machine and pipeline state: a crashed
run restarted) takes that generation over at once.

Times are epoch seconds passed in by the caller (``now``): nothing here reads a clock. Runs on
different machines compare each other's timestamps, so their clocks should agree to well within
the timeout.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import TypeGuard

CLAIM_VERSION = 1


@dataclass(frozen=True)
class ClaimRecord:
    """The content of one claim generation: who holds it, since when, last heartbeat (epoch
    seconds), and whether its holder released it."""

    owner: str
    host: str
    claimed_at: float
    heartbeat_at: float
    released: bool = False

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
        released = document.get("released")
        if not (isinstance(owner, str) and isinstance(host, str) and isinstance(released, bool)):
            return None
        if not (_is_number(claimed_at) and _is_number(heartbeat_at)):
            return None
        return cls(owner, host, float(claimed_at), float(heartbeat_at), released)

    def beat(self, now: float) -> ClaimRecord:
        """This record with its heartbeat at ``now``."""
        return replace(self, heartbeat_at=now)


@dataclass(frozen=True)
class Claim:
    """A claim this run holds: keep it alive with heartbeats, release it when the clip is in
    the store (or the run gives up). ``claimed_at`` is epoch seconds."""

    key: str
    take: int
    generation: int
    owner: str
    host: str
    claimed_at: float


@dataclass(frozen=True)
class HeldBy:
    """Another run holds the claim: who (``owner`` on ``host``), since when (``since``), its
    last heartbeat, and when it becomes stale (``stale_at``) unless it beats again; all
    epoch seconds. The caller waits for the clip (bounded) instead of paying for it."""

    key: str
    take: int
    generation: int
    owner: str
    host: str
    since: float
    heartbeat_at: float
    stale_at: float


@dataclass(frozen=True)
class CreateGeneration:
    """Decision: create this generation (1 when there is none) with an atomic create."""

    generation: int


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
    read (not written by rdpipe: treated as free). ``timeout`` is in seconds.
    """
    if newest is None:
        return CreateGeneration(1)
    generation, record = newest
    if record is None or record.released or now - record.heartbeat_at >= timeout:
        return CreateGeneration(generation + 1)
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
    )


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
