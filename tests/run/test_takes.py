"""Takes: several generations of a shot, each its own task and seed; the pick goes in the video."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import av
from click.testing import Result

from rdpipe.prepare.pipeline import prepare_pipeline
from rdpipe.sim import SimServer
from tests.run.conftest import submits, summary_of, write

PIPELINE = """version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {{seconds: 4, ratio: '16:9'}}
shots:
  - id: a
    prompt: a kite
    takes: 2{pick}
  - id: b
    prompt: a boat
    seeds: [11, 22, 33]
    seconds: 5
output: {{path: out/film.mp4}}
"""


def test_takes_render_with_their_own_seeds(tmp_path: Path) -> None:
    """Take 1 keeps the request as written; later takes get a reproducible or given seed."""
    path = write(tmp_path / "film.yaml", PIPELINE.format(pick=""))
    shots = prepare_pipeline(path).shots
    assert [(s.id, s.take) for s in shots] == [("a", 1), ("a", 2), ("b", 1), ("b", 2), ("b", 3)]
    assert shots[0].request.metadata.seed is None
    derived = shots[1].request.metadata.seed
    assert derived == prepare_pipeline(path).shots[1].request.metadata.seed
    assert [s.request.metadata.seed for s in shots[2:]] == [11, 22, 33]


def test_plan_counts_every_take(tmp_path: Path, rdpipe_cli: Callable[..., Result]) -> None:
    """plan and the budget guard count each take: 2 x 4 s + 3 x 5 s."""
    path = write(tmp_path / "film.yaml", PIPELINE.format(pick=""))
    plan = json.loads(rdpipe_cli("plan", str(path), "--json").stdout)
    assert plan["totals"]["generations"] == 5
    assert plan["totals"]["billed_seconds"] == 23
    refused = rdpipe_cli("run", str(path), "--max-seconds", "22")
    assert refused.exit_code == 2


def test_takes_rules(tmp_path: Path, rdpipe_cli: Callable[..., Result]) -> None:
    """Seeds must match takes, and a pick must name an existing take."""
    text = PIPELINE.format(pick="\n    pick: 3").replace(
        "seeds: [11, 22, 33]", "seeds: [1]\n    takes: 2"
    )
    path = write(tmp_path / "film.yaml", text)
    result = rdpipe_cli("validate", str(path))
    assert result.exit_code == 2
    assert "shots[0].pick: take 3 does not exist: the shot has 2" in result.stderr
    assert "shots[1].seeds: 1 seeds for 2 takes; give one per take" in result.stderr


def test_pick_switches_the_clip_without_requests(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Every take is generated once; picking take 2 rebuilds the video from it, sending nothing."""
    path = write(tmp_path / "film.yaml", PIPELINE.format(pick=""))
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert submits(online) == 5
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    shot_a = manifest["shots"][0]
    assert shot_a["picked"] == 1 and len(shot_a["takes"]) == 2
    clips = [take["clip"] for take in shot_a["takes"]]
    assert clips[0] != clips[1] and all((tmp_path / "out" / c).is_file() for c in clips)
    lock = (tmp_path / "film.rdpipe.lock").read_text()
    assert lock.count("take:") == 5

    online.clear_observations()
    write(path, PIPELINE.format(pick="\n    pick: 2"))
    rerun = rdpipe_cli("run", str(path), "--json")
    assert rerun.exit_code == 0, rerun.stderr
    assert online.counters() == {}, "picking never regenerates"
    assert summary_of(rerun)["reused"] == 5
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["shots"][0]["picked"] == 2
    assert manifest["shots"][0]["clip"] == clips[1]
    with av.open(str(tmp_path / "out" / "film.mp4")) as container:
        assert container.duration is not None
        assert abs(container.duration / 1e6 - (4 + 5)) < 0.1
