"""A server that hands out a task id twice: the journal keeps both tasks and never crashes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rdpipe.plan import decide
from rdpipe.request import GenerationRequest
from rdpipe.state import ClipFile, ClipStore, StateStore, TaskReissued

KEY = "3f2a9c0e1b7d" + "0" * 52
OTHER_KEY = "9e8d7c6b5a41" + "1" * 52
REQUEST = GenerationRequest("doubao-seedance-2-0-480p", "a lighthouse", "5")
REISSUED = "the server gave this task id to a later submit, so this task can no longer be followed"


def submit(store: StateStore, key: str, shot_id: str, task_id: str) -> int:
    intent = store.record_intent(key=key, shot_id=shot_id, take=1, request=REQUEST)
    store.record_submitted(intent, task_id)
    return intent


def test_a_reused_id_is_a_new_task_and_retires_the_running_one(store: StateStore) -> None:
    """The later submit is followed under the id; the earlier, unfinished task fails clearly."""
    submit(store, KEY, "coast", "task_x")
    store.record_status("task_x", state="running", progress=40)
    later = submit(store, OTHER_KEY, "lamp", "task_x")

    (current,) = store.in_flight()
    assert (current.intent_id, current.shot_id, current.can_follow) == (later, "lamp", True)
    (retired,) = store.lookup(KEY, 1).failed
    assert (retired.error_code, retired.error_message) == ("task_id_reused", REISSUED)
    assert not retired.can_follow and retired.finished_at is not None

    updated = store.record_status("task_x", state="succeeded", seed=9)
    assert (updated.shot_id, updated.state) == ("lamp", "succeeded")
    assert store.lookup(KEY, 1).failed == (retired,)
    assert store.lookup(OTHER_KEY, 1).unknown == ()


def test_a_reissued_finished_task_keeps_its_clip_and_is_never_resumed(
    store: StateStore, tmp_path: Path
) -> None:
    """A clip stays cached under its old task; without the clip, the shot is generated anew."""
    submit(store, KEY, "coast", "task_x")
    store.record_status("task_x", state="succeeded", seed=3)
    store.record_clip("task_x", ClipFile("clips/coast/1-old.mp4", 5, "aa"))
    submit(store, OTHER_KEY, "lamp", "task_x")
    store.record_status("task_x", state="succeeded", seed=4)
    store.record_clip("task_x", ClipFile("clips/lamp/1-new.mp4", 6, "bb"))

    old, new = store.lookup(KEY, 1), store.lookup(OTHER_KEY, 1)
    assert [(c.path, c.task_id, c.seed) for c in old.clips] == [
        ("clips/coast/1-old.mp4", "task_x", 3)
    ]
    assert [(c.path, c.seed) for c in new.clips] == [("clips/lamp/1-new.mp4", 4)]
    assert old.succeeded[0].state == "succeeded" and not old.succeeded[0].can_follow
    clips = ClipStore(tmp_path / "out")  # no clip file on disk: neither verifies
    assert decide(store, clips, KEY, 1, resubmit_unknown=False) is None  # a fresh generation
    resumed = decide(store, clips, OTHER_KEY, 1, resubmit_unknown=False)
    assert resumed is not None and resumed.task_id == "task_x"


def test_an_id_reissued_under_another_pipeline_stops_its_poller_with_a_clear_error(
    tmp_path: Path, new_clock: Callable[[], Callable[[], float]]
) -> None:
    """Recording a status for a task whose id now names another pipeline's task is refused."""
    path = tmp_path / "state.db"
    with (
        StateStore.open(path, pipeline="a", clock=new_clock()) as first,
        StateStore.open(path, pipeline="b", clock=new_clock()) as second,
    ):
        submit(first, KEY, "coast", "task_x")
        submit(second, KEY, "coast", "task_x")
        with pytest.raises(TaskReissued) as caught:
            first.record_status("task_x", state="running")
        assert str(caught.value) == (
            "task task_x of shot 'coast' can no longer be followed: the server has since given "
            "its id to another submit\nRun again: the shot is submitted anew."
        )
        with pytest.raises(TaskReissued):
            first.record_clip("task_x", ClipFile("clips/coast/1-a.mp4", 1, "cc"))
        assert second.record_status("task_x", state="running").state == "running"
