"""``plan`` before the drafts are paid for (issue 17 §1): the finals and regenerations that
follow the picks are priced from the final configuration, as the next run's, beside this run's
stages; ``plan --drafts`` plans what ``run --drafts`` sends; the budget counts this run only."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from click.testing import Result

from rdpipe.sim import SimServer
from tests.run.conftest import write

#: kite awaits a pick (and regenerates for vertical), dog has no drafts, sea is picked.
FILM = """\
version: 1
name: film
model: doubao-seedance-2-0-1080p
defaults: {seconds: 4, ratio: '16:9', draft: true, takes: 2}
shots:
  - {id: kite, prompt: a red kite, aspect: {vertical: regenerate}}
  - {id: dog, prompt: a dog, draft: false}
  - {id: sea, prompt: the sea, pick: 1}
outputs:
  - {name: main, path: out/film.mp4}
  - {name: vertical, ratio: '9:16', size: 1080x1920}
"""

Cli = Callable[..., Result]

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schemas" / "output.schema.json").read_text(encoding="utf-8")
)

#: The money of one 4 s generation at the simulator's prices: 480p draft, 1080p final.
DRAFT_QUOTA, FINAL_QUOTA = 194_400, 4_374_000


@pytest.fixture
def film(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, online: SimServer) -> Path:
    monkeypatch.chdir(tmp_path)
    return write(tmp_path / "film.yaml", FILM)


def _small(text: str) -> str:
    """``text`` at 720p with 640x360 and 360x640 videos: for runs whose submits are counted,
    not priced or measured (the stages and counts stay those of ``FILM``)."""
    return (
        text.replace("model: doubao-seedance-2-0-1080p", "model: doubao-seedance-2-0-720p")
        .replace("size: 1080x1920", "size: 360x640")
        .replace("path: out/film.mp4}", "path: out/film.mp4, size: 640x360}")
    )


def _stage_table(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = lines.index("Plan for film by stage")
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("└"))
    return lines[start : end + 3]  # the table, the sentence and the prices line


def test_plan_prices_the_finals_after_the_picks_as_the_next_runs(
    film: Path, rdpipe_cli: Cli
) -> None:
    """kite's final and its 9:16 regeneration are 1080p generations after kite's pick."""
    result = rdpipe_cli("plan", "film.yaml")
    assert result.exit_code == 0, result.stderr
    assert _stage_table(result.stdout)[:-1] == [
        "Plan for film by stage",
        "┏━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┓",
        "┃ stage            ┃ generations ┃ billed seconds ┃ expected cost ┃ pre-charge ┃",
        "┡━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━━━━━━━━┩",
        "│ drafts           │           4 │             16 │         $1.56 │      $1.56 │",
        "│ finals           │           3 │             12 │        $26.24 │     $26.24 │",
        "├──────────────────┼─────────────┼────────────────┼───────────────┼────────────┤",
        "│ finals, after    │           1 │              4 │         $8.75 │      $8.75 │",
        "│ picks (next run) │             │                │               │            │",
        "│ regenerated for  │           1 │              4 │         $8.75 │      $8.75 │",
        "│ vertical, after  │             │                │               │            │",
        "│ picks (next run) │             │                │               │            │",
        "├──────────────────┼─────────────┼────────────────┼───────────────┼────────────┤",
        "│ total, this run  │           9 │             36 │        $45.30 │     $45.30 │",
        "│ and the next     │             │                │               │            │",
        "└──────────────────┴─────────────┴────────────────┴───────────────┴────────────┘",
        "This run generates 7 (28 s, expected $27.80); once kite is picked (rdpipe review, "
        "rdpipe pick), the next run generates 2 more (8 s, expected $17.50): $45.30 in all. "
        "The budget counts this run's generations only.",
    ]
    # The model table above is this run's alone: the finals at 1080p of kite are not in it.
    assert "│ total            │           7 │             28 │        $27.80 │" in result.stdout
    assert "kite ─" not in result.stdout  # no request of the next run is shown


def test_plan_json_gives_the_next_runs_stages_and_totals(film: Path, rdpipe_cli: Cli) -> None:
    result = rdpipe_cli("plan", "film.yaml", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)  # by_stage and next_run as the schema describes
    totals = document["totals"]
    shown = [
        (s["stage"], s["deliverable"], s["run"], s["after_picks"], s["generations"],
         s["billed_seconds"], s["expected_quota"], s["precharge_quota"])
        for s in totals["by_stage"]
    ]  # fmt: skip
    assert shown == [
        ("drafts", None, "this", False, 4, 16, 4 * DRAFT_QUOTA, 4 * DRAFT_QUOTA),
        ("finals", None, "this", False, 3, 12, 3 * FINAL_QUOTA, 3 * FINAL_QUOTA),
        ("finals", None, "next", True, 1, 4, FINAL_QUOTA, FINAL_QUOTA),
        ("regenerations", "vertical", "next", True, 1, 4, FINAL_QUOTA, FINAL_QUOTA),
    ]
    assert totals["next_run"] == {
        "generations": 2,
        "billed_seconds": 8,
        "precharge": 17.496,
        "expected_cost": 17.496,
        "precharge_quota": 2 * FINAL_QUOTA,
        "expected_quota": 2 * FINAL_QUOTA,
        "awaiting_pick": ["kite"],
    }
    # The plan's own totals are this run's: 4 drafts and 3 finals.
    assert (totals["generations"], totals["billed_seconds"]) == (7, 28)
    assert totals["expected_quota"] == 4 * DRAFT_QUOTA + 3 * FINAL_QUOTA


def test_once_every_drafted_shot_is_picked_there_is_no_next_run(
    film: Path, rdpipe_cli: Cli
) -> None:
    film.write_text(FILM.replace("a red kite,", "a red kite, pick: 2,"))
    result = rdpipe_cli("plan", "film.yaml")
    assert result.exit_code == 0, result.stderr
    assert "next run" not in result.stdout and "This run generates" not in result.stdout
    totals = json.loads(rdpipe_cli("plan", "film.yaml", "--json").stdout)["totals"]
    assert totals["next_run"] is None
    assert {s["run"] for s in totals["by_stage"]} == {"this"}


def test_plan_drafts_plans_what_run_drafts_sends(film: Path, rdpipe_cli: Cli) -> None:
    """Only the drafts (kite's, sea's) and dog's takes; sea's final, picked already, and kite's
    after its pick are the next run's."""
    result = rdpipe_cli("plan", "film.yaml", "--drafts")
    assert result.exit_code == 0, result.stderr
    assert _stage_table(result.stdout)[4:-1] == [
        "│ drafts           │           4 │             16 │         $1.56 │      $1.56 │",
        "│ finals           │           2 │              8 │        $17.50 │     $17.50 │",
        "├──────────────────┼─────────────┼────────────────┼───────────────┼────────────┤",
        "│ finals, after    │           1 │              4 │         $8.75 │      $8.75 │",
        "│ picks (next run) │             │                │               │            │",
        "│ finals (next     │           1 │              4 │         $8.75 │      $8.75 │",
        "│ run)             │             │                │               │            │",
        "│ regenerated for  │           1 │              4 │         $8.75 │      $8.75 │",
        "│ vertical, after  │             │                │               │            │",
        "│ picks (next run) │             │                │               │            │",
        "├──────────────────┼─────────────┼────────────────┼───────────────┼────────────┤",
        "│ total, this run  │           9 │             36 │        $45.30 │     $45.30 │",
        "│ and the next     │             │                │               │            │",
        "└──────────────────┴─────────────┴────────────────┴───────────────┴────────────┘",
        "This run generates 6 (24 s, expected $19.05); once kite is picked (rdpipe review, "
        "rdpipe pick), the next run generates 3 more (12 s, expected $26.24): $45.30 in all. "
        "The budget counts this run's generations only.",
    ]
    plan = json.loads(rdpipe_cli("plan", "film.yaml", "--drafts", "--json").stdout)
    assert [(s["id"], s["rendition"], s["take"]) for s in plan["shots"]] == [
        ("kite", "draft", 1),
        ("kite", "draft", 2),
        ("dog", "", 1),
        ("dog", "", 2),
        ("sea", "draft", 1),
        ("sea", "draft", 2),
    ]
    assert [(s["stage"], s["run"], s["after_picks"]) for s in plan["totals"]["by_stage"]] == [
        ("drafts", "this", False),
        ("finals", "this", False),
        ("finals", "next", True),
        ("finals", "next", False),
        ("regenerations", "next", True),
    ]


