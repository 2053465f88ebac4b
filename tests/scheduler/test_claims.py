"""Claims before paying (issue 13 §4), at the scheduler's level, on a real folder store: runs
take claims in one order, so two runs wanting the same shots never each hold one the other
waits for; a run waits holding only smaller keys, and releases what it took when stopped."""

from __future__ import annotations

import time
from pathlib import Path

import anyio

from rdpipe.plan import plan_run
from rdpipe.remote import HeldBy, IndexEntry, SharedClipStore, open_shared_store
from rdpipe.scheduler.claims import claim_or_wait
from tests.scheduler.journal_runs import shots


def store(tmp_path: Path) -> SharedClipStore:
    folder = tmp_path / "store"
    folder.mkdir()
    return open_shared_store(folder.as_uri(), claim_timeout=30)


def index(shared: SharedClipStore, tmp_path: Path, key: str) -> None:
    """Push a stand-in clip for ``key`` take 1, as the run that made it would."""
    clip = tmp_path / f"{key[:8]}.mp4"
    clip.write_bytes(key.encode())
    import hashlib

    sha = hashlib.sha256(clip.read_bytes()).hexdigest()
    entry = IndexEntry(key, 1, sha, clip.stat().st_size, "task", None, None, None, "s")
    shared.push(clip, entry)


def test_two_runs_wanting_the_same_shots_in_any_order_never_hold_one_each(
    tmp_path: Path,
) -> None:
    """Run A holds both shots; run B, given them in the other order, waits on the smaller key
    holding nothing, and ends with both clips arrived and no claim: nobody pays twice."""
    shared = store(tmp_path)
    jobs = plan_run("film", shots("a red kite", "a blue boat")).jobs
    keys = sorted(job.key for job in jobs)

    async def main() -> None:
        first = await claim_or_wait(
            jobs, shared, "run-a", clock=time.time, on_wait=lambda job, held: None
        )
        assert sorted(claim.key for claim in first.claims) == keys
        waited: list[str] = []

        def on_wait(job: object, held: HeldBy) -> None:
            waited.append(held.key)

        async with anyio.create_task_group() as group:

            async def second_run() -> None:
                result = await claim_or_wait(
                    list(reversed(jobs)), shared, "run-b", clock=time.time, on_wait=on_wait,
                    poll=0.05,
                )  # fmt: skip
                assert result.claims == []
                assert sorted(job.key for job, _ in result.arrived) == keys

            group.start_soon(second_run)
            await anyio.sleep(0.3)
            assert waited == [keys[0]]  # the smaller key first, holding nothing
            for key in keys:
                index(shared, tmp_path, key)

    anyio.run(main)


def test_a_run_stopped_while_waiting_releases_the_claims_it_took(tmp_path: Path) -> None:
    """Run B claims the smaller key, then waits for the larger one A holds; stopped there
    (Ctrl-C, a deadline), it gives its claim back at once instead of leaving it to go stale."""
    shared = store(tmp_path)
    jobs = plan_run("film", shots("a red kite", "a blue boat")).jobs
    keys = sorted(job.key for job in jobs)
    shared.claim(keys[1], 1, "run-a", now=time.time())  # A holds the larger key only

    async def main() -> bool:
        with anyio.move_on_after(0.5) as scope:
            await claim_or_wait(
                jobs, shared, "run-b", clock=time.time, on_wait=lambda job, held: None, poll=0.05
            )
        return scope.cancelled_caught

    assert anyio.run(main)  # still waiting when stopped
    assert shared.claim_holder(keys[0], 1, now=time.time()) is None  # B gave its claim back
    assert shared.claim_holder(keys[1], 1, now=time.time()) is not None  # A's stays


def test_the_watch_refuses_a_submit_under_a_claim_that_lapsed_or_was_taken() -> None:
    """A claim is one to pay under while its beats keep reaching the store: not once a beat
    found it taken over, nor once the store has been unreachable for the claim timeout."""
    from rdpipe.remote import Claim
    from rdpipe.scheduler.claims import ClaimWatch

    now = [100.0]
    kept = Claim("k1", 1, 1, "me", "here", claimed_at=100.0)
    taken = Claim("k2", 1, 1, "me", "here", claimed_at=100.0)
    watch = ClaimWatch([kept, taken], timeout=30.0, clock=lambda: now[0])
    assert watch.may_submit("k1", 1) and watch.may_submit("k2", 1)
    assert watch.may_submit("never-claimed", 1)  # not the watch's to refuse
    now[0] = 120.0
    watch.beaten(kept, kept=True, now=120.0)
    watch.beaten(taken, kept=False, now=120.0)
    assert watch.may_submit("k1", 1) and not watch.may_submit("k2", 1)
    now[0] = 149.0
    assert watch.may_submit("k1", 1)  # 29 s since its last beat reached the store
    now[0] = 151.0
    assert not watch.may_submit("k1", 1)  # 31 s: another run may have taken it over


def test_a_job_whose_claim_lapsed_is_skipped_not_paid_for(tmp_path: Path) -> None:
    """The scheduler asks before each submit: a shot it may not pay for is skipped with the
    reason, the others are submitted."""
    from rdpipe.scheduler import Phase
    from tests.scheduler.journal_runs import run_once
    from tests.scheduler.test_lost_tasks import Relay

    rendered = shots("a red kite", "a blue boat")
    relay = Relay(duration=1.0)
    results = run_once(tmp_path, relay, rendered, may_submit=lambda job: job.shot.id != "s1")
    assert relay.submitted == ["a red kite"]
    assert [result.phase for result in results] == [Phase.DONE, Phase.SKIPPED]
    assert (results[1].message or "").startswith("its claim in the shared clip store lapsed")
