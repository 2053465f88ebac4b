"""Clips this run state does not hold but that exist: named by the lock file, or in the shared
clip store (issue 13 §1).

A teammate's clone has the pipeline and its lock file but not the run state or the clips; a
machine whose ``.rdpipe/`` was deleted has the clips but no state. For a key and take the state
knows nothing of, :class:`ClipSources` says where its clip can be obtained without submitting,
in the order it is tried: this disk (the lock file's path, its hash checked), the shared clip
store (by key, else by the lock's hash), the task that made it on the server (its id in the
lock file). ``status`` and ``plan`` show the first; a run tries them in turn
(:mod:`.restore`) and comes back with the reason when all fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

from rdpipe.plan import NEW, Action, ClipSource, Decision, Job, KnownClip, Plan
from rdpipe.state import ClipFile, ClipStore, ShotLock, TakeLock

if TYPE_CHECKING:
    from rdpipe.remote import IndexEntry


@dataclass(frozen=True)
class Locked:
    """One take's lock entry, with its shot's."""

    shot: ShotLock
    take: TakeLock


class ClipSources:
    """Where the clip of a key and take may be found when the state holds none.

    Read on first use, so a run whose state knows every shot reads neither the lock file nor
    the store: ``read_lock`` gives the lock file's entries, ``read_index`` what the shared clip
    store's index holds for the plan's keys, by (key, take) (``{}`` without a store).
    ``unavailable``: why obtaining a key's clip failed in this run, so the plan generates it and
    says why.
    """

    def __init__(
        self,
        clips: ClipStore,
        read_lock: Callable[[], Iterable[ShotLock]],
        read_index: Callable[[], Mapping[tuple[str, int], IndexEntry]] = dict,
        unavailable: Mapping[tuple[str, int], str] | None = None,
    ) -> None:
        self.clips = clips
        self._read_lock = read_lock
        self._read_index = read_index
        self.unavailable = dict(unavailable or {})

    def check_lock(self) -> None:
        """Read the lock file now: one that is not valid (a merge conflict, a hand edit) stops
        a run before its first request (:class:`~rdpipe.state.LockFileInvalid`, exit 2), not
        when the lock file is written at its end."""
        _ = self.locked

    @cached_property
    def lock_entries(self) -> tuple[ShotLock, ...]:
        """The lock file's entries, as read (once) at the start of this command."""
        return tuple(self._read_lock())

    @cached_property
    def locked(self) -> dict[tuple[str, int], Locked]:
        """The lock file's takes by (key, take)."""
        return {
            (take.key or shot.key, take.take): Locked(shot, take)
            for shot in self.lock_entries
            for take in shot.takes
        }

    @cached_property
    def shared(self) -> Mapping[tuple[str, int], IndexEntry]:
        """The shared store's index entries for the plan's keys and takes."""
        return self._read_index()

    @property
    def locked_names(self) -> set[str]:
        """The names of the lock file's entries: shot ids, and for a shot's renditions
        ``kite:draft``, ``kite:vertical`` (issue 17; :func:`lock_name` of a job)."""
        return {locked.shot.name for locked in self.locked.values()}

    def with_unavailable(self, reasons: Mapping[tuple[str, int], str]) -> ClipSources:
        """These sources (what was read stays read), knowing why the clips of ``reasons``' keys
        could not be obtained."""
        entries, index = self.lock_entries, self.shared
        return ClipSources(
            self.clips, lambda: entries, lambda: index, {**self.unavailable, **reasons}
        )

    def note_changes(self, plan: Plan) -> Plan:
        """``plan`` with each new shot that the lock file names in an earlier version (an
        edited shot) saying so, rather than only that no clip exists for its request."""
        new = {id(job) for job in plan.jobs if job.action is Action.GENERATE and job.reason == NEW}
        if not new:
            return plan
        names = self.locked_names
        jobs = [
            replace(job, reason=f"changed since the lock file was written; {NEW}")
            if id(job) in new and lock_name(job) in names
            else job
            for job in plan.jobs
        ]
        return replace(plan, jobs=jobs)

    def decide(self, key: str, take: int) -> Decision | None:
        """Restore the clip from where it is, or generate it saying why it is unavailable;
        ``None`` when neither the lock nor the store knows the key (blocks: may hash a file)."""
        where = (key, take)
        reason = self.unavailable.get(where)
        if reason is not None:
            return Decision(Action.GENERATE, f"locked clip unavailable: {reason}")
        known = self.known(key, take)
        if known is None:
            return None
        return Decision(Action.RESTORE, _reason(known), known=known)

    def known(self, key: str, take: int) -> KnownClip | None:
        """The clip of ``key``/``take`` and where it is first looked for, if anywhere."""
        locked = self.locked.get((key, take))
        entry = self.shared.get((key, take))
        if locked is not None:
            lock = locked.take
            in_store = entry is not None and entry.sha256 == lock.sha256
            source: ClipSource = (
                "local" if self._on_disk(lock) else "shared" if in_store else "server"
            )
            return KnownClip(
                task_id=lock.task_id,
                sha256=lock.sha256,
                source=source,
                path=lock.clip,
                seed=lock.seed,
                duration=lock.duration,
                cost=lock.cost,
            )
        return None if entry is None else known_from_index(entry)

    def _on_disk(self, lock: TakeLock) -> bool:
        """Whether the lock's clip is on this disk, whole and with the lock's hash."""
        try:
            path = self.clips.resolve(lock.clip)
            size = path.stat().st_size
        except (OSError, ValueError):
            return False
        return self.clips.verify(ClipFile(lock.clip, size, lock.sha256)).ok


def lock_name(job: Job) -> str:
    """The name of the lock entry a job's clip goes in: ``kite``, ``kite:draft``."""
    rendition = job.shot.rendition
    return f"{job.shot.id}:{rendition}" if rendition else job.shot.id


def known_from_index(entry: IndexEntry) -> KnownClip:
    """The clip the shared store's index names for a key and take, to pull from it."""
    return KnownClip(
        task_id=entry.task_id,
        sha256=entry.sha256,
        source="shared",
        seed=entry.seed,
        duration=entry.duration,
        cost=entry.cost,
    )


def _reason(known: KnownClip) -> str:
    task = f"task {known.task_id}"
    if known.source == "local":
        return f"locked clip {known.path} is on this disk ({task}): kept (no new charge)"
    if known.source == "shared":
        made = "locked clip" if known.path is not None else "clip made before"
        return f"{made} of {task} is in the shared clip store: a run fetches it (no new charge)"
    return f"locked clip of {task}: a run downloads it from the server again (no new charge)"
