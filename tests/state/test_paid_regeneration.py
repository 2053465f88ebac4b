"""A regeneration paid for and not yet downloaded is followed, forced or not: never paid twice."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rdpipe.plan import Action, decide, plan_run, shot_keys
from rdpipe.render import RenderedShot
from rdpipe.request import GenerationRequest
from rdpipe.state import ClipFile, ClipStore, StateStore

SHOT = RenderedShot(
    index=0, id="coast", request=GenerationRequest("doubao-seedance-2-0-480p", "a lighthouse", "5")
)
KEY = shot_keys([SHOT])["coast"]


def _clip(out: Path, name: str, data: bytes) -> ClipFile:
    path = out / "clips" / "coast" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return ClipFile(f"clips/coast/{name}", len(data), hashlib.sha256(data).hexdigest())


def _submit(store: StateStore, task_id: str) -> None:
    intent = store.record_intent(key=KEY, shot_id="coast", take=1, request=SHOT.request)
    store.record_submitted(intent, task_id)


def _actions(store: StateStore, clips: ClipStore, *, force: bool) -> tuple[Action, str | None]:
    plan = plan_run(
        "lighthouse",
        [SHOT],
        lookup=lambda key, take: decide(store, clips, key, take, resubmit_unknown=False),
        force={"coast": True} if force else None,
    )
    (job,) = plan.jobs
    return job.action, job.task_id


def test_a_forced_regeneration_stopped_mid_flight_is_followed_not_paid_again(
    store: StateStore, tmp_path: Path
) -> None:
    """A rerun, forced or not, follows the newer paid task; with its clip in, force pays anew."""
    out = tmp_path / "out"
    clips = ClipStore(out)
    _submit(store, "task_a")
    store.record_status("task_a", state="succeeded", seed=1)
    store.record_clip("task_a", _clip(out, "1-old.mp4", b"first clip"))
    assert _actions(store, clips, force=False)[0] is Action.REUSE
    assert _actions(store, clips, force=True) == (Action.GENERATE, None)

    _submit(store, "task_b")  # the forced run paid for task_b, then was stopped
    store.record_status("task_b", state="running", progress=40)
    decision = decide(store, clips, KEY, 1, resubmit_unknown=False)
    assert decision is not None and decision.newer_than_clip
    assert decision.reason == (
        "task task_b was submitted after the newest clip of this request (a regeneration "
        "already paid for); following it (no new charge)"
    )
    assert _actions(store, clips, force=True) == (Action.RESUME, "task_b")
    assert _actions(store, clips, force=False) == (Action.RESUME, "task_b")

    store.record_status("task_b", state="succeeded", seed=2)  # finished, clip not downloaded
    assert _actions(store, clips, force=True) == (Action.RESUME, "task_b")

    store.record_clip("task_b", _clip(out, "1-old-2.mp4", b"second clip"))
    assert _actions(store, clips, force=False)[0] is Action.REUSE
    reused = decide(store, clips, KEY, 1, resubmit_unknown=False)
    assert reused is not None and reused.clip is not None
    assert reused.clip.relative == "clips/coast/1-old-2.mp4"
    assert _actions(store, clips, force=True) == (Action.GENERATE, None)


def test_a_failed_regeneration_does_not_hide_the_clip(store: StateStore, tmp_path: Path) -> None:
    """A later task that failed is no paid work: the clip is reused, and --force generates."""
    out = tmp_path / "out"
    clips = ClipStore(out)
    _submit(store, "task_a")
    store.record_status("task_a", state="succeeded", seed=1)
    store.record_clip("task_a", _clip(out, "1-old.mp4", b"first clip"))
    _submit(store, "task_b")
    store.record_status("task_b", state="failed", error_code="InternalServiceError")
    assert _actions(store, clips, force=False)[0] is Action.REUSE
    assert _actions(store, clips, force=True) == (Action.GENERATE, None)
