"""Fixtures for end-to-end runs: a small pipeline on disk, and the CLI pointed at the simulator."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.sim import SimServer
from tests.remote_servers import moto_server, s3_store_url  # noqa: F401 - fixtures

SIM_API_KEY = "sk-sim-test"

#: One drafted shot of two draft takes, take 2 picked (the drafts' advice and pick tests).
DRAFTED_BOAT = """\
version: 1
name: film
model: doubao-seedance-2-0-720p
defaults: {seconds: 4, ratio: '16:9', draft: true}
shots:
  - {id: boat, prompt: a boat, takes: 2, pick: 2}
output: {path: out/film.mp4}
"""


def pipeline_text(shots: dict[str, str], *, seconds: int = 4, extra: str = "") -> str:
    """A 480p pipeline whose shots are ``{id: prompt}``."""
    lines = [
        "version: 1",
        "name: film",
        "model: doubao-seedance-2-0-480p",
        f"defaults: {{seconds: {seconds}, ratio: '16:9'}}",
        "shots:",
    ]
    lines += [
        f"  - {{id: {shot_id}, prompt: {json.dumps(prompt)}}}" for shot_id, prompt in shots.items()
    ]
    lines.append("output: {path: out/film.mp4}")
    return "\n".join(lines) + "\n" + extra


@pytest.fixture
def online(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimServer]:
    """The served simulator, reachable as the 'real' API through the environment."""
    monkeypatch.setenv("RELAYDANCE_BASE_URL", sim.base_url)
    monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
    yield sim


@pytest.fixture
def rdpipe_cli() -> Callable[..., Result]:
    """Run rdpipe in-process; returns click's result with stdout and stderr apart."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        if args and args[0] == "run":  # the simulator finishes tasks in a fraction of a second
            args = (*args, "--poll-interval", "0.1")
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def summary_of(result: Result) -> dict[str, Any]:
    """The ``run.summary`` document of a ``run --json`` (an ``error`` document may follow it)."""
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    [*_, parsed] = [line for line in lines if line.get("kind") == "run.summary"]
    assert isinstance(parsed, dict)
    return parsed


def submits(sim: SimServer) -> int:
    return sim.counters().get("POST /v1/video/generations", 0)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
