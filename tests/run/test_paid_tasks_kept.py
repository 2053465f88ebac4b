"""`rdpipe run` keeps every paid task it cannot see to its end, and its summary says so.

A task submitted to one server is not given up by a run pointed at another (or whose server
does not know it); --fail-fast leaves running tasks in flight, not failed; the summary counts
resumed shots and does not call refunded failures billed; a killed download leaves no file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from rdpipe.sim import Faults, SimConfig, SimServer, Timing, run_simulator
from tests.run.conftest_helpers import SIM_API_KEY, SUBMIT_KEY, start_run

DOWN = "doubao-seedance-2-0-720p"  # a model the simulator lists
PROMPTS = {
    "coast": "a storm-battered coast at dusk",
    "stairs": "a keeper climbs the spiral stairs",
    "lamp": "the great lamp is lit",
    "beam": "the beam sweeps across the waves",
}
LOST_HINT = (
    "It stays recorded and is not submitted again: if it was submitted with another API key or "
    "server, set RELAYDANCE_API_KEY and RELAYDANCE_BASE_URL back to those and rerun to follow it "
    "(no new charge); if RelayDance no longer keeps it, rerun with --resubmit-unknown to pay for "
    "a new one"
)
SLOW = Timing(unknown=0.3, queued=0.3, running=3.0)


def _pipeline(folder: Path, prompts: dict[str, str] = PROMPTS) -> Path:
    lines = [
        "version: 1",
        "name: film",
        "model: doubao-seedance-2-0-480p",
        "defaults: {seconds: 4, ratio: '16:9'}",
        f"concurrency: {{tasks: {len(prompts)}}}",
        "shots:",
        *(f"  - {{id: {shot}, prompt: {json.dumps(text)}}}" for shot, text in prompts.items()),
        "output: {path: out/film.mp4}",
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "film.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _simulator(tmp: Path, port: int = 0) -> Iterator[SimServer]:
    config = SimConfig(api_key=SIM_API_KEY, timing=SLOW, seed=0, work_dir=tmp, port=port)
    with run_simulator(config) as server:
        yield server


@pytest.fixture(scope="module")
def server_a(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    """The server the tasks are submitted to: they take about 3.6 s."""
    yield from _simulator(tmp_path_factory.mktemp("sim-a"))


@pytest.fixture(scope="module")
def server_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    """Another server: a wrong RELAYDANCE_BASE_URL."""
    yield from _simulator(tmp_path_factory.mktemp("sim-b"))


def _host(server: SimServer) -> str:
    return server.base_url.removeprefix("http://")


def _use(monkeypatch: pytest.MonkeyPatch, server: SimServer) -> None:
    monkeypatch.setenv("RELAYDANCE_BASE_URL", server.base_url)
    monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)


def _kill_with_tasks_in_flight(pipeline: Path, server: SimServer) -> dict[str, str]:
    """Start a run, SIGKILL it once every shot's task is recorded; returns them by shot."""
    run = start_run(pipeline, server)
    deadline = time.monotonic() + 30
    while True:
        tasks = {
            event["id"]: event["task_id"]
            for event in run.events()
            if event.get("status") == "generating" and "task_id" in event
        }
        if len(tasks) == len(PROMPTS):
            break
        assert run.process.poll() is None and time.monotonic() < deadline, run.error_text
        time.sleep(0.02)
    assert run.kill(), "the run ended before it was killed"
    return tasks


def _results(result: Result) -> list[str]:
    """The lines after the run: one per unfinished shot, then the summary."""
    lines = result.stdout.splitlines()
    return [line for line in lines if line.split(":")[0] in PROMPTS and ": " in line][-4:]


