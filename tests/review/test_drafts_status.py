"""``rdpipe status`` for a drafted pipeline (issue 17 §1): a stage column (draft, final from
draft N, a deliverable's regeneration), the same in ``--json``, and the pick commands for the
shots that await a pick; a pipeline without drafts keeps its three columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rdpipe.cli import app
from tests.cli_process import write_pipeline

FILM = """version: 1
name: film
model: doubao-seedance-2-0-720p
defaults: {seconds: 4, ratio: '16:9', draft: true, takes: 2}
shots:
  - {id: kite, prompt: a red kite, pick: 2}
  - {id: dog, prompt: a dog, draft: false, takes: 1}
  - {id: cat, prompt: a cat}
outputs:
  - {name: master, path: out/film.mp4, contact_sheet: false}
  - {name: vertical, ratio: '9:16', aspect: regenerate, contact_sheet: false}
"""


@pytest.fixture
def film(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_pipeline(tmp_path, FILM)


def status(*options: str) -> list[str]:
    result = CliRunner().invoke(
        app, ["status", "film.yaml", "--offline", *options], env={"COLUMNS": "120"}
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    return [line.rstrip() for line in result.stdout.splitlines()]


def test_status_shows_each_rendition_s_stage_and_how_to_pick(film: Path) -> None:
    """Drafts, the final from draft 2 and its regeneration, a shot without drafts and its
    regeneration, and cat's drafts awaiting a pick, with the commands that pick them."""
    assert status() == [
        "film: 32 s to bill on the next run",
        "┏━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓",
        "┃ shot          ┃ stage                 ┃ status      ┃ why                          ┃",
        "┡━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩",
        *(
            f"│ {label:<13} │ {stage:<21} │ to generate │ no clip for this request yet │"
            for label, stage in [
                ("kite:draft#1", "draft"),
                ("kite:draft#2", "draft"),
                ("kite", "final from draft 2"),
                ("kite:vertical", "vertical from draft 2"),
                ("dog", "final"),
                ("dog:vertical", "vertical"),
                ("cat:draft#1", "draft"),
                ("cat:draft#2", "draft"),
            ]
        ),
        "└───────────────┴───────────────────────┴─────────────┴──────────────────────────────┘",
        "cat awaits a pick of its draft takes: `rdpipe review film.yaml --offline` shows them",
        "`rdpipe pick film.yaml cat TAKE` picks the take of cat (TAKE: 1 to 2)",
        "Then `rdpipe run film.yaml --offline` renders the finals",
    ]


def test_status_json_gives_each_take_its_rendition_and_draft(film: Path) -> None:
    """``status --json``: rendition and from_draft per row (null but for a drafted shot's
    final and its regenerations)."""
    document = json.loads("\n".join(status("--json")))
    rows = [(s["label"], s["rendition"], s["from_draft"]) for s in document["shots"]]
    assert rows == [
        ("kite:draft#1", "draft", None),
        ("kite:draft#2", "draft", None),
        ("kite", "", 2),
        ("kite:vertical", "vertical", 2),
        ("dog", "", None),
        ("dog:vertical", "vertical", None),
        ("cat:draft#1", "draft", None),
        ("cat:draft#2", "draft", None),
    ]


def test_a_pipeline_without_drafts_keeps_its_columns(tmp_path: Path, film: Path) -> None:
    """No drafts, no regeneration: shot, status, why, and no pick note."""
    write_pipeline(tmp_path, FILM.replace("draft: true, ", "").replace(
        ", aspect: regenerate", ""))  # fmt: skip
    lines = status()
    assert lines[2] == "┃ shot   ┃ status      ┃ why                          ┃"
    assert len(lines) == 10
