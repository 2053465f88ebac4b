"""What a run says when drafted shots await a pick (issue 17 §3): which shots, and the
commands to look at the drafts, pick one take of each, and render the finals, written for the
run as the user typed it (here ``--offline``, carried by review and run, not by pick)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.run.conftest import write

FILM = """\
version: 1
name: film
model: doubao-seedance-2-0-1080p
defaults: {seconds: 4, ratio: '16:9', draft: true}
shots:
  - {id: kite, prompt: a red kite, takes: 3}
  - {id: dog, prompt: a dog}
  - {id: boat, prompt: a boat, takes: 2, pick: 2}
output: {path: out/film.mp4}
"""


def test_an_offline_run_names_each_shot_awaiting_a_pick_and_the_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rdpipe_cli: Callable[..., Result]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "film.yaml", FILM)
    result = rdpipe_cli("run", "film.yaml", "--offline")
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("film: 7 submitted, 0 resumed, 0 reused, 0 failed -> ")
    assert lines[-1].endswith("film.draft.mp4")
    assert lines[-5:-1] == [
        "kite, dog await a pick of their draft takes: `rdpipe review film.yaml --offline` "
        "shows them.",
        "`rdpipe pick film.yaml kite TAKE` picks the take of kite (TAKE: 1 to 3).",
        "`rdpipe pick film.yaml dog 1` picks the only draft take of dog.",
        "Then `rdpipe run film.yaml --offline` renders the finals.",
    ]
