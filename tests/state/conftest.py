"""Fixtures for the run-state tests: a stepping clock and a fresh store in a temp pipeline dir."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rdpipe.state import StateStore


class SteppingClock:
    """A clock that starts at a fixed epoch time and advances one second per reading."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def new_clock() -> Callable[[], SteppingClock]:
    """Tests import nothing from conftest (importlib mode), so the clock class is a fixture."""
    return SteppingClock


@pytest.fixture
def store(tmp_path: Path, clock: SteppingClock) -> Iterator[StateStore]:
    with StateStore.open(
        tmp_path / ".rdpipe" / "state.db", pipeline="lighthouse", clock=clock
    ) as opened:
        yield opened
