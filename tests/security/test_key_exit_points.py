"""A key of any shape is taken out wherever text leaves rdpipe: the console, --json output,
the journal, the manifest, the crash log and the error paragraph.

The key here is not ``sk-`` shaped, so no pattern catches it: only the command's redactor,
built from its environment, can. The simulator echoes the key in every failure message, the
way a server may quote what it was sent.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from rdpipe.cli.app import run_command
from rdpipe.cli.context import CommandContext
from rdpipe.errors import RdpipeError
from rdpipe.sim import Faults, SimConfig, SimServer, Timing, run_simulator
from rdpipe.sim import failures as sim_failures
from tests.cli_process import environment, files_holding, run_rdpipe, write_pipeline

KEY = "rd_live_9f8e7d6c5b4a"
MARK = "[API key]"
PIPELINE = """version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {seconds: 4, ratio: '16:9'}
shots:
  - {id: a, prompt: a leak in the hull}
  - {id: b, prompt: a blue boat}
output: {path: out/film.mp4}
"""
# rdpipe's entry point with one planted bug that quotes the key from the environment.
BUG_QUOTING_THE_KEY = """
import os, sys
from rdpipe.state import ClipStore
def adopt(self, *args, **kwargs):
    raise RuntimeError("gremlin holding " + os.environ["RELAYDANCE_API_KEY"])
ClipStore.adopt = adopt
sys.argv[0] = "rdpipe"
from rdpipe.entry import main
main()
"""


@pytest.fixture
def echoing_sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimServer]:
    """A simulator that takes KEY and fails every 'leak' shot with a message quoting it."""
    code = "InternalServiceError"
    monkeypatch.setitem(sim_failures.FAILURE_MESSAGES, code, f"upstream refused key {KEY}.")
    config = SimConfig(api_key=KEY, timing=Timing.fast(), work_dir=tmp_path / "sim-work")
    with run_simulator(config) as server:
        server.faults = Faults(task_failure_rate=1.0, failure_code=code, failing_prompts="leak")
        yield server


def _env(tmp_path: Path, sim: SimServer) -> dict[str, str]:
    extra = {"RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": KEY}
    return environment(tmp_path / "cache", extra)


def test_console_journal_and_manifest_name_the_key_never_show_it(
    echoing_sim: SimServer, tmp_path: Path
) -> None:
    """Plain output, the failed shot's line, state.db and manifest.json say [API key]."""
    project = tmp_path / "plain"
    write_pipeline(project, PIPELINE)
    result = run_rdpipe(
        "run", "film.yaml", "--poll-interval", "0.1", cwd=project, env=_env(tmp_path, echoing_sim)
    )
    assert result.returncode == 1, result.stderr
    shown = result.stdout + result.stderr
    assert KEY not in shown
    assert re.search(rf"a: failed.*upstream refused key {re.escape(MARK)}", shown), shown

    with sqlite3.connect(project / ".rdpipe" / "state.db") as db:
        stored = [row[0] for row in db.execute("SELECT error_message FROM tasks") if row[0]]
    assert stored and all(f"key {MARK}" in message for message in stored)

    manifest = json.loads((project / "out" / "manifest.json").read_text(encoding="utf-8"))
    (shot,) = [entry for entry in manifest["shots"] if entry["id"] == "a"]
    assert f"key {MARK}" in shot["message"]
    assert files_holding(project, KEY) == []


def test_json_output_names_the_key_never_shows_it(echoing_sim: SimServer, tmp_path: Path) -> None:
    """Every --json line (progress and summary) that quotes the failure says [API key]."""
    project = tmp_path / "json"
    write_pipeline(project, PIPELINE)
    result = run_rdpipe(
        "run", "film.yaml", "--json", "--poll-interval", "0.1",
        cwd=project, env=_env(tmp_path, echoing_sim),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert KEY not in result.stdout + result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    failed = [line for line in lines[:-1] if line.get("status") == "failed"]
    assert failed and all(f"key {MARK}" in line["message"] for line in failed)
    (summary_a,) = [shot for shot in lines[-1]["shots"] if shot["id"] == "a"]
    assert f"key {MARK}" in summary_a["message"]


def test_a_crash_log_names_the_key_never_shows_it(echoing_sim: SimServer, tmp_path: Path) -> None:
    """A bug whose message quotes the key: the paragraph and the log say [API key]."""
    project = tmp_path / "crash"
    write_pipeline(project, PIPELINE.replace("a leak in the hull", "a red kite"))
    result = subprocess.run(
        [sys.executable, "-c", BUG_QUOTING_THE_KEY, "run", "film.yaml", "--poll-interval", "0.1"],
        cwd=project,
        env=_env(tmp_path, echoing_sim),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 1, result.stderr
    assert f"RuntimeError: gremlin holding {MARK}" in result.stderr
    found = re.search(r"The details are in (\S+); please", result.stderr)
    assert found is not None, result.stderr
    log = Path(found[1]).read_text(encoding="utf-8")
    assert f"RuntimeError: gremlin holding {MARK}" in log
    assert KEY not in result.stdout + result.stderr + log
    assert files_holding(tmp_path / "crash", KEY) == files_holding(tmp_path / "cache", KEY) == []


def test_an_error_paragraph_names_the_key_never_shows_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An RdpipeError quoting the key (a server's reason, say) is said with [API key]."""
    monkeypatch.setitem(os.environ, "RELAYDANCE_API_KEY", KEY)

    def action() -> None:
        raise RdpipeError(f"the server answered: key {KEY} is not allowed here")

    with pytest.raises(typer.Exit):
        run_command(action, CommandContext.start())
    assert capsys.readouterr().err == (
        f"error: the server answered: key {MARK} is not allowed here\n"
    )
