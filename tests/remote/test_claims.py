"""Claims: one run generates a new shot while another waits (issue 13, section 4).

Time is handed in (``now``, epoch seconds); the stores' claims go stale after 60 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rdpipe.remote import Claim, HeldBy, SharedClipStore, open_shared_store
from rdpipe.remote.claiming import ClaimBook
from rdpipe.remote.claims import ClaimRecord, CreateGeneration, TakeOwn, decide_claim
from tests.remote.conftest import KEY, StoreFiles

T0 = 1_780_000_000.0


def test_the_first_claimer_wins_and_the_second_is_told_who_holds_it(
    store: SharedClipStore,
) -> None:
    """A claims generation 1; B is told A holds it, since when and until when."""
    mine = store.claim(KEY, 1, "owner-a", now=T0, host="host-a")
    theirs = store.claim(KEY, 1, "owner-b", now=T0 + 5, host="host-b")

    assert mine == Claim(KEY, 1, 1, "owner-a", "host-a", T0)
    assert theirs == HeldBy(KEY, 1, 1, "owner-a", "host-a", T0, T0, T0 + 60)
    assert store.claim_holder(KEY, 1, now=T0 + 5) == theirs
    assert store.claim(KEY, 2, "owner-b", now=T0 + 5, host="host-b") == Claim(
        KEY, 2, 1, "owner-b", "host-b", T0 + 5
    )


def test_a_stale_claim_is_taken_over_with_the_next_generation(
    store: SharedClipStore, store_files: StoreFiles
) -> None:
    """No heartbeat for 60 s: B creates generation 2, and A's next heartbeat reports the loss."""
    mine = store.claim(KEY, 1, "owner-a", now=T0, host="host-a")
    assert isinstance(mine, Claim)

    theirs = store.claim(KEY, 1, "owner-b", now=T0 + 60, host="host-b")

    assert theirs == Claim(KEY, 1, 2, "owner-b", "host-b", T0 + 60)
    assert store.heartbeat(mine, T0 + 61) is False
    assert store.claim_holder(KEY, 1, now=T0 + 61) == HeldBy(
        KEY, 1, 2, "owner-b", "host-b", T0 + 60, T0 + 60, T0 + 120
    )
    assert store_files.paths("claims") == [f"claims/{KEY}/1/1.json", f"claims/{KEY}/1/2.json"]


def test_heartbeats_keep_a_claim_alive(store: SharedClipStore) -> None:
    """A claim renewed at +50 s is held at +100 s and stale from +110 s."""
    mine = store.claim(KEY, 1, "owner-a", now=T0, host="host-a")
    assert isinstance(mine, Claim)

    assert store.heartbeat(mine, T0 + 50) is True

    held = store.claim(KEY, 1, "owner-b", now=T0 + 100, host="host-b")
    assert isinstance(held, HeldBy)
    assert (held.since, held.heartbeat_at, held.stale_at) == (T0, T0 + 50, T0 + 110)
    taken = store.claim(KEY, 1, "owner-b", now=T0 + 110, host="host-b")
    assert isinstance(taken, Claim)
    assert taken.generation == 2


def test_a_released_claim_can_be_claimed_again_at_once(store: SharedClipStore) -> None:
    """After A releases its claim, B claims the next generation straight away."""
    mine = store.claim(KEY, 1, "owner-a", now=T0, host="host-a")
    assert isinstance(mine, Claim)

    store.release(mine, T0 + 1)

    assert store.claim_holder(KEY, 1, now=T0 + 2) is None
    assert store.claim(KEY, 1, "owner-b", now=T0 + 2, host="host-b") == Claim(
        KEY, 1, 2, "owner-b", "host-b", T0 + 2
    )


