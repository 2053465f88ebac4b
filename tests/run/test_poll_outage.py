"""A network outage while tasks are polled ends neither a shot nor the run: polls are GETs, safe
to repeat, so rdpipe keeps polling until the shot's deadline and says so once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import Result

from rdpipe.client import ClientConfig
from rdpipe.client.retry import RetryPolicy
from rdpipe.sim import Faults, SimServer
from tests.run.conftest import SIM_API_KEY, pipeline_text, submits, write
from tests.run.tcp_relay import CuttableRelay

OUTAGE = 2.0  # seconds: longer than the (shortened) retries of one poll
_TASKS = ("/v1/video/generations/", "/v1/videos/")  # a task's polls (not the prices' GETs)
NOTE_HEAD = "could not reach RelayDance to poll ("
NOTE_TAIL = (
    "); rdpipe keeps polling each task until --shot-timeout (30 min). Ctrl-C stops waiting: the "
    "tasks submitted stay recorded, and the resume command is printed"
)
#: Said once when the polls reach RelayDance again.
BACK = "RelayDance answers again: polling goes on"


@pytest.fixture
def relay(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[CuttableRelay]:
    """The simulator's API behind a relay that can be cut; each request gives up after two
    quick tries, so an outage of two seconds reaches the scheduler (real retries last ~15 s)."""
    forward = CuttableRelay(sim.base_url)
    monkeypatch.setenv("RELAYDANCE_BASE_URL", forward.url)
    monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
    from_environ = ClientConfig.from_environ
    quick = RetryPolicy(attempts=2, initial_wait=0.05, max_wait=0.1)
    monkeypatch.setattr(
        ClientConfig,
        "from_environ",
        classmethod(lambda cls, environ: replace(from_environ(environ), retry=quick)),
    )
    yield forward
    forward.cut()


def _cut_while_polling(sim: SimServer, relay: CuttableRelay, tasks: int) -> threading.Thread:
    """Once every task has been polled (its submit answered and recorded), cut for OUTAGE s."""

    def outage() -> None:
        deadline = time.monotonic() + 20
        while len({r.path for r in sim.requests() if r.path.startswith(_TASKS)}) < tasks:
            assert time.monotonic() < deadline, "the tasks were never polled"
            time.sleep(0.01)
        relay.cut()
        time.sleep(OUTAGE)
        relay.restore()

    thread = threading.Thread(target=outage, daemon=True)
    thread.start()
    return thread


def test_a_network_blip_while_polling_ends_neither_shot_nor_run(
    tmp_path: Path, sim: SimServer, relay: CuttableRelay, rdpipe_cli: Callable[..., Result]
) -> None:
    """Cut for 2 s while two tasks run: both finish, the video is built, the outage is noted
    once, and no submit is sent again."""
    path = write(tmp_path / "film.yaml", pipeline_text({"coast": "a coast", "lamp": "a lamp"}))
    sim.faults = Faults(extra_unknown=OUTAGE + 2)  # the tasks outlast the outage
    outage = _cut_while_polling(sim, relay, tasks=2)
    result = rdpipe_cli("run", str(path))
    outage.join(timeout=30)
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    notes = [index for index, line in enumerate(lines) if NOTE_HEAD in line]
    assert len(notes) == 1, result.stdout
    note = lines[notes[0]]  # a line of its own, not a shot's
    assert note.startswith(NOTE_HEAD) and note.endswith(NOTE_TAIL), note
    assert lines.count(BACK) == 1 and lines.index(BACK) > notes[0], result.stdout
    assert "the run stopped" not in result.stdout + result.stderr
    video = tmp_path / "out" / "film.mp4"
    assert result.stdout.splitlines()[-1] == (
        f"film: 2 submitted, 0 resumed, 0 reused, 0 failed -> {video}"
    )
    assert submits(sim) == 2
