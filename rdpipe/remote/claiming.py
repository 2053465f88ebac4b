"""Claims in the store: the reads and atomic creates behind :mod:`rdpipe.remote.claims`' rule.

Blocking, like the rest of the store: a caller in an event loop runs these in a worker thread.
"""

from __future__ import annotations

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
                path = self._path(key, take, step.generation)
                self._backend.write_bytes(path, step.record.beat(now).to_json(), "renew a claim")
                return Claim(key, take, step.generation, owner, host, step.record.claimed_at)
            answer = self._create(key, take, step, ClaimRecord(owner, host, now, now))
            if answer is not None:
                return answer
        folder = self._backend.path(claim_folder(key, take))
        reason = f"{_ATTEMPTS} claims in a row were lost to unreadable ones"
        raise RemoteUnavailable(self._backend.url, "create a claim", folder, reason)

    def heartbeat(self, claim: Claim, now: float) -> bool:
        """Renew ``claim`` at ``now``; ``False`` (and nothing written) when it was taken over:
        a newer generation exists, so another run now generates the clip."""
        if self._newest_generation(claim.key, claim.take) != claim.generation:
            return False
        record = ClaimRecord(claim.owner, claim.host, claim.claimed_at, now)
        path = self._path(claim.key, claim.take, claim.generation)
        self._backend.write_bytes(path, record.to_json(), "renew a claim")
        return True

    def release(self, claim: Claim, now: float) -> None:
        """Mark ``claim`` released at ``now``: any run may claim the take again at once."""
        record = ClaimRecord(claim.owner, claim.host, claim.claimed_at, now, released=True)
        path = self._path(claim.key, claim.take, claim.generation)
        self._backend.write_bytes(path, record.to_json(), "release a claim")

    def holder(self, key: str, take: int, *, now: float) -> HeldBy | None:
        """Who holds a live claim on ``key``'s take ``take`` at ``now`` (``None``: nobody)."""
        step = decide_claim(
            key, take, self._newest(key, take), owner="", now=now, timeout=self._timeout
        )
        return step if isinstance(step, HeldBy) else None

    def _create(
        self, key: str, take: int, step: CreateGeneration, record: ClaimRecord
    ) -> Claim | HeldBy | None:
        path = self._path(key, take, step.generation)
        if self._backend.create_exclusive(path, record.to_json(), "create a claim"):
            return Claim(key, take, step.generation, record.owner, record.host, record.claimed_at)
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

    def _path(self, key: str, take: int, generation: int) -> str:
        return self._backend.path(claim_path(key, take, generation))
