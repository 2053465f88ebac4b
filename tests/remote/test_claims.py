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
    assert decide((3, None)) == CreateGeneration(4)


def test_claim_records_read_back_and_refuse_foreign_json() -> None:
    """A record survives its JSON form; JSON of another shape or version reads as None."""
    record = ClaimRecord("owner", "host", T0, T0 + 1.5, released=True)

    assert ClaimRecord.from_json(record.to_json()) == record
    assert ClaimRecord.from_json(b"[]") is None
    assert ClaimRecord.from_json(b"{broken") is None
    assert ClaimRecord.from_json(record.to_json().replace(b'"version":1', b'"version":2')) is None
