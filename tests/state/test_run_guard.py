"""The run guard: a second run of the same pipeline refuses or waits, and a dead holder frees it."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from contextlib import ExitStack
from pathlib import Path

import pytest

from rdpipe.state import RunBusy, RunGuard, StatePaths

_STARTED = 1_780_000_000.0  # 2026-05-28 20:26:40 UTC


class FakeTime:
    """A monotonic clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _guard(folder: Path, pid: int, fake: FakeTime | None = None) -> RunGuard:
    """The guard of ``folder/lighthouse.yaml``, held as process ``pid`` on ``studio-3``."""
    fake = fake or FakeTime()
    return RunGuard(
        StatePaths.for_pipeline(folder / "lighthouse.yaml"),
        clock=lambda: _STARTED,
        monotonic=fake.monotonic,
        sleep=fake.sleep,
        pid=pid,
        host="studio-3",
    )


def test_second_run_is_refused_naming_the_holder(tmp_path: Path) -> None:
    """A second run is refused at once with the holder's pid, host and start time."""
    with _guard(tmp_path, 4242).acquire(), pytest.raises(RunBusy) as caught:
        _guard(tmp_path, 5353).acquire().__enter__()
    assert str(caught.value) == (
        "Another rdpipe run of pipeline 'lighthouse' is in progress (pid 4242 on host studio-3, "
        "started 2026-05-28 20:26:40 UTC).\n"
        "Wait for it to finish, or stop it (`kill 4242`) and run again: the new run resumes the "
        "tasks it submitted instead of paying for them twice. "
        f"Lock: {tmp_path}/.rdpipe/lighthouse.run.lock"
    )


def test_waiting_run_gives_up_after_the_timeout(tmp_path: Path) -> None:
    """A run asked to wait polls until its timeout, then refuses and says how long it waited."""
    fake = FakeTime()
    with _guard(tmp_path, 1).acquire(), pytest.raises(RunBusy, match=r"Waited 1\.0 s"):
        _guard(tmp_path, 2, fake).acquire(wait=1.0, poll_interval=0.25).__enter__()
    assert fake.sleeps == [0.25, 0.25, 0.25, 0.25]


def test_waiting_run_proceeds_when_the_holder_finishes(tmp_path: Path) -> None:
    """A waiting run takes the guard as soon as the holder releases it, and names itself."""
    fake = FakeTime()
    with ExitStack() as first:
        first.enter_context(_guard(tmp_path, 1).acquire())
        fake.sleep = lambda seconds: first.close()  # type: ignore[method-assign]
        with _guard(tmp_path, 2, fake).acquire(wait=10.0) as holder:
            assert holder.pid == 2
            assert _guard(tmp_path, 3).holder() == holder


def test_released_guard_names_nobody(tmp_path: Path) -> None:
    """After a run ends, the guard file no longer names it and the next run starts at once."""
    with _guard(tmp_path, 1).acquire():
        pass
    assert _guard(tmp_path, 2).holder() is None
    with _guard(tmp_path, 2).acquire() as holder:
        assert holder.pid == 2


def test_killed_holder_releases_the_guard(tmp_path: Path) -> None:
    """A holder process killed with SIGKILL leaves no stale guard behind."""
    child_code = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from rdpipe.state import RunGuard, StatePaths

        with RunGuard(StatePaths.for_pipeline(Path(sys.argv[1]) / "lighthouse.yaml")).acquire():
            print("held", flush=True)
            time.sleep(60)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", child_code, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "held\n"
        with pytest.raises(RunBusy, match=f"pid {child.pid} on host"):
            _guard(tmp_path, 2).acquire().__enter__()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        if child.stdout:
            child.stdout.close()
    with _guard(tmp_path, 2).acquire() as holder:
        assert holder.pid == 2
