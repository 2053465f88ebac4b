"""A cached rerun, ``plan`` and ``status`` import only what they need (issue 12, start-up).

Each command runs in a child process under ``python -X importtime``, which lists every module
the process imported; none of the heavy libraries that only sending, downloading, simulating or
assembling needs may be among them. Together they cost about half a second of start-up.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rdpipe.sim import SimServer
from tests.cli_process import environment, run_rdpipe, write_pipeline

#: What a command that sends nothing and builds nothing must not import: the HTTP client,
#: PyAV (media checks and the assembly), and the simulator's web server.
HEAVY = ("httpx", "av", "uvicorn", "starlette")
#: What a command with nothing to wait for must not import: it runs no event loop.
EVENT_LOOP = ("asyncio",)
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", re.MULTILINE)


def imported_packages(*args: str, cwd: Path, env: dict[str, str]) -> set[str]:
    """The top-level packages ``rdpipe ARGS`` imports (it must exit 0)."""
    command = [sys.executable, "-X", "importtime", "-m", "rdpipe", *args]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr
    modules = _IMPORTED.findall(result.stderr)
    assert "rdpipe.cli" in modules, result.stderr[-2000:]  # the listing is there
    return {module.split(".")[0] for module in modules}


@pytest.fixture
def cached(tmp_path: Path, sim: SimServer) -> tuple[Path, dict[str, str]]:
    """A pipeline of two shots, generated once against the simulator; no requests after."""
    project = tmp_path / "project"
    write_pipeline(project)
    env = environment(
        tmp_path / "cache",
        {"RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": "sk-sim-test"},
    )
    first = run_rdpipe("run", "film.yaml", "--poll-interval", "0.1", cwd=project, env=env)
    assert first.returncode == 0, first.stderr
    sim.clear_observations()
    return project, env


@pytest.mark.parametrize(
    "args",
    [("run", "film.yaml"), ("plan", "film.yaml"), ("status", "film.yaml")],
    ids=["run", "plan", "status"],
)
def test_cached_commands_import_no_heavy_library(
    cached: tuple[Path, dict[str, str]], sim: SimServer, args: tuple[str, ...]
) -> None:
    """A rerun with every clip cached, ``plan`` and ``status`` import neither httpx, PyAV,
    uvicorn nor starlette, start no event loop (asyncio), and send nothing."""
    project, env = cached

    packages = imported_packages(*args, cwd=project, env=env)

    assert sorted(packages & {*HEAVY, *EVENT_LOOP}) == []
    assert sum(sim.counters().values()) == 0


def test_cached_offline_rerun_starts_no_simulator(tmp_path: Path) -> None:
    """An offline rerun with every clip cached imports no simulator (uvicorn, starlette), no
    HTTP client and no PyAV, and starts no event loop (asyncio)."""
    project, env = tmp_path / "project", environment(tmp_path / "cache")
    write_pipeline(project)
    first = run_rdpipe("run", "film.yaml", "--offline", cwd=project, env=env)
    assert first.returncode == 0, first.stderr

    packages = imported_packages("run", "film.yaml", "--offline", cwd=project, env=env)

    assert sorted(packages & {*HEAVY, *EVENT_LOOP}) == []