def test_a_run_on_another_server_keeps_paid_tasks_and_the_next_run_pays_nothing(
    tmp_path: Path,
    server_a: SimServer,
    server_b: SimServer,
    monkeypatch: pytest.MonkeyPatch,
    rdpipe_cli: Callable[..., Result],
) -> None:
    """Killed with 4 tasks in flight on A, run once against B: B gets no request at all, each
    shot is unknown naming both hosts, nothing is marked failed; back on A the 4 tasks finish
    with no new submit."""
    pipeline = _pipeline(tmp_path)
    server_a.clear_observations()
    server_b.clear_observations()
    tasks = _kill_with_tasks_in_flight(pipeline, server_a)
    assert server_a.counters()[SUBMIT_KEY] == 4

    _use(monkeypatch, server_b)
    wrong = rdpipe_cli("run", str(pipeline))
    assert wrong.exit_code == 1, wrong.stdout
    a, b = _host(server_a), _host(server_b)
    assert _results(wrong) == [
        f"{shot}: unknown: task {tasks[shot]} was submitted to {a}, but RELAYDANCE_BASE_URL "
        f"points at {b}, so it is not polled there. It stays recorded: set RELAYDANCE_BASE_URL "
        f"back to the server at {a} and rerun to follow it (no new charge), or rerun with "
        f"--resubmit-unknown to pay for a new one at {b}"
        for shot in PROMPTS
    ]
    assert (
        wrong.stdout.splitlines()[-1]
        == "film: 0 submitted, 0 resumed, 0 reused, 0 failed, 4 unknown"
    )
    assert server_b.counters() == {}

    _use(monkeypatch, server_a)
    back = rdpipe_cli("run", str(pipeline))
    assert back.exit_code == 0, back.stdout
    video = tmp_path / "out" / "film.mp4"
    assert back.stdout.splitlines()[0] == (
        "film: 0 to generate (0 s submitted to RelayDance; failed tasks are refunded), "
        "4 to resume, 0 cached"
    )
    assert (
        back.stdout.splitlines()[-1]
        == f"film: 0 submitted, 4 resumed, 0 reused, 0 failed -> {video}"
    )
    assert server_a.counters()[SUBMIT_KEY] == 4


def test_a_server_that_does_not_know_the_tasks_never_has_them_marked_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rdpipe_cli: Callable[..., Result]
) -> None:
    """The same host, restarted without the tasks (as for another account's key): each shot is
    unknown with the server's answer and the host, reruns send no POST, and only
    --resubmit-unknown pays for new tasks."""
    pipeline = _pipeline(tmp_path)
    with run_simulator(SimConfig(api_key=SIM_API_KEY, timing=SLOW, work_dir=tmp_path / "s")) as s:
        tasks = _kill_with_tasks_in_flight(pipeline, s)
        port = int(s.base_url.rsplit(":", 1)[1])
    config = SimConfig(api_key=SIM_API_KEY, timing=Timing.fast(), port=port, work_dir=tmp_path)
    with run_simulator(config) as forgetful:
        _use(monkeypatch, forgetful)
        host = _host(forgetful)
        for _ in range(2):
            lost = rdpipe_cli("run", str(pipeline))
            assert lost.exit_code == 1, lost.stdout
            assert _results(lost) == [
                f"{shot}: unknown: RelayDance at {host} has no task {tasks[shot]} "
                f"(400 task_not_exist); it was submitted there ({host}). {LOST_HINT}"
                for shot in PROMPTS
            ]
            assert lost.stdout.splitlines()[-1] == (
                "film: 0 submitted, 0 resumed, 0 reused, 0 failed, 4 unknown"
            )
        assert SUBMIT_KEY not in forgetful.counters()
        paid = rdpipe_cli("run", str(pipeline), "--resubmit-unknown")
        assert paid.exit_code == 0, paid.stdout
        assert (
            f"coast: submitting - task {tasks['coast']} - RelayDance at {host} has no task "
            f"{tasks['coast']} (400 task_not_exist); it was submitted there ({host}); submitting "
            "a new one (--resubmit-unknown, billed)"
        ) in paid.stdout.splitlines()
        video = tmp_path / "out" / "film.mp4"
        assert paid.stdout.splitlines()[-1] == (
            f"film: 4 submitted, 0 resumed, 0 reused, 0 failed -> {video}"
        )
        assert forgetful.counters()[SUBMIT_KEY] == 4


