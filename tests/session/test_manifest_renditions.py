"""The manifest of a drafted pipeline (issue 17 §1): each take says its label, rendition and the
draft it came from; a drafted shot is picked among its drafts and shows its final at a glance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rdpipe.session.events import CollectingRunReporter
from rdpipe.sim import SimServer
from tests.cli_process import write_pipeline
from tests.session.test_running import QUICK, run

FILM = """version: 1
name: film
model: doubao-seedance-2-0-720p
defaults: {seconds: 4, ratio: '16:9', draft: true, takes: 2}
shots:
  - {id: kite, prompt: a red kite, pick: 2}
  - {id: dog, prompt: a dog, draft: false, takes: 1}
outputs:
  - {name: master, path: out/film.mp4, size: 640x360, contact_sheet: false}
  - {name: vertical, size: 360x640, aspect: regenerate, contact_sheet: false}
"""  # small videos: the manifest, not the frame, is what these tests read

#: The fields of a take this test follows, in the manifest's words.
FIELDS = ("label", "take", "rendition", "from_draft", "status")


def manifest(tmp_path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((tmp_path / "out" / "manifest.json").read_text())
    return document


def test_each_take_carries_its_rendition_and_the_draft_its_final_came_from(
    sim: SimServer, tmp_path: Path
) -> None:
    """kite: two draft takes, the final from draft 2 (with draft 2's seed, at 720p) and its
    9:16 regeneration from draft 2; dog (not drafted): its take and its 9:16 regeneration."""
    path = write_pipeline(tmp_path, FILM)
    run(sim, path, CollectingRunReporter(), QUICK)
    kite, dog = manifest(tmp_path)["shots"]
    assert [tuple(take[name] for name in FIELDS) for take in kite["takes"]] == [
        ("kite:draft#1", 1, "draft", None, "done"),
        ("kite:draft#2", 2, "draft", None, "done"),
        ("kite", 1, "", 2, "done"),
        ("kite:vertical", 1, "vertical", 2, "done"),
    ]
    assert [tuple(take[name] for name in FIELDS) for take in dog["takes"]] == [
        ("dog", 1, "", None, "done"),
        ("dog:vertical", 1, "vertical", None, "done"),
    ]
    draft_2, final = kite["takes"][1], kite["takes"][2]
    assert final["seed"] == draft_2["seed"]
    assert final["request"]["model"] == "doubao-seedance-2-0-720p"
    assert draft_2["request"]["model"] == "doubao-seedance-2-0-480p"
    assert kite["takes"][3]["request"]["metadata"]["ratio"] == "9:16"
    assert (kite["drafted"], kite["picked"], dog["drafted"], dog["picked"]) == (True, 2, False, 1)
    assert (kite["model"], kite["settings"]["seed"]) == ("doubao-seedance-2-0-720p", final["seed"])
    # At a glance a drafted shot is its final: its clip, key and seed.
    assert (kite["clip"], kite["key"], kite["seed"]) == (final["clip"], final["key"], final["seed"])


def test_a_drafted_shot_awaiting_a_pick_is_its_drafts(sim: SimServer, tmp_path: Path) -> None:
    """Without pick: no final in the manifest, nothing picked, the shot shows its first draft."""
    path = write_pipeline(tmp_path, FILM.replace(", pick: 2}", "}"))
    run(sim, path, CollectingRunReporter(), QUICK)
    kite = manifest(tmp_path)["shots"][0]
    assert [take["label"] for take in kite["takes"]] == ["kite:draft#1", "kite:draft#2"]
    assert kite["picked"] == 1  # the first that succeeded, as for any shot without pick:
    assert kite["clip"] == kite["takes"][0]["clip"]
    assert kite["model"] == "doubao-seedance-2-0-480p"  # no final yet: as its drafts are asked