def test_the_same_owner_takes_its_own_live_claim_over(store: SharedClipStore) -> None:
    """A crashed run's restart (same owner) gets its live claim back, same generation."""
    first = store.claim(KEY, 1, "owner-a", now=T0, host="host-a")

    again = store.claim(KEY, 1, "owner-a", now=T0 + 10, host="host-a")

    assert again == first == Claim(KEY, 1, 1, "owner-a", "host-a", T0)
    held = store.claim(KEY, 1, "owner-b", now=T0 + 65, host="host-b")
    assert isinstance(held, HeldBy)
    assert held.stale_at == T0 + 70  # the takeover renewed the heartbeat


def test_of_two_claimers_creating_one_generation_exactly_one_wins(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B decides from a listing made before A's create: its create fails, and it is told A's."""
    first, second = open_shared_store(store_url), open_shared_store(store_url)
    mine = first.claim(KEY, 1, "owner-a", now=T0, host="host-a")
    monkeypatch.setattr(ClaimBook, "_newest", lambda self, key, take: None)

    theirs = second.claim(KEY, 1, "owner-b", now=T0, host="host-b")

    assert mine == Claim(KEY, 1, 1, "owner-a", "host-a", T0)
    assert theirs == HeldBy(KEY, 1, 1, "owner-a", "host-a", T0, T0, T0 + 600)


_CLAIM_AT_THE_SIGNAL = """
import json, os, sys, time
from rdpipe.remote import Claim, open_shared_store
url, owner, go = sys.argv[1], sys.argv[2], sys.argv[3]
store = open_shared_store(url)
store.claim_holder("k" * 64, 9, now=0.0)  # connected and warmed up before the signal
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.0005)
answer = store.claim("k" * 64, 1, owner, now=time.time(), host=owner)
print(json.dumps({"won": isinstance(answer, Claim), "holder": answer.owner}), flush=True)
"""


def test_two_processes_claiming_at_once_make_exactly_one_winner(
    store_url: str, tmp_path: Path
) -> None:
    """Two processes claim the same take at the same moment: one wins, the other names it."""
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _CLAIM_AT_THE_SIGNAL, store_url, owner, str(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for owner in ("process-a", "process-b")
    ]
    try:
        assert [p.stdout.readline() for p in processes if p.stdout] == ["ready\n"] * 2
        go.touch()
        answers = [json.loads(p.communicate(timeout=60)[0]) for p in processes]
    finally:
        for process in processes:
            process.kill()

    winners = [answer for answer in answers if answer["won"]]
    assert len(winners) == 1, answers
    assert {answer["holder"] for answer in answers} == {winners[0]["holder"]}


def test_decide_claim_follows_the_newest_generation() -> None:
    """None: create 1; released, stale or unreadable: create n+1; live and mine: take it over;
    live and another's: held, stale at its last heartbeat plus the timeout."""
    live = ClaimRecord("a", "host-a", T0, T0 + 30)

    def decide(newest: tuple[int, ClaimRecord | None] | None, owner: str = "b") -> object:
        return decide_claim(KEY, 1, newest, owner=owner, now=T0 + 60, timeout=60.0)

    assert decide(None) == CreateGeneration(1)
    assert decide((3, live)) == HeldBy(KEY, 1, 3, "a", "host-a", T0, T0 + 30, T0 + 90)
    assert decide((3, live), owner="a") == TakeOwn(3, live)
    assert decide((3, ClaimRecord("a", "host-a", T0, T0))) == CreateGeneration(4)
    assert decide((3, ClaimRecord("a", "host-a", T0, T0 + 59, released=True))) == (
        CreateGeneration(4)
    )
    assert decide((3, ClaimRecord("a", "host-a", T0, T0, task_id="t"))) == (
        CreateGeneration(4, previous_task="t")
    )
    assert decide((3, None)) == CreateGeneration(4)