def test_plan_drafts_sends_what_run_drafts_sends(
    film: Path, online: SimServer, rdpipe_cli: Cli
) -> None:
    """The plan's generations are the run's submits."""
    film.write_text(_small(FILM))
    planned = json.loads(rdpipe_cli("plan", "film.yaml", "--drafts", "--json").stdout)
    result = rdpipe_cli("run", "film.yaml", "--drafts")
    assert result.exit_code == 0, result.stdout + result.stderr
    submits = online.counters().get("POST /v1/video/generations", 0)
    assert submits == planned["totals"]["generations"] == 6


def test_the_budget_counts_this_runs_generations_only(
    film: Path, online: SimServer, rdpipe_cli: Cli
) -> None:
    """28 s now (36 s with the next run): a budget of 30 s lets this run go."""
    film.write_text(_small(FILM).replace("name: film\n", "name: film\nbudget: 30\n"))
    result = rdpipe_cli("run", "film.yaml")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert online.counters().get("POST /v1/video/generations", 0) == 7


def test_the_next_run_sends_what_the_plan_said_it_would(
    film: Path, online: SimServer, rdpipe_cli: Cli
) -> None:
    """dog continues from kite: this run starts it from kite's draft, the next from kite's
    final, so dog is sent again after the pick; the plan counted it, and the next run sends
    kite's final, its 9:16 regeneration and dog: 3 submits."""
    film.write_text(_small(FILM).replace("dog, draft: false}", "dog, draft: false, takes: 1, "
                                 "first_frame: {shot: kite}}"))  # fmt: skip
    planned = json.loads(rdpipe_cli("plan", "film.yaml", "--json").stdout)["totals"]
    assert planned["next_run"]["generations"] == 3
    assert [(s["stage"], s["run"], s["generations"]) for s in planned["by_stage"]] == [
        ("drafts", "this", 4),
        ("finals", "this", 2),  # dog (from kite's draft), sea's final
        ("finals", "next", 2),  # kite's final, dog from it
        ("regenerations", "next", 1),
    ]
    assert rdpipe_cli("run", "film.yaml").exit_code == 0
    assert online.counters()["POST /v1/video/generations"] == planned["generations"] == 6
    film.write_text(film.read_text().replace("a red kite,", "a red kite, pick: 1,"))
    online.clear_observations()
    result = rdpipe_cli("run", "film.yaml")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert online.counters()["POST /v1/video/generations"] == 3