def test_fail_fast_leaves_the_other_paid_tasks_in_flight(
    tmp_path: Path, online: SimServer, rdpipe_cli: Callable[..., Result]
) -> None:
    """--fail-fast stops at a refused submit: the three tasks already sent are counted and named
    in flight (no "deadline", not failed), status agrees, and the rerun follows them for free."""
    prompts = dict(PROMPTS)
    path = _pipeline(tmp_path, prompts)
    text = path.read_text(encoding="utf-8").replace(
        json.dumps(PROMPTS["beam"]) + "}", json.dumps(PROMPTS["beam"]) + f", model: {DOWN}}}"
    )
    path.write_text(text, encoding="utf-8")
    # The server lists beam's model but no channel serves it: its submit is refused (503
    # model_not_found); all four POSTs go out.
    down = frozenset({DOWN})
    online.faults = Faults(delay=0.5, endpoints=frozenset({"submit"}), channels_down=down)
    stopped = rdpipe_cli("run", str(path), "--fail-fast")
    assert stopped.exit_code == 1, stopped.stdout
    results = _results(stopped)
    assert results[-1].startswith("beam: failed (refused): refused by RelayDance: ")
    assert results[:3] == [
        f"{shot}: in flight (unknown): stopped after the first failure (--fail-fast); its task "
        "is still running and the next run follows it (no new charge)"
        for shot in ("coast", "stairs", "lamp")
    ]
    assert stopped.stdout.splitlines()[-1] == (
        "film: 3 submitted, 0 resumed, 0 reused, 1 failed, 3 in flight"
    )
    assert online.counters()[SUBMIT_KEY] == 4
    status = json.loads(rdpipe_cli("status", str(path), "--json").stdout)
    assert [shot["status"] for shot in status["shots"]] == ["in flight"] * 3 + ["to generate"]
    online.faults = Faults(channels_down=down)
    rerun = rdpipe_cli("run", str(path), "--partial")
    assert rerun.exit_code == 1, rerun.stdout
    video = tmp_path / "out" / "film.mp4"
    assert rerun.stdout.splitlines()[-1] == (
        f"film: 0 submitted, 3 resumed, 0 reused, 1 failed -> {video}"
    )
    assert online.counters()[SUBMIT_KEY] == 5  # the refused shot only, refused again


def test_summary_counts_failures_without_calling_them_billed(
    tmp_path: Path, online: SimServer, rdpipe_cli: Callable[..., Result]
) -> None:
    """Every task refused by moderation (refunded): the announcement says seconds submitted,
    the expected cost and pre-charge, and that failed tasks are refunded, and the summary counts
    the POSTs and the failed shots."""
    path = _pipeline(tmp_path, {"coast": PROMPTS["coast"], "beam": PROMPTS["beam"]})
    online.faults = Faults(task_failure_rate=1.0)
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 1, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "film: 2 to generate (8 s submitted to RelayDance, expected $0.78, pre-charge $0.78; "
        "failed tasks are refunded), 0 to resume, 0 cached"
    )
    assert lines[-1] == "film: 4 submitted, 0 resumed, 0 reused, 2 failed"
    assert "billed" not in result.stdout.replace("(not billed)", "")
    assert online.counters()[SUBMIT_KEY] == 4


def test_downloads_a_killed_run_left_are_removed_at_the_next_start(
    tmp_path: Path, online: SimServer, rdpipe_cli: Callable[..., Result]
) -> None:
    """Half-downloaded and not-yet-adopted files of a killed run are removed by the next run,
    which finds every clip cached and sends nothing."""
    path = _pipeline(tmp_path, {"coast": PROMPTS["coast"]})
    assert rdpipe_cli("run", str(path)).exit_code == 0
    folder = tmp_path / "out" / "clips" / "coast"
    stale = [folder / ".incoming-task_x.mp4", folder / ".incoming-task_y.mp4.part"]
    for file in stale:
        file.write_bytes(b"half a clip")
    kept = folder / "notes.txt"
    kept.write_text("mine", encoding="utf-8")
    online.clear_observations()
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines()[-1].startswith("film: 0 submitted, 0 resumed, 1 reused, ")
    assert [file.exists() for file in stale] == [False, False]
    assert kept.exists()
    assert online.counters() == {}