def test_claim_records_read_back_and_refuse_foreign_json() -> None:
    """A record survives its JSON form, with or without a task id; JSON of another shape or
    version reads as None."""
    record = ClaimRecord("owner", "host", T0, T0 + 1.5, released=True)
    noted = ClaimRecord("owner", "host", T0, T0 + 1.5, task_id="task-1")

    assert ClaimRecord.from_json(record.to_json()) == record
    assert ClaimRecord.from_json(noted.to_json()) == noted
    assert ClaimRecord.from_json(noted.to_json().replace(b'"task-1"', b"7")) is None
    assert ClaimRecord.from_json(b"[]") is None
    assert ClaimRecord.from_json(b"{broken") is None
    assert ClaimRecord.from_json(record.to_json().replace(b'"version":1', b'"version":2')) is None


def test_a_noted_task_is_shown_to_waiters_and_handed_to_the_run_taking_over(
    store: SharedClipStore,
) -> None:
    """A notes its task: B, waiting, sees it; A's heartbeats keep it; once A's claim is stale,
    B's takeover carries the task to follow instead of paying again."""
    mine = store.claim(KEY, 1, "owner-a", now=T0, host="host-a")
    assert isinstance(mine, Claim) and mine.taken_from_task is None

    assert store.note_task(mine, "task-123", T0 + 10) is True
    assert store.heartbeat(mine, T0 + 20) is True

    assert store.claim(KEY, 1, "owner-b", now=T0 + 30, host="host-b") == HeldBy(
        KEY, 1, 1, "owner-a", "host-a", T0, T0 + 20, T0 + 80, task_id="task-123"
    )
    taken = store.claim(KEY, 1, "owner-b", now=T0 + 80, host="host-b")
    assert taken == Claim(KEY, 1, 2, "owner-b", "host-b", T0 + 80, taken_from_task="task-123")
    assert store.note_task(mine, "task-456", T0 + 81) is False  # A lost it: nothing written
    assert store.claim_holder(KEY, 1, now=T0 + 82) == HeldBy(  # B follows A's task
        KEY, 1, 2, "owner-b", "host-b", T0 + 80, T0 + 80, T0 + 140, task_id="task-123"
    )


def test_a_released_claim_hands_its_task_on(store: SharedClipStore) -> None:
    """A run that releases after submitting (it stopped): the next claimer gets the task."""
    mine = store.claim(KEY, 1, "owner-a", now=T0, host="host-a")
    assert isinstance(mine, Claim)
    store.note_task(mine, "task-123", T0 + 1)

    store.release(mine, T0 + 2)

    taken = store.claim(KEY, 1, "owner-b", now=T0 + 3, host="host-b")
    assert isinstance(taken, Claim)
    assert (taken.generation, taken.taken_from_task) == (2, "task-123")


def test_a_restarted_run_gets_its_task_back_and_keeps_it(store_url: str) -> None:
    """After a crash the same owner takes its live claim back with the task it had noted; its
    heartbeats (from a new store object, which never saw the note) keep the task."""
    before = open_shared_store(store_url, claim_timeout=60.0)
    first = before.claim(KEY, 1, "owner-a", now=T0, host="host-a")
    assert isinstance(first, Claim)
    before.note_task(first, "task-123", T0 + 1)
    after = open_shared_store(store_url, claim_timeout=60.0)

    again = after.claim(KEY, 1, "owner-a", now=T0 + 5, host="host-a")
    assert again == Claim(KEY, 1, 1, "owner-a", "host-a", T0, taken_from_task="task-123")
    assert after.heartbeat(first, T0 + 10) is True  # a claim this store object did not make

    held = after.claim_holder(KEY, 1, now=T0 + 11)
    assert held is not None and (held.heartbeat_at, held.task_id) == (T0 + 10, "task-123")


