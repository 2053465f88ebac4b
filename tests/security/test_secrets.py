"""The API key goes to the API host only: never to storage, a log, a file or an error message."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rdpipe.sim import Faults, SimConfig, SimServer, Timing, run_simulator

KEY = "sk-CANARY-0123456789abcdefghijklmnopqrstuv"
PIPELINE = """version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {seconds: 4, ratio: '16:9'}
shots:
  - {id: a, prompt: one}
  - {id: b, prompt: two}
  - {id: c, prompt: three}
output: {path: out/film.mp4}
"""


@pytest.fixture
def keyed_sim(tmp_path: Path) -> Iterator[SimServer]:
    """A simulator that accepts only the canary key, with expired storage links and errors."""
    config = SimConfig(api_key=KEY, timing=Timing.fast(), work_dir=tmp_path / "sim-work")
    with run_simulator(config) as server:
        server.faults = Faults(
            expired_urls=True, server_error_rate=0.2, endpoints=frozenset({"generation", "video"})
        )
        yield server


def run(
    tmp_path: Path, sim: SimServer, *args: str, key: str = KEY
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": key}
    command = [sys.executable, "-m", "rdpipe", *args, "--json"]
    return subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_key_appears_in_no_artefact_and_never_reaches_storage(
    keyed_sim: SimServer, tmp_path: Path
) -> None:
    """After a run with faults, no file, no output line and no storage request holds the key."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "film.yaml").write_text(PIPELINE)
    result = run(project, keyed_sim, "run", "film.yaml", "--poll-interval", "0.05")
    assert result.returncode == 0, result.stderr
    assert KEY not in result.stdout and KEY not in result.stderr
    scanned = 0
    for path in project.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), f"the key leaked into {path}"
            scanned += 1
    assert scanned >= 8  # clips, video, manifest, lock file, state db, sidecars, contact sheet
    storage = [r for r in keyed_sim.requests() if r.origin == "storage"]
    api = [r for r in keyed_sim.requests() if r.origin == "api"]
    assert storage, "the clips came from the storage origin"
    assert all("authorization" not in r.headers for r in storage)
    assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in api)


def test_a_refused_key_is_not_echoed(keyed_sim: SimServer, tmp_path: Path) -> None:
    """A wrong key fails the run with a clear message that does not contain the key."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "film.yaml").write_text(PIPELINE)
    wrong = "sk-WRONG-abcdefghijklmnopqrstuvwxyz012345"
    result = run(project, keyed_sim, "run", "film.yaml", key=wrong)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "401" in result.stderr or "key" in result.stderr.lower()
    assert wrong not in result.stdout + result.stderr
    assert wrong[3:] not in result.stdout + result.stderr
