"""When a running task is polled next: just after its expected end, not a backoff step later.

Readings here come from a task that runs ``RUNNING`` seconds from ``START`` with linear progress
rounded down to whole percents, as the relay reports it.
"""

from __future__ import annotations

import pytest

from rdpipe.scheduler.options import FinishEstimate, PollSchedule

SCHEDULE = PollSchedule(first=7.5, factor=1.5, cap=30.0)
MARGIN = SCHEDULE.first / 8
START, RUNNING = 6.0, 174.0
END = START + RUNNING


def reading(now: float) -> int:
    """The progress the relay reports at ``now``: whole percents, rounded down, 1-99."""
    return max(1, min(99, int(99 * (now - START) / RUNNING)))


def estimate_after(times: list[float]) -> FinishEstimate:
    estimate = FinishEstimate(SCHEDULE)
    for now in times:
        estimate.add(now, reading(now))
    return estimate


def test_without_two_rising_readings_the_backoff_stands() -> None:
    """No rate is known from one reading, nor from 0 % or the same percent read twice."""
    estimate = FinishEstimate(SCHEDULE)
    estimate.add(7.5, 0)
    estimate.add(18.75, 5)
    estimate.add(19.0, 5)
    assert estimate.remaining() is None
    assert estimate.next_delay(30.0) == 30.0


def test_far_from_the_end_the_backoff_stands() -> None:
    """While the end is more than a backoff step away, polls keep the backoff's cadence."""
    estimate = estimate_after([18.75, 35.6, 60.9])
    remaining = estimate.remaining()
    assert remaining is not None and remaining == pytest.approx(END - 60.9, abs=2.0)
    assert estimate.next_delay(30.0) == 30.0


@pytest.mark.parametrize("last", [155.0, 160.3, 171.1, 178.9])
def test_the_poll_lands_just_after_the_expected_end(last: float) -> None:
    """Within a step of the end, the poll comes just after it: by the margin, give or take the
    error of whole-percent readings (1 % of the running time: under 2 s of three minutes)."""
    estimate = estimate_after([18.75, 35.6, 60.9, 91.2, 121.2, last])
    poll = last + estimate.next_delay(30.0)
    error = RUNNING / 100
    assert END + MARGIN - error <= poll <= END + MARGIN + error


def test_a_task_past_its_expected_end_is_asked_again_backing_off() -> None:
    """A task that still runs when it should have ended (stuck at 99 %) is polled again at
    twice the margin, then four times..., never later than the backoff."""
    estimate = estimate_after([91.2, 121.2, 151.2, 179.5])
    delays = [estimate.next_delay(30.0) for _ in range(7)]
    remaining = estimate.remaining()
    assert remaining is not None
    assert delays[:4] == pytest.approx([remaining + MARGIN * 2**n for n in range(4)])
    assert delays[-1] == 30.0
    assert delays == sorted(delays)


def test_a_slowing_task_is_followed_by_its_recent_readings() -> None:
    """The rate comes from the last few readings: a task that slowed down is not expected at
    the end its early pace promised."""
    estimate = FinishEstimate(SCHEDULE)
    for now, progress in [(10.0, 10), (20.0, 30), (30.0, 50), (40.0, 55), (50.0, 60), (60.0, 65),
                          (70.0, 70)]:  # fmt: skip
        estimate.add(now, progress)
    remaining = estimate.remaining()
    assert remaining is not None and remaining == pytest.approx(58.0, abs=1.0)
