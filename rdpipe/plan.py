"""What a run would do: each shot's cache key, its action and why, and what it would cost.

Pure: it takes rendered shots and (optionally) what the run state knows, and returns a
:class:`Plan`; ``rdpipe plan`` prints it and ``rdpipe run`` executes it. :func:`decide` is the
never-pay-twice rule: what the state of one key and take allows (reuse, resume, block, retry).

A shot's key is the SHA-256 of its request's body (canonical JSON). Local images are inside the
body as data URLs, so the key covers their bytes and never their paths. A shot that starts from
another shot's last frame also hashes that shot's key, so regenerating the first regenerates the
second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from rdpipe.failure_codes import classify_failure
from rdpipe.render import RenderedShot

if TYPE_CHECKING:
    from rdpipe.prices import ShotCost
    from rdpipe.request import GenerationRequest
    from rdpipe.state import ClipStore, ShotState, StateStore, StoredClip, TakeCost, TaskRecord


class Action(StrEnum):
    """What the run does with a shot."""

    GENERATE = "generate"  # submit a new (billed) task
    RESUME = "resume"  # a task was already submitted: poll it, don't pay again
    REUSE = "reuse"  # a verified clip with this key exists
    RESTORE = "restore"  # a clip made for this key before (lock file, shared store): fetch it
    BLOCKED = "blocked"  # an earlier submit's outcome is unknown; not resubmitted blindly
    REFUSED = "refused"  # the same request's input was refused; resent only with --force


ClipSource = Literal["local", "shared", "server"]
"""Where a known clip comes from: this disk, the shared clip store, or its task on the server."""


@dataclass(frozen=True)
class KnownClip:
    """A clip made for a key and take before, which this state does not hold: the lock file
    names it, or the shared clip store indexes it. Obtained without submitting.

    ``path``: where the lock file places it (relative to the output folder); ``None`` when only
    the shared store knows it. ``source``: the first place it is looked for (then the next
    ones, in the order ``local``, ``shared``, ``server``).
    """

    task_id: str
    sha256: str
    source: ClipSource
    path: str | None = None
    seed: int | None = None
    duration: float | None = None  # seconds
    cost: TakeCost | None = None  # what it cost, as the lock file or the store's index say


def known_clip(job: Job) -> KnownClip:
    """The clip a ``restore`` job obtains; raises ``ValueError`` for any other job."""
    if job.known is None:
        raise ValueError(f"shot {job.shot.label} has no clip made before to restore")
    return job.known


@dataclass(frozen=True)
class Decision:
    """What the run state says about a key: the action, why, and what to continue from."""

    action: Action
    reason: str
    task_id: str | None = None  # RESUME: the task already paid for; REUSE: the clip's task
    clip: StoredClip | None = None  # REUSE: the verified clip
    failed_before: bool = False  # GENERATE: the last attempt failed (not billed)
    known: KnownClip | None = None  # RESTORE: the clip to obtain
    # RESUME: the task was submitted after the newest clip of this key (a regeneration paid
    # for and not yet downloaded); --force follows it rather than paying again.
    newer_than_clip: bool = False


@dataclass(frozen=True)
class Job:
    """One shot in the plan, and the request to send for it.

    ``shot.request`` is the request as rendered: its body is the cache key's; the journal
    records it with its local files as the URLs they were sent by
    (:meth:`~rdpipe.request.GenerationRequest.with_hosted`).
    :attr:`request` is the one to send; it differs only by the run's webhook (``--listen``),
    which :meth:`with_webhook` sets as its ``callback_url``, replacing one written in the file.
    The webhook carries a per-run secret, so it is never hashed, journaled or shown.
    :attr:`cost` is what the request is estimated to cost (quota units, pre-charge and
    expected), which the session sets from the relay's prices with :meth:`with_cost`;
    ``None`` when prices were not read or the model is not priced.
    """

    shot: RenderedShot
    key: str
    action: Action
    reason: str
    task_id: str | None = None  # RESUME: the task to follow; REUSE: the task that made the clip
    clip: StoredClip | None = None  # REUSE: the verified clip (not for same_as)
    same_as: str | None = None  # REUSE within this run: the shot generating the same request
    failed_before: bool = False
    webhook: str | None = None  # the run's callback URL for this take (--listen)
    known: KnownClip | None = None  # RESTORE: the clip to obtain without submitting
    cost: ShotCost | None = None  # the estimate from the relay's prices (quota units)

    @property
    def billed_seconds(self) -> int:
        return self.shot.seconds if self.action is Action.GENERATE else 0

    @cached_property
    def request(self) -> GenerationRequest:
        """The request to send: the rendered one, with the run's webhook as its callback."""
        rendered = self.shot.request
        return rendered if self.webhook is None else rendered.with_callback(self.webhook)

    def with_webhook(self, url: str) -> Job:
        """This job with the run's webhook ``url`` as the callback of the request sent."""
        return replace(self, webhook=url)

    def with_cost(self, cost: ShotCost | None) -> Job:
        """This job with its estimated ``cost`` (quota units; ``None``: not priced)."""
        return replace(self, cost=cost)


