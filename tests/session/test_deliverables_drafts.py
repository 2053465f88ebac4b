"""Deliverables made from drafts are marked so in their file name (issue 17 §2-3): ``run
--drafts`` and a run whose drafted shot awaits a pick write ``<stem>.draft.mp4`` for each
deliverable; once every drafted shot is picked, the finals get the plain names."""

from __future__ import annotations

import json
from pathlib import Path

import av

from rdpipe.session.events import CollectingRunReporter
from rdpipe.session.settings import RunSettings
from rdpipe.sim import SimServer
from tests.cli_process import write_pipeline
from tests.session.test_running import QUICK, run

FILM = """version: 1
name: film
model: doubao-seedance-2-0-720p
defaults: {seconds: 4, ratio: '16:9', draft: true}
shots:
  - {id: kite, prompt: a red kite, focus: {x: 0.3}}
  - {id: dog, prompt: a dog, draft: false}
outputs:
  - {name: master, path: out/film.mp4, contact_sheet: false}
  - {name: vertical, ratio: '9:16', contact_sheet: false}
"""


def _size(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        return context.width, context.height


def test_drafts_run_writes_draft_named_videos(sim: SimServer, tmp_path: Path) -> None:
    """run --drafts builds out/film.draft.mp4 and out/vertical.draft.mp4 from the 480p drafts
    (864x480, and its largest 9:16 frame, 270x480) and no final-named video."""
    path = write_pipeline(tmp_path, FILM)
    summary = run(sim, path, CollectingRunReporter(), RunSettings(poll_interval=0.1, drafts=True))
    out = tmp_path / "out"
    assert summary.deliverables == (
        ("master", out / "film.draft.mp4"), ("vertical", out / "vertical.draft.mp4"),
    )  # fmt: skip
    assert _size(out / "film.draft.mp4") == (864, 480)
    assert _size(out / "vertical.draft.mp4") == (270, 480)
    assert not (out / "film.mp4").exists() and not (out / "vertical.mp4").exists()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["video"] == "film.draft.mp4"
    assert manifest["deliverables"] == [
        {"name": "master", "path": "film.draft.mp4"},
        {"name": "vertical", "path": "vertical.draft.mp4"},
    ]


def test_a_run_awaiting_a_pick_is_drafts_then_the_pick_makes_finals(
    sim: SimServer, tmp_path: Path
) -> None:
    """Without a pick the run's videos are the drafts; with pick: 1 they are the finals,
    made from the 720p final (1280x720 and 404x720 for 9:16)."""
    path = write_pipeline(tmp_path, FILM)
    out = tmp_path / "out"
    first = run(sim, path, CollectingRunReporter(), QUICK)
    assert [name.name for _n, name in first.deliverables] == [
        "film.draft.mp4",
        "vertical.draft.mp4",
    ]
    write_pipeline(tmp_path, FILM.replace("focus: {x: 0.3}}", "focus: {x: 0.3}, pick: 1}"))
    final = run(sim, path, CollectingRunReporter(), QUICK)
    assert final.deliverables == (("master", out / "film.mp4"), ("vertical", out / "vertical.mp4"))
    assert _size(out / "film.mp4") == (1280, 720)
    assert _size(out / "vertical.mp4") == (404, 720)
