"""The journal and cache index: what the planner and scheduler see after each record."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rdpipe.request import GenerationRequest, Media
from rdpipe.state import ClipFile, StateStore, StateWriteFailed

KEY = "3f2a9c0e1b7d" + "0" * 52
OTHER_KEY = "9e8d7c6b5a41" + "1" * 52
CLIP = ClipFile(path="clips/opening/1-3f2a9c0e1b7d.mp4", size=10, sha256="ab" * 32)


Clock = Callable[[], float]


def request(model: str = "doubao-seedance-2-0-720p", **metadata: object) -> GenerationRequest:
    """A submit as the scheduler journals it."""
    return GenerationRequest(model, "a lighthouse at dusk", "5").with_extra(metadata)


def test_new_key_has_no_state(store: StateStore) -> None:
    """A key never seen has no clip, no task, no unknown submit and no attempts."""
    state = store.lookup(KEY, 1)
    assert (state.clip, state.in_flight, state.failed, state.unknown, state.attempts) == (
        None,
        (),
        (),
        (),
        0,
    )


def test_submitted_task_is_in_flight(store: StateStore) -> None:
    """A submitted task is listed as in flight, for its key and for resume, with its model."""
    intent = store.record_intent(key=KEY, shot_id="opening", take=1, request=request())
    task = store.record_submitted(intent, "task_a")
    assert (task.state, task.model, task.attempt, task.submitted_at) == (
        "pending",
        "doubao-seedance-2-0-720p",
        1,
        1_780_000_002.0,
    )
    assert store.lookup(KEY, 1).in_flight == (task,)
    assert store.in_flight() == [task]


def test_status_updates_keep_earlier_fields(store: StateStore) -> None:
    """Polled progress is stored, and a later update without seed keeps the seed reported before."""
    store.record_submitted(
        store.record_intent(key=KEY, shot_id="s", take=1, request=request()), "task_a"
    )
    store.record_status("task_a", state="running", progress=40, seed=7)
    task = store.record_status("task_a", state="running", progress=80)
    assert (task.state, task.progress, task.seed, task.finished_at) == ("running", 80, 7, None)


def test_failed_task_carries_server_reason_and_attempts(store: StateStore) -> None:
    """A failed task leaves in-flight and reports the server's code, message and attempt count."""
    for attempt, task_id in enumerate(["task_a", "task_b"], start=1):
        intent = store.record_intent(key=KEY, shot_id="s", take=1, request=request())
        store.record_submitted(intent, task_id)
        store.record_status(
            task_id,
            state="failed",
            error_code="OutputVideoSensitiveContentDetected",
            error_message=f"moderation {attempt}",
        )
    state = store.lookup(KEY, 1)
    assert store.in_flight() == []
    assert [(t.task_id, t.attempt, t.error_code) for t in state.failed] == [
        ("task_b", 2, "OutputVideoSensitiveContentDetected"),
        ("task_a", 1, "OutputVideoSensitiveContentDetected"),
    ]
    assert state.attempts == 2
    assert state.failed[0].finished_at is not None


def test_intent_without_task_id_is_unknown_after_recovery(store: StateStore) -> None:
    """An intent a crashed run left without an answer is reported as unknown, never as absent."""
    intent = store.record_intent(key=KEY, shot_id="s", take=1, request=request())
    recovered = store.recover_interrupted()
    assert [(i.intent_id, i.outcome) for i in recovered] == [(intent, "unknown")]
    assert "stopped after sending" in (recovered[0].reason or "")
    assert [i.intent_id for i in store.lookup(KEY, 1).unknown] == [intent]
    assert store.recover_interrupted() == []


