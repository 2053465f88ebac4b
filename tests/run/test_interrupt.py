"""Ctrl-C: the first stops the run cleanly and says how to resume; a rerun pays nothing twice."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from rdpipe.sim import Faults, SimConfig, SimServer, Timing, run_simulator
from tests.run.conftest import SIM_API_KEY, pipeline_text, submits, write
from tests.run.conftest_helpers import (
    RunProcess,
    assert_whole_clip,
    ffmpeg_started,
    press_ctrl_c,
    slow_ffmpeg,
    spawn_run,
)

KEY = "sk-interrupt-test"


@pytest.fixture
def slow_sim(tmp_path: Path) -> Iterator[SimServer]:
    """A simulator whose tasks take about 3 s, so a run can be interrupted mid-flight."""
    config = SimConfig(api_key=KEY, timing=Timing(running=3.0), work_dir=tmp_path / "sim")
    with run_simulator(config) as server:
        yield server


def start(pipeline: Path, sim: SimServer) -> subprocess.Popen[str]:
    env = {**os.environ, "RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": KEY}
    command = [sys.executable, "-m", "rdpipe", "run", str(pipeline), "--poll-interval", "0.2"]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_for_submits(sim: SimServer, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(sim.created_task_ids()) < count:
        assert time.monotonic() < deadline, "the run never submitted"
        time.sleep(0.05)


def online_cli(
    sim: SimServer, key: str, rdpipe_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """The in-process CLI pointed at ``sim``: a rerun checks what was recorded, not signals."""
    monkeypatch.setenv("RELAYDANCE_BASE_URL", sim.base_url)
    monkeypatch.setenv("RELAYDANCE_API_KEY", key)
    return rdpipe_cli


def test_ctrl_c_stops_cleanly_and_rerun_resumes(
    slow_sim: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGINT mid-run exits 130 with resume advice; the rerun polls the paid tasks, no new POST."""
    shots = {f"s{i}": f"prompt number {i}" for i in range(3)}
    pipeline = write(tmp_path / "film.yaml", pipeline_text(shots))
    run = start(pipeline, slow_sim)
    wait_for_submits(slow_sim, 3)
    time.sleep(0.3)
    run.send_signal(signal.SIGINT)
    output, _ = run.communicate(timeout=60)
    assert run.returncode == 130, output
    assert stopping(pipeline) in output  # the exact command to paste
    assert "Traceback" not in output

    rerun = online_cli(slow_sim, KEY, rdpipe_cli, monkeypatch)("run", str(pipeline))
    assert rerun.exit_code == 0, rerun.output
    assert len(slow_sim.created_task_ids()) == 3
    assert slow_sim.counters()["POST /v1/video/generations"] == 3
    assert (tmp_path / "out" / "film.mp4").is_file()


def test_second_ctrl_c_exits_at_once(slow_sim: SimServer, tmp_path: Path) -> None:
    """A second SIGINT ends the process immediately, still with exit code 130."""
    pipeline = write(tmp_path / "film.yaml", pipeline_text({"a": "one", "b": "two"}))
    run = start(pipeline, slow_sim)
    wait_for_submits(slow_sim, 2)
    run.send_signal(signal.SIGINT)
    run.send_signal(signal.SIGINT)
    run.communicate(timeout=30)
    assert run.returncode == 130


def stopping(pipeline: Path) -> str:
    """The first Ctrl-C's notice while shots run: the command to resume, ready to paste."""
    return (
        "stopping: no new submits. Tasks already submitted are recorded: "
        f"`rdpipe run {shlex.quote(str(pipeline))}` picks them up without paying twice. Press "
        "Ctrl-C again to exit at once.\n"
    )


def stopping_after_shots(pipeline: Path) -> str:
    """The first Ctrl-C's notice once every shot ended: the command that builds the video."""
    return (
        "stopping: the clips made are saved and nothing more is paid; the video is not "
        f"finished: `rdpipe run {shlex.quote(str(pipeline))}` builds it (it reuses the clips). "
        "Press Ctrl-C again to exit at once.\n"
    )


#: The ``error`` document that ends ``run --json``'s standard output after a Ctrl-C.
INTERRUPTED_JSON = (
    '{"kind": "error", "version": 1, "error": {"code": "interrupted", "message": "interrupted '
    '(Ctrl-C); what was already done is recorded", "exit_code": 130, "file": null, "line": '
    'null, "field": null, "diagnostics": [], "crash_log": null}, "errors": [{"code": '
    '"interrupted", "message": "interrupted (Ctrl-C); what was already done is recorded", '
    '"exit_code": 130, "file": null, "line": null, "field": null, "diagnostics": [], '
    '"crash_log": null}]}\n'
)