def test_a_takeover_chain_keeps_the_paid_task(store_url: str) -> None:
    """A submits and dies; B takes over, follows A's task and dies before noting anything; C,
    taking over from B, is still handed A's task (and pays nothing). Three machines, three
    store objects, one clock handed in."""
    a, b, c = (open_shared_store(store_url, claim_timeout=60.0) for _ in range(3))
    first = a.claim(KEY, 1, "owner-a", now=T0, host="host-a")
    assert isinstance(first, Claim)
    assert a.note_task(first, "task-paid", T0 + 1) is True

    second = b.claim(KEY, 1, "owner-b", now=T0 + 61, host="host-b")
    assert second == Claim(KEY, 1, 2, "owner-b", "host-b", T0 + 61, taken_from_task="task-paid")
    assert b.heartbeat(second, T0 + 70) is True  # B's beats keep the task it follows

    assert c.claim(KEY, 1, "owner-c", now=T0 + 100, host="host-c") == HeldBy(
        KEY, 1, 2, "owner-b", "host-b", T0 + 61, T0 + 70, T0 + 130, task_id="task-paid"
    )
    third = c.claim(KEY, 1, "owner-c", now=T0 + 130, host="host-c")
    assert third == Claim(KEY, 1, 3, "owner-c", "host-c", T0 + 130, taken_from_task="task-paid")


def test_a_taker_that_dies_at_once_still_hands_the_task_on(store_url: str) -> None:
    """B takes A's claim over and dies before any heartbeat; C takes over from B when B's
    generation goes stale and gets A's task; a task C submits then replaces it."""
    a, b, c = (open_shared_store(store_url, claim_timeout=60.0) for _ in range(3))
    first = a.claim(KEY, 1, "owner-a", now=T0, host="host-a")
    assert isinstance(first, Claim)
    a.note_task(first, "task-paid", T0 + 1)
    assert isinstance(b.claim(KEY, 1, "owner-b", now=T0 + 61, host="host-b"), Claim)

    third = c.claim(KEY, 1, "owner-c", now=T0 + 121, host="host-c")

    assert third == Claim(KEY, 1, 3, "owner-c", "host-c", T0 + 121, taken_from_task="task-paid")
    assert c.note_task(third, "task-new", T0 + 122) is True
    held = a.claim_holder(KEY, 1, now=T0 + 123)
    assert held is not None and (held.generation, held.task_id) == (3, "task-new")
    c.release(third, T0 + 124)
    fourth = a.claim(KEY, 1, "owner-a", now=T0 + 125, host="host-a")
    assert isinstance(fourth, Claim) and fourth.taken_from_task == "task-new"


def test_a_claim_record_without_a_task_id_reads_as_none(
    store: SharedClipStore, store_files: StoreFiles
) -> None:
    """A record written before task ids were noted: held with no task, taken over with none."""
    old = {"version": 1, "owner": "a", "host": "h", "claimed_at": T0, "heartbeat_at": T0}
    store_files.put(f"claims/{KEY}/1/1.json", json.dumps({**old, "released": False}).encode())

    held = store.claim(KEY, 1, "owner-b", now=T0 + 1, host="host-b")
    taken = store.claim(KEY, 1, "owner-b", now=T0 + 60, host="host-b")

    assert held == HeldBy(KEY, 1, 1, "a", "h", T0, T0, T0 + 60, task_id=None)
    assert taken == Claim(KEY, 1, 2, "owner-b", "host-b", T0 + 60, taken_from_task=None)


def test_no_claim_record_keeps_a_shot_forever() -> None:
    """Times that are not finite make a record unreadable (free); a heartbeat more than a
    timeout ahead of now (a clock far ahead) is stale; within a timeout ahead, it is live."""
    for number in (b"NaN", b"Infinity", b"-Infinity", b"1e400"):
        data = b'{"version":1,"owner":"a","host":"h","claimed_at":0,"released":false,'
        assert ClaimRecord.from_json(data + b'"heartbeat_at":' + number + b"}") is None

    def decide(heartbeat_at: float) -> object:
        record = ClaimRecord("a", "h", T0, heartbeat_at, task_id="t")
        return decide_claim(KEY, 1, (1, record), owner="b", now=T0, timeout=60.0)

    assert decide(1e308) == CreateGeneration(2, "t")
    assert decide(T0 + 61) == CreateGeneration(2, "t")
    assert isinstance(decide(T0 + 60), HeldBy)
