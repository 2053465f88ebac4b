"""What ``run --drafts`` says when every drafted shot is picked (issue 17 §3): the advice
follows the state of the finals — to render, rendered but not joined into the final videos,
or current (then nothing)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.run.conftest import DRAFTED_BOAT as FILM
from tests.run.conftest import write


@pytest.fixture
def film(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "film.yaml", FILM)
    return tmp_path


def _last_lines(result: Result, count: int) -> list[str]:
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout.splitlines()[-count:]


def test_drafts_run_before_the_finals_says_the_run_renders_them(
    film: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """No final rendered yet: the plain run renders the finals of the picked drafts."""
    lines = _last_lines(rdpipe_cli("run", "film.yaml", "--offline", "--drafts"), 2)
    assert lines[0] == "`rdpipe run film.yaml --offline` renders the finals of the picked drafts."


def test_drafts_run_after_the_finals_advises_by_the_state_of_the_final_video(
    film: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Finals cached and the final video current: the summary line follows the shot lines, no
    advice. Then the final video gone: the plain run only builds the video. (One offline run
    of the finals serves both.)"""
    assert rdpipe_cli("run", "film.yaml", "--offline").exit_code == 0
    result = rdpipe_cli("run", "film.yaml", "--offline", "--drafts")
    lines = _last_lines(result, 1)
    assert lines[0].startswith("film: 0 submitted, 0 resumed, 2 reused, 0 failed -> ")
    assert "rdpipe run" not in result.stdout

    (film / "out" / "offline" / "film.mp4").unlink()
    lines = _last_lines(rdpipe_cli("run", "film.yaml", "--offline", "--drafts"), 2)
    assert lines[0] == (
        "`rdpipe run film.yaml --offline` builds the final videos from the finals already "
        "rendered (nothing to generate)."
    )