@dataclass(frozen=True)
class ModelTotals:
    generations: int = 0
    billed_seconds: int = 0


#: The stages a run's generations belong to (issue 17), in the order ``plan`` shows them.
DRAFTS, FINALS, REGENERATIONS = "drafts", "finals", "regenerations"


@dataclass(frozen=True)
class Stage:
    """The jobs of one stage of a plan: the draft takes (``drafts``), the storyboard's clips
    (``finals``: a drafted shot's final and every take of a shot without drafts), or the
    regenerations for one deliverable (``regenerations``, ``deliverable`` its name)."""

    name: str
    deliverable: str | None
    jobs: tuple[Job, ...]

    @property
    def generations(self) -> int:
        return sum(job.action is Action.GENERATE for job in self.jobs)

    @property
    def billed_seconds(self) -> int:
        return sum(job.billed_seconds for job in self.jobs)

    @property
    def title(self) -> str:
        """``drafts``, ``finals``, ``regenerated for vertical``."""
        return self.name if self.deliverable is None else f"regenerated for {self.deliverable}"


def stage_of(shot: RenderedShot) -> tuple[str, str | None]:
    """The stage (and deliverable) a rendered take belongs to, by its rendition."""
    if shot.rendition == "draft":
        return DRAFTS, None
    if shot.rendition == "":
        return FINALS, None
    return REGENERATIONS, shot.rendition


@dataclass(frozen=True)
class Plan:
    """Every job in storyboard order, with totals of what would be submitted."""

    pipeline: str
    jobs: list[Job]
    by_model: dict[str, ModelTotals] = field(default_factory=dict)

    @property
    def billed_seconds(self) -> int:
        return sum(totals.billed_seconds for totals in self.by_model.values())

    @property
    def needs_api(self) -> bool:
        """Whether running the plan sends anything: a submit, a poll or a download."""
        return any(job.action in (Action.GENERATE, Action.RESUME) for job in self.jobs)

    @property
    def generations(self) -> int:
        return sum(totals.generations for totals in self.by_model.values())

    @property
    def stages(self) -> list[Stage]:
        """The plan's jobs by stage: drafts, finals, then the regenerations of each
        deliverable in the order they first appear; a stage with no job is left out."""
        grouped: dict[tuple[str, str | None], list[Job]] = {}
        order = {DRAFTS: 0, FINALS: 1, REGENERATIONS: 2}
        for job in self.jobs:
            grouped.setdefault(stage_of(job.shot), []).append(job)
        keys = sorted(grouped, key=lambda key: order[key[0]])  # stable: first appearance
        return [Stage(name, deliverable, tuple(grouped[name, deliverable]))
                for name, deliverable in keys]  # fmt: skip

    @property
    def staged(self) -> bool:
        """Whether the plan has more than the storyboard's clips: drafts or regenerations."""
        return any(job.shot.rendition for job in self.jobs)

    def to_json(self) -> dict[str, Any]:
        """The ``rdpipe plan --json`` object."""
        return {
            "pipeline": self.pipeline,
            "shots": [
                {
                    "id": job.shot.id,
                    "take": job.shot.take,
                    "rendition": job.shot.rendition,
                    "label": job.shot.label,
                    "from_take": job.shot.from_take,
                    "key": job.key,
                    "action": job.action.value,
                    "reason": job.reason,
                    "request": job.shot.request.to_json(),
                }
                for job in self.jobs
            ],
            "totals": {
                "generations": self.generations,
                "billed_seconds": self.billed_seconds,
                "by_model": {
                    model: {"generations": t.generations, "billed_seconds": t.billed_seconds}
                    for model, t in sorted(self.by_model.items())
                },
                "by_stage": [
                    {
                        "stage": stage.name,
                        "deliverable": stage.deliverable,
                        "generations": stage.generations,
                        "billed_seconds": stage.billed_seconds,
                    }
                    for stage in self.stages
                ],
            },
        }


