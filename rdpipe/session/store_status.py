"""What ``rdpipe status`` says of the shared clip store (issue 13 §2): which shots another
machine's run is generating now, which clips here were never pushed, and which index entries
name a clip the store does not hold. Reads only (the store, and this machine's push record).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rdpipe.plan import Action, Plan
from rdpipe.remote import RemoteError, RemoteSetting
from rdpipe.session.workspace import Workspace
from rdpipe.state import PushedClips


@dataclass(frozen=True)
class StoreStatus:
    """The store's side of each shot. ``held``: shot label → who is generating it (a run
    waits for such a shot, it does not pay for it); ``unpushed``: clips of the plan here never
    pushed to the store from this machine; ``dangling``: labels whose index entry names a
    clip the store lacks (the run fetches those from the server); ``problem``: why the store
    could not be asked, if it could not."""

    held: dict[str, str] = field(default_factory=dict)
    unpushed: int = 0
    dangling: list[str] = field(default_factory=list)
    problem: str | None = None


def store_status(plan: Plan, setting: RemoteSetting, workspace: Workspace) -> StoreStatus:
    """Ask the store about the plan's shots (blocking; one claim listing per shot to
    generate, one look per clip to fetch from the store)."""
    from rdpipe.remote import open_shared_store

    pushed = PushedClips(workspace.state.state_dir)
    unpushed = sum(
        1
        for job in plan.jobs
        if job.action is Action.REUSE
        and job.clip is not None
        and (setting.url, job.clip.sha256) not in pushed
    )
    store = open_shared_store(setting.url, claim_timeout=setting.claim_timeout)
    held: dict[str, str] = {}
    dangling: list[str] = []
    now = time.time()
    try:
        for job in plan.jobs:
            known = job.known
            if job.action is Action.GENERATE and store.supports_claims:
                holder = store.claim_holder(job.key, job.shot.take, now=now)
                if holder is not None:
                    held[job.shot.label] = (
                        f"the run on {holder.host} claimed it {now - holder.since:.0f} s ago; a "
                        "run waits for its clip (no charge)"
                    )
            elif (
                known is not None and known.source == "shared" and not store.has_clip(known.sha256)
            ):
                dangling.append(job.shot.label)
    except RemoteError as error:
        return StoreStatus(held, unpushed, dangling, error.message)
    return StoreStatus(held, unpushed, dangling)
