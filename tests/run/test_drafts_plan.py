"""``plan`` by stage (issue 17 §1-2): drafts, finals and regenerations for a deliverable, each
with its generations, billed seconds and money at the simulator's prices; the budget counts
every stage."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from rdpipe.sim import SimServer
from tests.run.conftest import write

FILM = """\
version: 1
name: film
model: doubao-seedance-2-0-1080p
defaults: {seconds: 4, ratio: '16:9', draft: true, takes: 2}
shots:
  - {id: kite, prompt: a red kite, pick: 2}
  - {id: dog, prompt: a dog, draft: false, aspect: {vertical: regenerate}}
outputs:
  - {name: main, path: out/film.mp4}
  - {name: vertical, ratio: '9:16', size: 1080x1920}
"""

Cli = Callable[..., Result]


@pytest.fixture
def film(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, online: SimServer) -> Path:
    monkeypatch.chdir(tmp_path)
    return write(tmp_path / "film.yaml", FILM)


def test_plan_shows_each_stage_with_its_generations_seconds_and_costs(
    film: Path, rdpipe_cli: Cli
) -> None:
    """2 drafts of kite at 480p; kite's final and dog's 2 takes at 1080p; dog again at 9:16."""
    result = rdpipe_cli("plan", "film.yaml")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("Plan for film by stage")
    # At 80 columns the stage folds, as a model id does in the table above.
    assert lines[start : start + 9] == [
        "Plan for film by stage",
        "┏━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┓",
        "┃ stage            ┃ generations ┃ billed seconds ┃ expected cost ┃ pre-charge ┃",
        "┡━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━━━━━━━━┩",
        "│ drafts           │           2 │              8 │         $0.78 │      $0.78 │",
        "│ finals           │           3 │             12 │        $26.24 │     $26.24 │",
        "│ regenerated for  │           1 │              4 │         $8.75 │      $8.75 │",
        "│ vertical         │             │                │               │            │",
        "└──────────────────┴─────────────┴────────────────┴───────────────┴────────────┘",
    ]
    assert "kite:draft#2 ─" in result.stdout  # each job under its label


def test_plan_json_gives_each_stage_and_the_totals_count_them_all(
    film: Path, rdpipe_cli: Cli
) -> None:
    result = rdpipe_cli("plan", "film.yaml", "--json")
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    stages = plan["totals"]["by_stage"]
    assert [
        (s["stage"], s["deliverable"], s["generations"], s["billed_seconds"]) for s in stages
    ] == [
        ("drafts", None, 2, 8),
        ("finals", None, 3, 12),
        ("regenerations", "vertical", 1, 4),
    ]
    assert plan["totals"]["generations"] == 6 and plan["totals"]["billed_seconds"] == 24
    assert sum(s["expected_quota"] for s in stages) == plan["totals"]["expected_quota"]
    assert [(s["id"], s["rendition"], s["take"], s["from_take"]) for s in plan["shots"]] == [
        ("kite", "draft", 1, None),
        ("kite", "draft", 2, None),
        ("kite", "", 1, 2),
        ("dog", "", 1, None),
        ("dog", "", 2, None),
        ("dog", "vertical", 1, 1),
    ]


def test_the_budget_counts_drafts_finals_and_regenerations(
    film: Path, online: SimServer, rdpipe_cli: Cli
) -> None:
    """24 billed seconds in all: a budget of 20 refuses the run before anything is sent."""
    film.write_text(FILM.replace("name: film\n", "name: film\nbudget: 20\n"))
    result = rdpipe_cli("run", "film.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: this run would bill 24 s of generation, above the budget of 20 s (budget: in "
        "film.yaml); nothing was submitted\n"
    ), result.stderr
    assert online.counters().get("POST /v1/video/generations", 0) == 0


def test_a_plan_without_drafts_or_regenerations_shows_no_stage_table(
    film: Path, rdpipe_cli: Cli
) -> None:
    film.write_text(
        FILM.replace("draft: true, ", "").replace(", aspect: {vertical: regenerate}", "")
    )
    result = rdpipe_cli("plan", "film.yaml")
    assert result.exit_code == 0, result.stderr
    assert "by stage" not in result.stdout
    stages = json.loads(rdpipe_cli("plan", "film.yaml", "--json").stdout)["totals"]["by_stage"]
    assert [(s["stage"], s["generations"]) for s in stages] == [("finals", 4)]


def test_the_run_announces_its_generations_by_stage(film: Path, rdpipe_cli: Cli) -> None:
    small = FILM.replace("size: 1080x1920", "size: 360x640")  # small videos: the line is read
    film.write_text(small.replace("path: out/film.mp4}", "path: out/film.mp4, size: 640x360}"))
    result = rdpipe_cli("run", "film.yaml")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == (
        "film: 6 to generate (2 drafts, 3 finals, 1 regenerated for vertical; 24 s submitted "
        "to RelayDance, expected $35.77, pre-charge $35.77; failed tasks are refunded), 0 to "
        "resume, 0 cached"
    )