def test_without_prices_the_next_run_is_counted_in_seconds(
    film: Path, monkeypatch: pytest.MonkeyPatch, rdpipe_cli: Cli
) -> None:
    """A relay that cannot be reached: the stages and the sentence in seconds, money null."""
    with socket.socket() as unused:  # a port nothing listens on once closed
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setenv("RELAYDANCE_BASE_URL", f"http://127.0.0.1:{port}")
    result = rdpipe_cli("plan", "film.yaml")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    end = lines.index(
        "│ total, this run and the next                  │           9 │             36 │"
    )
    assert lines[end + 1 : end + 3] == [
        "└───────────────────────────────────────────────┴─────────────┴────────────────┘",
        "This run generates 7 (28 s); once kite is picked (rdpipe review, rdpipe pick), the "
        "next run generates 2 more (8 s): 36 s in all. The budget counts this run's "
        "generations only.",
    ]
    totals = json.loads(rdpipe_cli("plan", "film.yaml", "--json").stdout)["totals"]
    assert totals["next_run"] == {
        "generations": 2,
        "billed_seconds": 8,
        "precharge": None,
        "expected_cost": None,
        "precharge_quota": None,
        "expected_quota": None,
        "awaiting_pick": ["kite"],
    }
    assert [s["expected_cost"] for s in totals["by_stage"]] == [None] * 4
