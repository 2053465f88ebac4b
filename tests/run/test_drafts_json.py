"""``run --json`` and ``status --json`` name each clip of a drafted shot (issue 17): the
summary's shots carry their ``rendition`` and ``label``, and a cached row of ``status`` the
task that made its clip, as the run reported it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.run.conftest import write

FILM = """\
version: 1
name: film
model: doubao-seedance-2-0-720p
defaults: {seconds: 4, ratio: '16:9', draft: true}
shots:
  - {id: boat, prompt: a boat, takes: 2, pick: 2}
  - {id: dog, prompt: a dog, draft: false}
output: {path: out/film.mp4}
"""


def _documents(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.stdout + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_run_summary_names_each_clip_s_rendition_and_label_and_status_its_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rdpipe_cli: Callable[..., Result]
) -> None:
    """Two drafts and the final of boat, dog without drafts: four shots told apart (in the plan
    too, by label); a rerun's
    summary and ``status --json`` give each cached clip the task the first run made it with."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "film.yaml", FILM)
    planned = rdpipe_cli("plan", "film.yaml", "--offline", "--json")
    assert planned.exit_code == 0, planned.stderr
    assert [(s["label"], s["rendition"], s["from_take"]) for s in json.loads(planned.stdout)[
        "shots"]] == [("boat:draft#1", "draft", None), ("boat:draft#2", "draft", None),
                      ("boat", "", 2), ("dog", "", None)]  # fmt: skip
    summary = _documents(rdpipe_cli("run", "film.yaml", "--offline", "--json"))[-1]
    assert summary["kind"] == "run.summary"
    shown = [{k: shot[k] for k in ("id", "take", "rendition", "label", "status")}
             for shot in summary["shots"]]  # fmt: skip
    assert shown == [
        {"id": "boat", "take": 1, "rendition": "draft", "label": "boat:draft#1", "status": "done"},
        {"id": "boat", "take": 2, "rendition": "draft", "label": "boat:draft#2", "status": "done"},
        {"id": "boat", "take": 1, "rendition": "", "label": "boat", "status": "done"},
        {"id": "dog", "take": 1, "rendition": "", "label": "dog", "status": "done"},
    ]
    tasks = {shot["label"]: shot["task_id"] for shot in summary["shots"]}
    assert all(task.startswith("task_") for task in tasks.values())
    rerun = _documents(rdpipe_cli("run", "film.yaml", "--offline", "--json"))[-1]
    assert {s["label"]: (s["status"], s["task_id"]) for s in rerun["shots"]} == {
        label: ("cached", task) for label, task in tasks.items()
    }
    shown_status = rdpipe_cli("status", "film.yaml", "--offline", "--json")
    assert shown_status.exit_code == 0, shown_status.stdout + shown_status.stderr
    status = json.loads(shown_status.stdout)
    assert {row["label"]: (row["status"], row["task_id"]) for row in status["shots"]} == {
        label: ("cached", task) for label, task in tasks.items()
    }
