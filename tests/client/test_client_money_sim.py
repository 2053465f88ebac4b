"""Issue 15's client against the real simulator on 127.0.0.1: prices, balance, the settled
charge of a task, and the concurrency gate (relaydance-api.md §11-13)."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

import anyio
import pytest

from rdpipe.client import (
    ApiKey,
    Balance,
    BalanceUnavailable,
    ClientConfig,
    ConcurrencyLimitReached,
    RecordingClock,
    RelayDanceClient,
    RetryPolicy,
    TaskState,
    TaskStatus,
)
from rdpipe.prices import Currency
from rdpipe.sim import SimConfig, SimServer, Timing, run_simulator
from tests.client.mock_server import SIM_KEY as KEY

pytestmark = pytest.mark.anyio

BODY = json.dumps(
    {
        "model": "doubao-seedance-2-0-480p",
        "prompt": "a paper boat on a rain puddle",
        "seconds": "4",
        "metadata": {"ratio": "16:9", "resolution": "480p"},
    }
).encode()


def _client(sim: SimServer, clock: RecordingClock | None = None) -> RelayDanceClient:
    config = ClientConfig(ApiKey(KEY), sim.base_url, retry=RetryPolicy(attempts=4))
    if clock is None:
        return RelayDanceClient(config)
    return RelayDanceClient(config, sleep=clock.sleep, clock=clock.clock)


def _sim(**options: Any) -> AbstractContextManager[SimServer]:
    """A simulator of its own for one test, with ``options`` of :class:`SimConfig`."""
    return run_simulator(replace(SimConfig(api_key=KEY, timing=Timing.fast(), seed=0), **options))


async def _finished(client: RelayDanceClient, task_id: str) -> TaskStatus:
    with anyio.fail_after(60):
        while not (status := await client.get_task(task_id)).state.finished:
            await anyio.sleep(0.05)
    return status


async def test_a_finished_task_carries_the_quota_the_simulator_settled() -> None:
    """The envelope's ``data.quota`` is the simulator's settled charge; the balance, read
    through billing/subscription in yuan, is what the simulator's account holds."""
    with _sim(balance_usd=25.0, display_currency="CNY") as sim:
        async with _client(sim) as client:
            task_id = await client.submit(BODY)
            status = await _finished(client, task_id)
            assert status.state is TaskState.SUCCEEDED
            assert status.upstream_status == "succeeded"
            (charge,) = sim.charges()
            assert status.settled_quota == charge.settled
            assert charge.settled is not None and 0 < charge.settled < charge.precharge
            currency = await client.get_currency()
            balance = await client.get_balance()
        assert currency == Currency("CNY", 500_000.0, 7.3)
        assert (balance.source, balance.unlimited) == ("billing/subscription", False)
        assert balance.remaining_quota(currency) == sim.balance_quota()
        assert balance.used_quota(currency) == charge.settled
        assert sim.balance_quota() == 25 * 500_000 - charge.settled


async def test_the_simulators_price_book() -> None:
    with _sim() as sim:
        async with _client(sim) as client:
            book = await client.get_price_book()
    assert book.version == "sim-2026-11"
    price = book.get("doubao-seedance-2-0-720p")
    assert price is not None and (price.quota_type, price.model_ratio) == (0, 10.0)
    assert any(p.tiered for p in book.models.values())
    assert any(p.quota_type == 1 for p in book.models.values())


async def test_an_unlimited_simulator_account() -> None:
    with _sim() as sim:
        async with _client(sim) as client:
            assert await client.get_balance() == Balance(
                None, 0.0, True, "billing/subscription", marker=100_000_000
            )


async def test_the_simulators_200_with_error_on_every_balance_route() -> None:
    with _sim(balance_error=True) as sim:
        async with _client(sim) as client:
            with pytest.raises(BalanceUnavailable) as caught:
                await client.get_balance()
    assert caught.value.failures == (
        ("billing/subscription", "获取配额失败"),
        ("credits", "获取配额失败"),
    )


async def test_a_submit_finding_the_gate_unavailable_creates_one_task() -> None:
    """The simulator's gate answers the first submit 503 token_concurrency_unavailable (seed
    2 draws 0.18 then 0.82 against a rate of 0.5): the client sends it again, and exactly one
    task exists."""
    clock = RecordingClock()
    with _sim(gate_unavailable_rate=0.5, seed=2) as sim:
        async with _client(sim, clock) as client:
            task_id = await client.submit(BODY)
        posts = [r for r in sim.requests() if r.method == "POST"]
        assert len(posts) == 2
        assert sim.gate_unavailable == 1
        assert sim.created_task_ids() == [task_id]
        assert len(clock.waits) == 1


async def test_a_submit_over_the_simulators_gate_is_sent_once() -> None:
    """Two submits at once through a gate of one: one task, one 429 that went up at once."""
    clock = RecordingClock()
    outcomes: list[object] = []
    with _sim(concurrency_limit=1, gate_hold=0.5) as sim:
        async with _client(sim, clock) as client:

            async def submit() -> None:
                try:
                    outcomes.append(await client.submit(BODY))
                except ConcurrencyLimitReached as error:
                    outcomes.append(error)

            async with anyio.create_task_group() as group:
                group.start_soon(submit)
                group.start_soon(submit)
        assert len([r for r in sim.requests() if r.method == "POST"]) == 2
        assert sim.gate_rejections == 1
        assert len(sim.created_task_ids()) == 1
    assert sorted(type(o).__name__ for o in outcomes) == ["ConcurrencyLimitReached", "str"]
    assert clock.waits == []