def test_unknown_submit_is_reported_until_abandoned(store: StateStore) -> None:
    """An ambiguous submit stays reported until the user resubmits over it (--resubmit-unknown)."""
    intent = store.record_intent(key=KEY, shot_id="s", take=1, request=request())
    store.record_unknown(intent, "read timeout after the body was sent")
    assert [i.reason for i in store.unknown_submits()] == ["read timeout after the body was sent"]
    store.abandon_unknown(intent, "--resubmit-unknown")
    assert store.unknown_submits() == []
    assert store.lookup(KEY, 1).attempts == 1


def test_unknown_submit_can_still_learn_its_task_id(store: StateStore) -> None:
    """An unknown submit whose task id turns up later becomes an ordinary in-flight task."""
    intent = store.record_intent(key=KEY, shot_id="s", take=1, request=request())
    store.record_unknown(intent, "connection dropped")
    store.record_submitted(intent, "task_late")
    assert store.unknown_submits() == []
    assert [t.task_id for t in store.in_flight()] == ["task_late"]


def test_refused_submit_is_not_unknown(store: StateStore) -> None:
    """A submit the server refused is reported with its reason and not as unknown."""
    intent = store.record_intent(key=KEY, shot_id="s", take=1, request=request())
    store.record_refused(intent, "403 insufficient_user_quota")
    state = store.lookup(KEY, 1)
    assert ([i.reason for i in state.refused], state.unknown) == (
        ["403 insufficient_user_quota"],
        (),
    )


def test_intent_cannot_be_resolved_twice(store: StateStore) -> None:
    """Binding a second task id to an already submitted intent is refused."""
    intent = store.record_intent(key=KEY, shot_id="s", take=1, request=request())
    store.record_submitted(intent, "task_a")
    with pytest.raises(ValueError, match="already 'submitted'"):
        store.record_submitted(intent, "task_b")
    assert [t.task_id for t in store.in_flight()] == ["task_a"]


def test_clip_defaults_to_task_seed_and_duration(store: StateStore) -> None:
    """A recorded clip is found by key and take and takes seed and duration from its task."""
    store.record_submitted(
        store.record_intent(key=KEY, shot_id="opening", take=1, request=request()), "task_a"
    )
    store.record_status("task_a", state="succeeded", seed=42, duration=5.0)
    store.record_clip("task_a", CLIP)
    clip = store.lookup(KEY, 1).clip
    assert clip is not None
    assert (clip.path, clip.task_id, clip.seed, clip.duration, clip.shot_id) == (
        CLIP.path,
        "task_a",
        42,
        5.0,
        "opening",
    )
    assert store.lookup(KEY, 2).clip is None


def test_earlier_clips_are_kept(store: StateStore) -> None:
    """A second clip for the same key and take is listed first, and the earlier one is kept."""
    for task_id, path in [("task_a", CLIP.path), ("task_b", "clips/opening/1-3f2a9c0e1b7d-2.mp4")]:
        intent = store.record_intent(key=KEY, shot_id="opening", take=1, request=request())
        store.record_submitted(intent, task_id)
        store.record_status(task_id, state="succeeded")
        store.record_clip(task_id, ClipFile(path=path, size=1, sha256="00"))
    assert [c.task_id for c in store.lookup(KEY, 1).clips] == ["task_b", "task_a"]


def test_pipelines_sharing_a_database_do_not_see_each_other(
    tmp_path: Path, new_clock: Callable[[], Clock]
) -> None:
    """Two pipelines in one directory share state.db but each sees only its own tasks."""
    path = tmp_path / "state.db"
    with (
        StateStore.open(path, pipeline="a", clock=new_clock()) as first,
        StateStore.open(path, pipeline="b", clock=new_clock()) as second,
    ):
        first.record_submitted(
            first.record_intent(key=KEY, shot_id="s", take=1, request=request()), "task_a"
        )
        second.record_intent(key=OTHER_KEY, shot_id="s", take=1, request=request())
        assert (second.in_flight(), second.lookup(KEY, 1).attempts) == ([], 0)
        assert first.unknown_submits() == []
        with pytest.raises(ValueError, match="not recorded for 'b'"):
            second.record_status("task_a", state="running")


