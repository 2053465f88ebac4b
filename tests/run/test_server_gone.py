"""When the server goes away mid-run (issue 16 §7): the run stops on the first submit that
cannot reach it, and says in one paragraph that the command it prints resumes the tasks
already paid for; that command, pasted once the server is back, follows them (no new POST)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rdpipe.sim import Faults, SimServer
from rdpipe.state import StateStore
from tests.cli_process import environment
from tests.run.conftest import SIM_API_KEY
from tests.run.tcp_relay import CuttableRelay

SUBMIT = "POST /v1/video/generations"
RDPIPE = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "rdpipe"
COOL_DOWN = 8  # seconds: the Retry-After of the one 429, which holds every request that long


@pytest.fixture
def relay(sim: SimServer) -> Iterator[CuttableRelay]:
    forward = CuttableRelay(sim.base_url)
    yield forward
    forward.cut()


def _pipeline(folder: Path) -> Path:
    folder.mkdir(parents=True)
    path = folder / "film.yaml"
    path.write_text(
        "version: 1\nname: film\nmodel: doubao-seedance-2-0-480p\n"
        "defaults: {seconds: 4, ratio: '16:9', retries: 0}\n"
        "shots:\n  - {id: kite, prompt: a red kite}\n  - {id: boat, prompt: a blue boat}\n"
        "output: {path: out/film.mp4}\n",
        encoding="utf-8",
    )
    return path


def _submitted_prompts(sim: SimServer) -> list[str]:
    """The prompts of the submits the simulator answered with a task (not the 429)."""
    return [
        json.loads(request.body)["prompt"]
        for request in sim.requests()
        if request.endpoint == SUBMIT and request.body  # a 429 is answered before its body
    ]


def _tasks_recorded(folder: Path) -> int:
    """How many tasks the run in ``folder`` has recorded as submitted (paid for) so far."""
    database = folder / ".rdpipe" / "state.db"
    if not database.exists():
        return 0
    with StateStore.open(database, pipeline="film", clock=time.time, read_only=True) as store:
        return len(store.in_flight())


def _finish(process: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """The process's output once it ends; killed (and its output shown) after ``timeout``."""
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"rdpipe ran on {timeout:g} s after the outage:\n{stdout}\n{stderr}")


def test_a_run_whose_server_goes_away_says_how_to_resume_what_was_paid(
    tmp_path: Path, sim: SimServer, relay: CuttableRelay
) -> None:
    """One submit is answered (its task runs on), the other waits out a 429's Retry-After; the
    server goes away in between. The run stops when that submit cannot be sent, exit 1, with
    the paragraph below; the printed command, run as printed from the same folder once the
    server is back, follows the paid task (0 POSTs for its shot) and submits only the other."""
    _pipeline(tmp_path / "my films")
    # The first submit is answered, and its task outlasts the outage; the second is refused 429
    # (creates nothing) with a Retry-After that holds every request to the host, whether it
    # left before the first was answered or after.
    sim.faults = Faults(
        extra_unknown=COOL_DOWN + 4,
        rate_limit_after=1,
        rate_limit_burst=1,
        retry_after=COOL_DOWN,
        endpoints=frozenset({"submit"}),
    )
    env = environment(
        tmp_path / "cache",
        {"RELAYDANCE_BASE_URL": relay.url, "RELAYDANCE_API_KEY": SIM_API_KEY, "NO_COLOR": "1",
         "COLUMNS": "400", "PATH": f"{RDPIPE.parent}{os.pathsep}{os.environ['PATH']}"},
    )  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(
        [str(RDPIPE), "run", "my films/film.yaml", "--poll-interval", "0.5"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    # the one answered and the 429, and the answer recorded by rdpipe
    while sim.counters().get(SUBMIT, 0) < 2 or _tasks_recorded(tmp_path / "my films") < 1:
        assert time.monotonic() < deadline, "the submits never came"
        time.sleep(0.05)
    relay.cut()
    cut_at = time.monotonic()
    stdout, stderr = _finish(process, timeout=90)
    gave_up_after = time.monotonic() - cut_at
    assert process.returncode == 1, stdout + stderr
    (paid,) = _submitted_prompts(sim)
    unsent = {"a red kite": "boat", "a blue boat": "kite"}[paid]
    command = "rdpipe run 'my films/film.yaml'"
    assert stderr.splitlines()[-2:] == [
        "error: the run stopped: could not reach RelayDance for POST /v1/video/generations: "
        "connection refused; nothing was sent.",
        "Check your network connection and RELAYDANCE_BASE_URL. The 1 task already submitted "
        f"(paid for) is recorded: once RelayDance answers again, `{command}` resumes it "
        "without paying again and submits the shots not sent yet.",
    ], stderr
    assert gave_up_after < COOL_DOWN + 15, (gave_up_after, time.monotonic() - started)
    (printed,) = re.findall(r"`(rdpipe [^`]*)`", stderr)
    assert printed == command

    relay.restore()
    sim.faults = Faults()
    sim.clear_observations()
    again = subprocess.run(
        ["bash", "-c", printed],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.splitlines()[-1] == (
        f"film: 1 submitted, 1 resumed, 0 reused, 0 failed -> {tmp_path}/my films/out/film.mp4"
    )
    assert _submitted_prompts(sim) == [{"kite": "a red kite", "boat": "a blue boat"}[unsent]]
