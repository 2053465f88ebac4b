"""Plain records the run state hands out: pure data, safe to pass to the planner.

Times are epoch seconds from the clock the :class:`~rdpipe.state.StateStore` was opened with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from ._lock_entries import TakeCost

RecordedTaskState = Literal["pending", "running", "succeeded", "failed"]
"""A task's last known state on the server; ``succeeded`` and ``failed`` are final."""

IntentOutcome = Literal["pending", "submitted", "unknown", "refused", "abandoned"]
"""What became of a submit intent.

``pending``: recorded, the POST may be on the wire. ``unknown``: sent, no answer (or the run
died before recording one); it may have been billed. ``refused``: the server said no; nothing was
billed. ``abandoned``: an unknown intent the user chose to resubmit over (``--resubmit-unknown``).
"""

FINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed"})


@dataclass(frozen=True)
class IntentRecord:
    """A submit about to be sent (or sent): recorded durably before the POST."""

    intent_id: int
    key: str
    shot_id: str
    take: int
    attempt: int
    model: str | None
    request_json: str
    created_at: float
    outcome: IntentOutcome
    reason: str | None
    task_id: str | None
    resolved_at: float | None
    api_host: str | None = None  # where it was sent; None: recorded before rdpipe noted hosts
    run_id: int | None = None  # the run that sent it (:class:`RunRecord`); None: not known
    precharge_quota: int | None = None  # the estimate it was sent with (quota units)
    expected_quota: int | None = None


@dataclass(frozen=True)
class TaskRecord:
    """A task the server accepted, with its last polled status.

    ``reissued_at`` is set once the server gave the same task id to a later submit: the id now
    names that task, so this one can no longer be polled or downloaded (if it had not finished,
    it was marked failed with the code ``task_id_reused``). ``api_host`` is the API host it was
    submitted to (``None``: unknown, recorded before rdpipe noted hosts, or offline).

    What it costs, in quota units (``None``: not known; recorded before rdpipe knew prices,
    sent while they could not be read, or restored rather than submitted here): the
    ``precharge_quota`` and ``expected_quota`` estimated when it was sent by the run
    ``run_id``, and the ``settled_quota`` the relay charged once it finished (0 when it failed:
    refunded). ``currency``, ``quota_per_unit`` and ``currency_rate`` are the display currency
    that run saw (see :class:`RunRecord`). ``restored_cost``: for a clip restored rather than
    submitted here, the cost the lock file or the shared store's index gave for it.
    """

    task_id: str
    intent_id: int
    key: str
    shot_id: str
    take: int
    attempt: int
    model: str | None
    submitted_at: float
    state: RecordedTaskState
    progress: int | None
    error_code: str | None
    error_message: str | None
    seed: int | None
    duration: float | None
    updated_at: float
    finished_at: float | None
    reissued_at: float | None = None
    api_host: str | None = None
    run_id: int | None = None
    precharge_quota: int | None = None
    expected_quota: int | None = None
    settled_quota: int | None = None
    currency: str | None = None
    quota_per_unit: float | None = None
    currency_rate: float | None = None
    restored_cost: TakeCost | None = None

    @property
    def is_final(self) -> bool:
        """Whether the server reported a final state (nothing more to poll)."""
        return self.state in FINAL_STATES

    @property
    def can_follow(self) -> bool:
        """Whether the task id still names this task on the server (it was not reissued)."""
        return self.reissued_at is None


class CostEstimate(Protocol):
    """What a submit is estimated to cost, in quota units (:class:`rdpipe.prices.ShotCost`)."""

    @property
    def precharge(self) -> int: ...

    @property
    def expected(self) -> int: ...


class DisplayCurrency(Protocol):
    """The account's display currency as the relay states it (:class:`rdpipe.prices.Currency`):
    ``code`` "USD", "CNY" or "TOKENS", ``quota_per_unit`` quota units per US dollar, ``rate``
    units of the currency per US dollar."""

    @property
    def code(self) -> str: ...

    @property
    def quota_per_unit(self) -> float: ...

    @property
    def rate(self) -> float: ...


@dataclass(frozen=True)
class RunRecord:
    """A command that submitted, and the display currency it saw (``None``: prices could not
    be read). ``started_at`` is its first submit, epoch seconds."""

    run_id: int
    started_at: float
    currency: str | None
    quota_per_unit: float | None
    currency_rate: float | None


@dataclass(frozen=True)
class ClipFile:
    """A clip file adopted into the clip store; ``path`` is POSIX, relative to the output dir."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ClipRecord:
    """A downloaded clip the state knows about, and the task that produced it."""

    key: str
    take: int
    shot_id: str
    task_id: str
    path: str
    size: int
    sha256: str
    duration: float | None
    seed: int | None
    recorded_at: float
    # What its task cost (quota units) and the currency its run saw; see TaskRecord.
    expected_quota: int | None = None
    settled_quota: int | None = None
    currency: str | None = None
    quota_per_unit: float | None = None
    currency_rate: float | None = None
    restored_cost: TakeCost | None = None

    @property
    def file(self) -> ClipFile:
        """The part of the record that :meth:`ClipStore.verify` checks."""
        return ClipFile(path=self.path, size=self.size, sha256=self.sha256)


@dataclass(frozen=True)
class ShotState:
    """Everything the state knows about one key and take; every tuple is newest first.

    The planner reads it in this order: a clip (verify it with :class:`ClipStore` first), then an
    in-flight task to resume polling, then unknown submits to report, then failed tasks.
    """

    key: str
    take: int
    clips: tuple[ClipRecord, ...]
    in_flight: tuple[TaskRecord, ...]
    succeeded: tuple[TaskRecord, ...]
    failed: tuple[TaskRecord, ...]
    unknown: tuple[IntentRecord, ...]
    refused: tuple[IntentRecord, ...]
    attempts: int

    @property
    def clip(self) -> ClipRecord | None:
        """The newest recorded clip, not yet verified against the disk."""
        return self.clips[0] if self.clips else None


@dataclass(frozen=True)
class RunHolder:
    """Who holds a pipeline's run guard, as written into the guard file; fields may be unknown."""

    pid: int | None
    host: str | None
    started_at: float | None


@dataclass(frozen=True)
class HostedRecord:
    """Where a local file is hosted, so it is sent as a URL without being uploaded again.

    Keyed by the bytes sent (``md5``, lower-case hex; ``ext``, without the dot) and ``host``:
    the media host's ``host[:port]`` for a relay upload (``url`` is its ``source_url``), or a
    shared clip store's URL (``url`` is a presigned GET URL, a bearer credential for that one
    object until ``expires_at``, epoch seconds; ``None``: no known end). ``size`` in bytes.
    """

    md5: str
    ext: str
    size: int
    url: str
    host: str
    expires_at: float | None
    recorded_at: float


@dataclass(frozen=True)
class PortraitRecord:
    """An image registered in a media host's asset library, sent as its ``asset://`` URI.

    Keyed by the image's ``md5`` and ``host`` (the media host's ``host[:port]``). ``status`` is
    the library's (``Processing``, ``Active``, ``Failed``); ``reason`` its audit's refusal;
    ``uri`` is ``None`` until the library gives one. ``source_url`` is the hosted file that was
    registered, ``name`` the reference's name in the pipeline, ``file`` its path as written.
    Times are epoch seconds: registration, and the last change of status.
    """

    md5: str
    host: str
    asset_id: str
    uri: str | None
    status: str
    reason: str | None
    source_url: str
    name: str
    file: str
    registered_at: float
    updated_at: float