def test_state_survives_reopening(tmp_path: Path, clock: Clock) -> None:
    """Everything recorded is there after the store is closed and opened again."""
    path = tmp_path / "state.db"
    with StateStore.open(path, pipeline="p", clock=clock) as store:
        store.record_submitted(
            store.record_intent(key=KEY, shot_id="s", take=3, request=request()), "task_a"
        )
    with StateStore.open(path, pipeline="p", clock=clock) as store:
        assert [(t.task_id, t.take) for t in store.in_flight()] == [("task_a", 3)]


def test_database_is_in_wal_mode_with_full_sync(store: StateStore) -> None:
    """The state database uses WAL journaling and fsyncs on every commit."""
    import sqlite3

    with sqlite3.connect(store.path) as reader:
        assert reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert store._connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_signed_urls_and_api_key_never_reach_disk(tmp_path: Path, clock: Clock) -> None:
    """Signed URL tokens in a request are redacted, and an API key given to nobody is nowhere."""
    api_key = "sk-test-" + "k" * 40
    signed = "https://tos.example.com/ref.png?X-Tos-Signature=SECRETSIG&X-Tos-Expires=60"
    content = [Media("image", signed, "reference_image")]
    with StateStore.open(tmp_path / "state.db", pipeline="p", clock=clock) as store:
        intent = store.record_intent(
            key=KEY, shot_id="s", take=1, request=request().with_content(content)
        )
        store.record_submitted(intent, "task_a")
        stored = store.lookup(KEY, 1).unknown + tuple(store.unknown_submits())
        body = store._connection.execute("SELECT request_json FROM intents").fetchone()[0]
    assert stored == ()
    assert "https://tos.example.com/ref.png?<redacted>" in body
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"SECRETSIG" not in on_disk
    assert api_key.encode() not in on_disk
    assert b"ref.png" in on_disk  # the scan does read the journal


def test_identical_key_in_another_shot_shares_the_task(store: StateStore) -> None:
    """A shot whose key equals another's finds that shot's task, so it is generated only once."""
    intent = store.record_intent(key=KEY, shot_id="opening", take=1, request=request())
    store.record_submitted(intent, "task_a")
    assert [t.shot_id for t in store.lookup(KEY, 1).in_flight] == ["opening"]


def test_full_disk_stops_the_run_with_a_clear_error(store: StateStore) -> None:
    """A write the disk cannot take raises StateWriteFailed naming the shot, and records nothing."""
    pages = store._connection.execute("PRAGMA page_count").fetchone()[0]
    store._connection.execute(f"PRAGMA max_page_count={pages}")
    big = request(note="x" * 200_000)
    with pytest.raises(StateWriteFailed) as caught:
        store.record_intent(key=KEY, shot_id="opening", take=1, request=big)
    assert str(caught.value).startswith(
        f"Could not record the submit of shot 'opening' take 1 in {store.path}: "
        "database or disk is full.\nrdpipe stops submitting"
    )
    store._connection.execute("PRAGMA max_page_count=1073741823")
    assert store.lookup(KEY, 1).attempts == 0
    store.record_intent(key=KEY, shot_id="opening", take=1, request=request())


def test_recording_a_task_id_is_one_statement(store: StateStore) -> None:
    """Recording a task id runs as one autocommitted statement, so Ctrl-C cannot split it."""
    intent = store.record_intent(key=KEY, shot_id="s", take=1, request=request())
    statements: list[str] = []
    store._connection.set_trace_callback(statements.append)
    store.record_submitted(intent, "task_a")
    store._connection.set_trace_callback(None)
    writes = {s for s in statements if s.split()[0] != "SELECT"}
    assert [w.split()[:3] for w in writes] == [["INSERT", "INTO", "tasks"]]  # no BEGIN, COMMIT
    assert store.lookup(KEY, 1).unknown == ()
