"""The lock file of a drafted pipeline run against the simulator (issue 17 §1): its entries, the
final's from_draft, and a teammate's clone restoring drafts and final without a submit."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.sim import SimServer
from rdpipe.state import LockFile
from tests.run.conftest import SIM_API_KEY, submits, write

FILM = """\
version: 1
name: film
model: doubao-seedance-2-0-1080p
defaults: {seconds: 4, ratio: '16:9', draft: true, takes: 2}
shots:
  - {id: kite, prompt: a red kite, pick: 2}
  - {id: dog, prompt: a dog, draft: false}
output: {path: out/film.mp4}
"""

Cli = Callable[..., Result]


def run(cli: Cli, path: Path, *options: str) -> Result:
    result = cli("run", str(path), *options)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result


def outline(text: str) -> list[str]:
    """The lock text with what each run makes anew (hashes, keys, task ids, clip names, seeds)
    written as placeholders."""
    text = re.sub(r"'[0-9a-f]{64}'", "HEX", text)
    text = re.sub(r"task_id: \S+", "task_id: TASK", text)
    text = re.sub(r"clip: clips/(\w+)/(\d)-[0-9a-f]{12}\.mp4", r"clip: clips/\1/\2-HEX.mp4", text)
    text = re.sub(r"quota: \d+", "quota: QUOTA", text)
    text = re.sub(r"settled: [0-9.]+", "settled: SETTLED", text)
    return re.sub(r"seed: \d+", "seed: SEED", text).splitlines()


def take_lines(shot: str, take: int, expected: str) -> list[str]:
    """A take's outlined lines: its clip, what it cost (the simulator's estimate), its seed."""
    return [
        f"  - clip: clips/{shot}/{take}-HEX.mp4",
        "    cost:",
        "      currency: USD",
        f"      expected: {expected}",
        "      quota: QUOTA",
        "      quota_per_unit: 500000",
        "      settled: SETTLED",
        "    duration: 4.0",
        *(["    key: HEX"] if take == 2 else []),
        "    seed: SEED",
        "    sha256: HEX",
        f"    take: {take}",
        "    task_id: TASK",
    ]


@pytest.fixture
def online(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> SimServer:
    """The simulator as the API (``tests/run/conftest.py``'s fixture, which this folder lacks)."""
    monkeypatch.setenv("RELAYDANCE_BASE_URL", sim.base_url)
    monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
    return sim


@pytest.fixture
def rdpipe_cli() -> Cli:
    """rdpipe in-process, polling the simulator every 0.1 s."""

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--poll-interval", "0.1"], catch_exceptions=False)

    return invoke


@pytest.fixture
def film(tmp_path: Path, online: SimServer) -> Path:
    return write(tmp_path / "a" / "film.yaml", FILM)


def _ran_once(sim_server: SimServer, folder: Path, *options: str) -> Path:
    """``FILM`` in ``folder/a`` after one ``run`` with ``options`` against the simulator."""
    film = write(folder / "a" / "film.yaml", FILM)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RELAYDANCE_BASE_URL", sim_server.base_url)
        patch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
        result = CliRunner().invoke(
            app, ["run", str(film), *options, "--poll-interval", "0.1"], catch_exceptions=False
        )
    assert result.exit_code == 0, result.stdout + result.stderr
    return film


@pytest.fixture(scope="module")
def finals_run(sim_server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``FILM`` after one plain run (drafts and finals), made once for the module; tests read
    it, or copy it before running again."""
    return _ran_once(sim_server, tmp_path_factory.mktemp("lock-finals"))


@pytest.fixture(scope="module")
def drafts_run(sim_server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``FILM`` after one ``run --drafts``, made once for the module."""
    return _ran_once(sim_server, tmp_path_factory.mktemp("lock-drafts"), "--drafts")


def _copy(film: Path, tmp_path: Path) -> Path:
    """This test's copy of a run project folder; the pipeline in it."""
    shutil.copytree(film.parent, tmp_path / "a", symlinks=True)
    return tmp_path / "a" / film.name


def test_a_picked_drafted_shot_locks_its_drafts_and_its_final_from_draft_2(
    finals_run: Path,
) -> None:
    """Version 3: kite:draft with two 480p takes, kite (1080p) from_draft: 2 with draft 2's
    seed, dog as before."""
    film = finals_run
    text = film.with_suffix(".rdpipe.lock").read_text()
    assert outline(text) == [
        "# Written by rdpipe: the clips this pipeline produced. Commit it; do not edit it.",
        "version: 3",
        "shots:",
        "- id: kite:draft",
        "  key: HEX",
        "  model: doubao-seedance-2-0-480p",
        "  takes:",
        *take_lines("kite", 1, "0.3888"),
        *take_lines("kite", 2, "0.3888"),
        "- from_draft: 2",
        "  id: kite",
        "  key: HEX",
        "  model: doubao-seedance-2-0-1080p",
        "  takes:",
        *take_lines("kite", 1, "8.748"),
        "- id: dog",
        "  key: HEX",
        "  model: doubao-seedance-2-0-1080p",
        "  takes:",
        *take_lines("dog", 1, "8.748"),
        *take_lines("dog", 2, "8.748"),
    ]
    drafts, final, _ = LockFile(film.with_suffix(".rdpipe.lock")).read()
    assert final.takes[0].seed == drafts.takes[1].seed
    assert final.key not in {take.key or drafts.key for take in drafts.takes}


def test_a_clone_restores_drafts_and_final_from_the_lock_without_a_submit(
    finals_run: Path, online: SimServer, tmp_path: Path, rdpipe_cli: Cli
) -> None:
    """The pipeline and its lock file alone: every draft and the final are downloaded again by
    task id, nothing is submitted, and the lock file keeps its bytes; ``--locked`` too."""
    film = finals_run
    lock = film.with_suffix(".rdpipe.lock").read_bytes()
    for folder in ("b", "c"):
        (tmp_path / folder).mkdir()
        for name in ("film.yaml", "film.rdpipe.lock"):
            shutil.copy2(film.parent / name, tmp_path / folder / name)
    online.clear_observations()
    result = run(rdpipe_cli, tmp_path / "b" / "film.yaml")
    assert submits(online) == 0
    assert "5 clips made before were restored (5 from the server); no charge" in " ".join(
        (result.stdout + result.stderr).split()
    )
    assert (tmp_path / "b" / "film.rdpipe.lock").read_bytes() == lock
    run(rdpipe_cli, tmp_path / "c" / "film.yaml", "--locked")
    assert submits(online) == 0
    assert (tmp_path / "c" / "film.rdpipe.lock").read_bytes() == lock


def test_drafts_only_lock_their_drafts_and_a_second_run_submits_nothing(
    drafts_run: Path, online: SimServer, tmp_path: Path, rdpipe_cli: Cli
) -> None:
    """``run --drafts``: the lock has kite:draft and dog, no final; rerun: no submit."""
    film = _copy(drafts_run, tmp_path)
    entries = LockFile(film.with_suffix(".rdpipe.lock")).read()
    assert [(entry.name, entry.from_draft, len(entry.takes)) for entry in entries] == [
        ("kite:draft", None, 2),
        ("dog", None, 2),
    ]
    online.clear_observations()
    run(rdpipe_cli, film, "--drafts")
    assert submits(online) == 0


def test_a_final_never_made_is_new_not_changed_though_its_drafts_are_locked(
    drafts_run: Path, online: SimServer, tmp_path: Path
) -> None:
    """After ``run --drafts`` the lock has kite:draft only: status says kite's final has no
    clip yet (not "changed since the lock file"), and ``--locked`` says it is not in the lock
    file, sending nothing."""
    film = _copy(drafts_run, tmp_path)
    result = CliRunner().invoke(app, ["status", str(film), "--json"])
    rows = {row["label"]: row["reason"] for row in json.loads(result.stdout)["shots"]}
    assert rows["kite"] == "no clip for this request yet"
    online.clear_observations()
    result = CliRunner().invoke(app, ["run", str(film), "--locked"])
    assert result.exit_code == 2
    assert "kite (4 s) is not in the lock file." in " ".join(result.stderr.split())
    assert submits(online) == 0


def test_regenerated_renditions_are_entries_of_their_own(
    film: Path, online: SimServer, rdpipe_cli: Cli
) -> None:
    """A 9:16 deliverable regenerating every shot: kite:vertical from draft 2, dog:vertical
    (dog has no drafts: no from_draft); a second run submits nothing."""
    film.write_text(  # 720p and small videos: the lock's entries are what is read
        FILM.replace("-1080p", "-720p").replace(
            "output: {path: out/film.mp4}",
            "outputs:\n  - {name: master, path: out/film.mp4, size: 640x360}\n"
            "  - {name: vertical, size: 360x640, aspect: regenerate}",
        )
    )
    run(rdpipe_cli, film)
    entries = LockFile(film.with_suffix(".rdpipe.lock")).read()
    assert [(entry.name, entry.from_draft, len(entry.takes)) for entry in entries] == [
        ("kite:draft", None, 2),
        ("kite", 2, 1),
        ("kite:vertical", 2, 1),
        ("dog", None, 2),
        ("dog:vertical", None, 1),
    ]
    online.clear_observations()
    run(rdpipe_cli, film)
    assert submits(online) == 0


def test_cost_lists_the_lock_s_drafts_apart_from_the_final(
    finals_run: Path, online: SimServer
) -> None:
    """``rdpipe cost``: the lock file's takes are kite:draft 1 and 2, then kite 1 (the final),
    then dog's: a draft take 1 and the final are two rows, never one shot's take 1 twice."""
    film = finals_run
    result = CliRunner().invoke(app, ["cost", str(film)], env={"COLUMNS": "200"})
    lines = [line.split() for line in result.stdout.splitlines()]
    start = next(i for i, words in enumerate(lines) if words[:2] == ["Every", "take"])
    rows = [words[:2] for words in lines[start + 4 : start + 9]]
    assert rows == [["kite:draft", "1"], ["kite:draft", "2"], ["kite", "1"], ["dog", "1"],
                    ["dog", "2"]]  # fmt: skip
