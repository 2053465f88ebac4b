"""``rdpipe cost`` names each row by its rendition (issue 17): a drafted shot's draft takes and
its final share the shot id and take 1 in the journal, so each row takes the label of the
pipeline's rendition whose request key (and take) is the row's: ``kite:draft#2``, ``kite``.
A key the pipeline no longer makes keeps the shot id. (The lock file's rows are named by their
entry, ``kite:draft``, tests/state/test_lock_renditions_run.py.)"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.sim import SimServer
from tests.run.conftest import SIM_API_KEY, online, rdpipe_cli, write  # noqa: F401 (fixtures)

Cli = Callable[..., Result]

#: kite: two drafts, then the final of draft 2, in one run; dog has no drafts.
FILM = """\
version: 1
name: film
model: doubao-seedance-2-0-1080p
defaults: {seconds: 4, ratio: '16:9', draft: true, takes: 2}
shots:
  - {id: kite, prompt: a red kite, pick: 2}
  - {id: dog, prompt: a dog, draft: false, takes: 1}
"""


@pytest.fixture(scope="module")
def paid_run(sim_server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project folder after one paid run against the simulator (so a lock file too),
    made once for the module; each test works in its copy (:func:`film`)."""
    folder = tmp_path_factory.mktemp("cost-renditions")
    path = write(folder / "film.yaml", FILM)
    sim_server.clear_observations()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("RELAYDANCE_BASE_URL", sim_server.base_url)
        patch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
        result = CliRunner().invoke(
            app, ["run", "film.yaml", "--poll-interval", "0.1"], catch_exceptions=False
        )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert sim_server.counters()["POST /v1/video/generations"] == 4
    return path


@pytest.fixture
def film(
    paid_run: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    online: SimServer,  # noqa: F811
) -> Path:
    """This test's copy of the pipeline after the paid run; the working folder."""
    project = tmp_path / "project"
    shutil.copytree(paid_run.parent, project, symlinks=True)
    monkeypatch.chdir(project)
    return project / "film.yaml"


def _cost(rdpipe_cli: Cli) -> dict[str, Any]:  # noqa: F811
    result = rdpipe_cli("cost", "film.yaml", "--json")
    assert result.exit_code == 0, result.stderr
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


def _names(takes: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(take["shot"], take["label"], take["take"]) for take in takes]


def _rows(stdout: str, title: str) -> list[list[str]]:
    """The shot and take cells of the table under ``title``."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next(i for i in range(start + 4, len(lines)) if not lines[i].strip())
    return [line.split()[:2] for line in lines[start + 4 : end]]


def test_a_draft_take_and_the_final_are_rows_of_their_own(
    film: Path,
    rdpipe_cli: Cli,  # noqa: F811
) -> None:
    result = rdpipe_cli("cost", "film.yaml")
    assert result.exit_code == 0, result.stderr
    assert _rows(result.stdout, "Last run (") == [
        ["kite:draft#1", "1"], ["kite:draft#2", "2"], ["kite", "1"], ["dog", "1"]
    ]  # fmt: skip
    shown = _cost(rdpipe_cli)
    names = [
        ("kite", "kite:draft#1", 1),
        ("kite", "kite:draft#2", 2),
        ("kite", "kite", 1),
        ("dog", "dog", 1),
    ]
    assert _names(shown["last_run"]["takes"]) == names
    # The lock file's rows are named by their entry, whatever the file says now.
    assert _names(shown["lock"]["takes"]) == [
        ("kite:draft", "kite:draft", 1),
        ("kite:draft", "kite:draft", 2),
        ("kite", "kite", 1),
        ("dog", "dog", 1),
    ]


def test_a_key_the_edited_file_no_longer_makes_keeps_the_shot_id(
    film: Path,
    rdpipe_cli: Cli,  # noqa: F811
) -> None:
    """kite's prompt changed: none of its three takes is the pipeline's any more."""
    film.write_text(FILM.replace("a red kite", "a blue kite"))
    shown = _cost(rdpipe_cli)
    assert _names(shown["last_run"]["takes"]) == [
        ("kite", "kite", 1),
        ("kite", "kite", 2),
        ("kite", "kite", 1),
        ("dog", "dog", 1),
    ]


def test_a_file_that_no_longer_passes_its_checks_is_shown_by_shot_id(
    film: Path,
    rdpipe_cli: Cli,  # noqa: F811
) -> None:
    """pick: 3 names no draft take: the rows cannot be matched, and cost still answers."""
    film.write_text(FILM.replace("pick: 2", "pick: 3"))
    result = rdpipe_cli("cost", "film.yaml")
    assert result.exit_code == 0, result.stderr
    assert _rows(result.stdout, "Last run (") == [
        ["kite", "1"], ["kite", "2"], ["kite", "1"], ["dog", "1"]
    ]  # fmt: skip