#: Why a shot nothing is known of is generated.
NEW = "no clip for this request yet"

#: Asks the run state about a key and take; None when nothing is known about it.
StateLookup = Callable[[str, int], Decision | None]


def shot_keys(shots: Sequence[RenderedShot]) -> dict[str, str]:
    """Cache key of every take (by label), following continuity links.

    A shot that starts from another's last frame hashes in the key of that shot's picked take
    (or its first), so regenerating the upstream clip regenerates this one; of the upstream
    shot's renditions, the one of the same name (a draft starts from a draft), else the
    storyboard's.
    """
    upstream_take = {
        (shot.id, shot.rendition): shot for shot in shots if shot.take == (shot.pick or 1)
    }
    keys: dict[str, str] = {}

    def upstream_of(shot: RenderedShot) -> RenderedShot | None:
        """The take this one starts from: the upstream shot's of the same rendition, else its
        storyboard one, else its draft (a shot awaiting a pick)."""
        name = shot.first_frame_from or ""
        for rendition in (shot.rendition, "", "draft"):
            if (name, rendition) in upstream_take:
                return upstream_take[name, rendition]
        return None

    def key_of(shot: RenderedShot, depth: int = 0) -> str:
        if shot.label in keys:
            return keys[shot.label]
        digest = hashlib.sha256(shot.request.body)
        upstream = upstream_of(shot)
        if upstream is not None and depth < len(shots):
            digest.update(b"\0first-frame-from\0" + key_of(upstream, depth + 1).encode())
        keys[shot.label] = digest.hexdigest()
        return keys[shot.label]

    for shot in shots:
        key_of(shot)
    return keys


def plan_run(
    pipeline: str,
    shots: Sequence[RenderedShot],
    *,
    lookup: StateLookup | None = None,
    force: Mapping[str, bool] | None = None,
) -> Plan:
    """Decide each shot's action: reuse or resume what the state knows, else generate."""
    keys = shot_keys(shots)
    force = force or {}
    jobs: list[Job] = []
    first_with_key: dict[str, str] = {}
    totals: dict[str, ModelTotals] = {}
    for shot in shots:
        key = keys[shot.label]
        forced = force.get(shot.id, False)
        known = None if lookup is None else lookup(key, shot.take)
        if forced and known is not None and known.newer_than_clip:
            pass  # a regeneration already paid for: follow it (below), never pay twice
        elif forced:
            known = None
        if key in first_with_key and not forced:
            same = first_with_key[key]
            job = Job(shot, key, Action.REUSE, f"same request as {same!r}", same_as=same)
        elif forced and known is None:
            job = Job(shot, key, Action.GENERATE, "forced with --force")
        elif known is not None:
            job = Job(
                shot,
                key,
                known.action,
                known.reason,
                known.task_id,
                known.clip,
                failed_before=known.failed_before,
                known=known.known,
            )
        else:
            job = Job(shot, key, Action.GENERATE, NEW)
        first_with_key.setdefault(key, shot.label)
        jobs.append(job)
        action = job.action
        if action is Action.GENERATE:
            before = totals.get(shot.model, ModelTotals())
            totals[shot.model] = ModelTotals(
                before.generations + 1, before.billed_seconds + shot.seconds
            )
    return Plan(pipeline, jobs, totals)


