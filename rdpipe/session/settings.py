"""What the user asked of a run beyond the pipeline file, each default stated once.

The numbers the command line shows in its help (the first poll delay, the shot timeout) are
read here from the scheduler's own defaults, so help and behaviour cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rdpipe.scheduler import OFFLINE_POLLING, SchedulerOptions
from rdpipe.scheduler.options import EVERY_BACKOFF

if TYPE_CHECKING:
    from rdpipe.client.retry import OnRetry
    from rdpipe.remote import RemoteSetting

_SCHEDULER_DEFAULTS = SchedulerOptions()

#: Seconds one generation may take from its submit before it is given up on.
SHOT_TIMEOUT = _SCHEDULER_DEFAULTS.shot_deadline
#: Seconds before the first status poll of a task (it backs off from there), and offline.
POLL_INTERVAL = _SCHEDULER_DEFAULTS.polling.first
OFFLINE_POLL_INTERVAL = OFFLINE_POLLING.first
#: How far polls back off from a chosen first delay: to this many times it.
POLL_BACKOFF = EVERY_BACKOFF


@dataclass(frozen=True)
class RunSettings:
    """What the user asked of this run, beyond the pipeline file; times are in seconds."""

    offline: bool = False
    concurrency: int | None = None  # tasks in flight; None: the pipeline's own
    max_seconds: int | None = None  # billed seconds this run may not exceed
    max_cost: float | None = None  # most the expected cost and pre-charge may be (display currency)
    force: tuple[str, ...] = ()  # ids of shots generated again even if cached
    fail_fast: bool = False
    partial: bool = False  # build the video from the shots that have a clip
    resubmit_unknown: bool = False
    wait_for_other_run: float = 0.0
    poll_interval: float | None = None  # first poll delay; None: POLL_INTERVAL (or offline's)
    listen: str | None = None  # HOST:PORT of the webhook receiver
    public_url: str | None = None  # how RelayDance reaches the receiver
    shot_timeout: float = SHOT_TIMEOUT  # how long one generation may take
    run_timeout: float | None = None  # how long the whole run may take; None: no limit
    remote: RemoteSetting | None = None  # the shared clip store (--remote, RDPIPE_REMOTE, toml)
    locked: bool = False  # build from the lock file's clips only; never submit
    drafts: bool = False  # run --drafts: the draft stage only (drafts, undrafted shots)
    on_retry: OnRetry | None = field(default=None, compare=False)  # told of each retry (-v)

    @property
    def resubmits_unknown(self) -> bool:
        """Whether a submit of unknown outcome is sent again: asked for, or free (offline)."""
        return self.resubmit_unknown or self.offline
