"""``rdpipe run`` and ``rdpipe assemble`` with several deliverables, through the command line
(issue 17 §2): the summary line names every video, ``assemble`` rebuilds each one and sends
nothing, and a pipeline with one ``output:`` keeps its one-video line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.sim import SimServer
from tests.conftest import SIM_API_KEY

TWO = """version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {seconds: 4, ratio: '16:9'}
shots:
  - {id: a, prompt: a red kite}
outputs:
  - {name: master, contact_sheet: false}
  - {name: square, ratio: '1:1', contact_sheet: false}
"""


@pytest.fixture
def online(sim: SimServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SimServer]:
    """The simulator as the API, the test's folder as the working directory."""
    monkeypatch.setenv("RELAYDANCE_BASE_URL", sim.base_url)
    monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
    monkeypatch.chdir(tmp_path)
    yield sim


def _rdpipe(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def test_run_names_every_video_and_assemble_rebuilds_each(
    online: SimServer, tmp_path: Path
) -> None:
    """The run's last line lists both videos; after both are deleted, assemble makes both
    again, one line each, without a request to the API."""
    (tmp_path / "film.yaml").write_text(TWO, encoding="utf-8")
    code, out = _rdpipe("run", "film.yaml", "--poll-interval", "0.1")
    master, square = tmp_path / "out" / "master.mp4", tmp_path / "out" / "square.mp4"
    assert code == 0
    assert out.splitlines()[-1] == (
        f"film: 1 submitted, 0 resumed, 0 reused, 0 failed -> {master}, {square}"
    )
    master.unlink()
    square.unlink()
    online.clear_observations()
    code, out = _rdpipe("assemble", "film.yaml")
    assert code == 0
    assert out.splitlines()[-2:] == [f"film: {master}", f"film: {square}"]
    assert master.is_file() and square.is_file()
    assert online.counters() == {}


def test_one_output_keeps_its_one_video_line(online: SimServer, tmp_path: Path) -> None:
    """A pipeline with an output: block ends its run as it always did."""
    text = TWO.split("outputs:")[0] + "output: {path: out/film.mp4, contact_sheet: false}\n"
    (tmp_path / "film.yaml").write_text(text, encoding="utf-8")
    code, out = _rdpipe("run", "film.yaml", "--poll-interval", "0.1")
    video = tmp_path / "out" / "film.mp4"
    assert (code, out.splitlines()[-1]) == (
        0, f"film: 1 submitted, 0 resumed, 0 reused, 0 failed -> {video}"
    )  # fmt: skip