def decide(
    store: StateStore,
    clips: ClipStore,
    key: str,
    take: int,
    *,
    resubmit_unknown: bool,
    run_in_progress: bool = False,
) -> Decision | None:
    """What the run state says about one key and take: reuse, resume, block or retry.

    A recorded clip is reused only when it is intact and whole (``clips`` checks its media);
    otherwise the task that made it is downloaded again (paid for: never resubmitted).
    ``run_in_progress``: another run holds the guard (``status`` asks), so a finished task
    without a clip is being downloaded, not missing. ``None``: the state knows nothing useful.
    """
    state = store.lookup(key, take)
    pending = _paid_since_clip(state)
    if pending is not None:
        who = "the run in progress follows it" if run_in_progress else "following it"
        return Decision(
            Action.RESUME,
            f"task {pending.task_id} was submitted after the newest clip of this request "
            f"(a regeneration already paid for); {who} (no new charge)",
            task_id=pending.task_id,
            newer_than_clip=True,
        )
    damage: str | None = None
    for clip in state.clips:
        check = clips.verify(clip.file)
        if check.ok:
            return Decision(
                Action.REUSE, f"cached clip {clip.path}", task_id=clip.task_id, clip=check.clip
            )
        damage = damage or check.detail
    finished = [task for task in state.succeeded if task.can_follow]  # a reissued id: start over
    if finished:
        task = finished[0]
        if run_in_progress and damage is None:
            why = "the run in progress is downloading its clip (no new charge)"
        else:
            why = f"{damage or 'its clip is missing'}, downloading it again (no new charge)"
        return Decision(Action.RESUME, f"task {task.task_id} finished; {why}", task_id=task.task_id)
    if state.in_flight:
        task = state.in_flight[0]
        who = "the run in progress follows it" if run_in_progress else "following it"
        where = f" to {task.api_host}" if task.api_host else ""
        return Decision(
            Action.RESUME,
            f"task {task.task_id} was submitted earlier{where}; {who} (no new charge)",
            task_id=task.task_id,
        )
    if state.unknown and not resubmit_unknown:
        return Decision(Action.BLOCKED, _unknown_reason(state.unknown[0].reason))
    if state.failed:
        task = state.failed[0]
        reason = task.error_message or "no reason given"
        if task.error_code:
            reason += f" ({task.error_code})"
        if not classify_failure(task.error_code).retried:
            said = f"{task.error_code}: {task.error_message or 'no reason given'}"
            return Decision(
                Action.REFUSED,
                f"RelayDance refused this request's input in task {task.task_id} ({said}); it is "
                "not sent again unchanged: change the shot, or pass --force to try it anyway",
                task_id=task.task_id,
            )
        return Decision(
            Action.GENERATE,
            f"the last attempt failed: {reason}; trying again",
            failed_before=True,
        )
    return None


def _paid_since_clip(state: ShotState) -> TaskRecord | None:
    """A task submitted after the newest recorded clip, still running or not yet downloaded.

    Such a task is a regeneration (``--force``) that a stopped run paid for: following it keeps
    its clip (stored beside the older one, never over it) and never pays for it twice.
    """
    newest = state.clip
    if newest is None:
        return None
    stored = {clip.task_id for clip in state.clips}
    later = [
        task
        for task in (*state.in_flight, *state.succeeded)
        if task.can_follow and task.task_id not in stored and task.submitted_at > newest.recorded_at
    ]
    return max(later, key=lambda task: task.submitted_at, default=None)


def _unknown_reason(reason: str | None) -> str:
    """Why a shot whose earlier submit has an unknown outcome is not resent (one sentence)."""
    said = (reason or "no answer came back").rstrip(".")
    billed = "" if "billed" in said else "; it may have been billed"
    return (
        f"an earlier submit is unresolved: {said}{billed}. It is not resent: check your "
        "RelayDance dashboard, then rerun with --resubmit-unknown"
    )