def test_gate_changes_are_run_events_under_json() -> None:
    """--json: each change of the bound on requests is a run.event line on stdout (a machine
    reads the limit there, not in stderr's words), valid against the output schema."""
    import io
    import json

    import jsonschema
    from rich.console import Console

    from rdpipe.cli.machine_output import JsonLinesTarget
    from rdpipe.cli.output_schema import output_schema
    from rdpipe.cli.run_session import ConsoleRunReporter
    from rdpipe.redaction import NO_SECRETS
    from rdpipe.scheduler import GateChanged

    out, err = io.StringIO(), io.StringIO()
    reporter = ConsoleRunReporter(Console(file=err), NO_SECRETS,
                                  json_to=JsonLinesTarget(out, Path(".")))  # fmt: skip
    reporter.run_event(GateChanged(4, 32, lowered=True))
    reporter.run_event(GateChanged(5, 32))
    assert out.getvalue() == (
        '{"kind": "run.event", "version": 1, "event": "gate", "limit": 4, "ceiling": 32, '
        '"lowered": true}\n'
        '{"kind": "run.event", "version": 1, "event": "gate", "limit": 5, "ceiling": 32, '
        '"lowered": false}\n'
    )
    schema = output_schema()
    for line in [*out.getvalue().splitlines(), INTERRUPTED_JSON]:
        jsonschema.validate(json.loads(line), schema)


def wait_until(condition: Callable[[], bool], run: RunProcess, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert run.process.poll() is None, f"the run ended first: {run.error_text}"
        assert time.monotonic() < deadline, run.error_text
        time.sleep(0.02)


@pytest.mark.parametrize("moment", ["submit", "download", "assembly"])
def test_ctrl_c_at_any_moment_exits_130_and_the_rerun_pays_nothing_twice(
    moment: str,
    sim: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C to the process group (rdpipe and its ffmpeg) while a submit waits for its answer,
    a clip downloads or ffmpeg joins the video: one stop message, exit 130, no traceback; the
    rerun exits 0 with the video and no second POST."""
    pipeline = write(tmp_path / "film.yaml", pipeline_text({"a": "a lighthouse at night"}))
    env = {"RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": SIM_API_KEY}
    options = ("--poll-interval", "0.1")
    if moment == "submit":
        sim.faults = Faults(delay=1.0, endpoints=frozenset({"submit"}))
        run = spawn_run(pipeline, *options, env=env)
        wait_until(lambda: submits(sim) == 1, run)
    elif moment == "download":
        sim.faults = Faults(delay=1.0, endpoints=frozenset({"storage"}))
        run = spawn_run(pipeline, *options, env=env)
        wait_until(lambda: any(r.origin == "storage" for r in sim.requests()), run)
    else:
        ffmpeg = slow_ffmpeg(tmp_path, 1.0)
        run = spawn_run(pipeline, *options, env={**env, "RDPIPE_FFMPEG": str(ffmpeg)})
        wait_until(ffmpeg_started(tmp_path).exists, run)  # the assembly's first ffmpeg
        time.sleep(0.3)  # it may start as the clip lands: let the shots' end be said (1 s left)
    press_ctrl_c(run)
    assert run.wait(timeout=30) == 130, run.error_text
    here = Path(pipeline.name)  # spawn_run runs `rdpipe run film.yaml` in the file's folder
    said = stopping_after_shots(here) if moment == "assembly" else stopping(here)
    assert run.error_text.endswith(said + "interrupted\n"), run.error_text
    assert "Traceback" not in run.error_text + "".join(run.lines)
    assert run.lines[-1] == INTERRUPTED_JSON  # --json: stdout ends with how the run ended

    sim.faults = Faults()
    rerun = online_cli(sim, SIM_API_KEY, rdpipe_cli, monkeypatch)("run", str(pipeline), "--json")
    assert rerun.exit_code == 0, rerun.stderr
    assert (submits(sim), len(sim.created_task_ids())) == (1, 1)
    assert_whole_clip(tmp_path / "out" / "film.mp4", 4)


def test_offline_status_and_run_say_an_earlier_offline_task_is_submitted_again_free(
    tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A task an earlier offline run left in flight (its simulator ended with it): status says
    it is submitted again, free, never "following it (no new charge)"; the run's plan line
    never promises a resume; nothing offline speaks of paying."""
    import json

    from rdpipe.request import GenerationRequest
    from rdpipe.state import StateStore

    pipeline = write(tmp_path / "film.yaml", pipeline_text({"a": "a lighthouse at dawn"}))
    plan = json.loads(rdpipe_cli("plan", str(pipeline), "--json").stdout)
    database = tmp_path / ".rdpipe" / "offline" / "state.db"
    task = "task_" + "7" * 32
    with StateStore.open(database, pipeline="film", clock=time.time) as store:
        intent = store.record_intent(key=plan["shots"][0]["key"], shot_id="a", take=1,
                                     request=GenerationRequest("m", "p", "5"))  # fmt: skip
        store.record_submitted(intent, task)

    status = rdpipe_cli("status", str(pipeline), "--offline", "--json")
    assert status.exit_code == 0, status.stderr
    (shot,) = json.loads(status.stdout)["shots"]
    assert shot["reason"] == (
        f"task {task} was left by an earlier offline run, whose simulator is gone; it is "
        "submitted again (free)"
    )
    result = rdpipe_cli("run", str(pipeline), "--offline")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "film: 0 to generate (0 s on the offline simulator, free), 1 left by an earlier run to "
        "submit again, 0 cached"
    )
    said = (result.stdout + result.stderr).lower()
    assert not any(word in said for word in ("paid", "no new charge", "paying")), said
