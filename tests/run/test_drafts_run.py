"""Drafts, then finals, against the simulator (issue 17 §1): what each run submits, counted by
the simulator and read back as request bodies, and the advice a run ends with."""

from __future__ import annotations

import base64
import json
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from rdpipe.sim import SimServer
from tests.run.conftest import write
from tests.run.conftest_helpers import SUBMIT_KEY

FILM = """\
version: 1
name: film
model: doubao-seedance-2-0-1080p
defaults: {seconds: 4, ratio: '16:9', draft: true, takes: 2}
shots:
  - {id: kite, prompt: a red kite}
  - {id: dog, prompt: a dog, draft: false}
output: {path: out/film.mp4}
"""

Cli = Callable[..., Result]


def sent(sim: SimServer) -> list[dict[str, Any]]:
    """The bodies POSTed to the generations endpoint since the counters were last cleared."""
    return [
        json.loads(request.body)
        for request in sim.requests()
        if request.endpoint == SUBMIT_KEY and request.body
    ]


@pytest.fixture
def film(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, online: SimServer) -> Path:
    monkeypatch.chdir(tmp_path)
    return write(tmp_path / "film.yaml", FILM)


def run(cli: Cli, *options: str) -> Result:
    result = cli("run", "film.yaml", *options)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result


def test_run_drafts_submits_drafts_only_then_pick_and_run_submits_the_final_only(
    film: Path, online: SimServer, rdpipe_cli: Cli
) -> None:
    """--drafts: kite's two 480p drafts (each with its seed) and dog's two takes; after
    ``pick kite 2``, ``run`` sends one request: kite at 1080p with draft 2's seed; then 0."""
    result = run(rdpipe_cli, "--drafts")
    bodies = sent(online)
    assert [body["model"] for body in bodies].count("doubao-seedance-2-0-480p") == 2
    drafts = sorted(
        (b for b in bodies if b["prompt"] == "a red kite"), key=lambda b: b["metadata"]["seed"]
    )
    assert [b["model"] for b in bodies if b["prompt"] == "a dog"] == 2 * [
        "doubao-seedance-2-0-1080p"
    ]
    assert len(bodies) == 4
    seeds = [draft["metadata"]["seed"] for draft in drafts]
    assert drafts == [
        {
            "model": "doubao-seedance-2-0-480p",
            "prompt": "a red kite",
            "seconds": "4",
            "metadata": {"ratio": "16:9", "seed": seed},
        }
        for seed in seeds
    ]
    lines = result.stdout.splitlines()
    assert "kite:draft#1: submitting" in lines and "kite:draft#2: submitting" in lines
    assert lines[-1].endswith("film.draft.mp4")  # the video of drafts
    assert not (film.parent / "out" / "film.mp4").exists()
    assert lines[-4:-1] == [
        "kite awaits a pick of its draft takes: `rdpipe review film.yaml` shows them.",
        "`rdpipe pick film.yaml kite TAKE` picks the take of kite (TAKE: 1 to 2).",
        "Then `rdpipe run film.yaml` renders the finals.",
    ]
    plan = json.loads(rdpipe_cli("plan", "film.yaml", "--json").stdout)
    second = next(
        job["request"]["metadata"]["seed"]
        for job in plan["shots"]
        if (job["id"], job["rendition"], job["take"]) == ("kite", "draft", 2)
    )

    assert rdpipe_cli("pick", "film.yaml", "kite", "2").exit_code == 0
    online.clear_observations()
    result = run(rdpipe_cli)
    assert sent(online) == [
        {
            "model": "doubao-seedance-2-0-1080p",
            "prompt": "a red kite",
            "seconds": "4",
            "metadata": {"ratio": "16:9", "seed": second},
        }
    ]
    assert "await" not in result.stdout
    assert "kite: submitting" in result.stdout.splitlines()
    assert "kite:draft" not in result.stdout  # the drafts are cached: no line
    assert result.stdout.splitlines()[-1].endswith("film.mp4")
    assert (film.parent / "out" / "film.mp4").is_file()

    online.clear_observations()
    run(rdpipe_cli)
    assert online.counters().get(SUBMIT_KEY, 0) == 0


def test_a_plain_run_with_a_shot_awaiting_a_pick_makes_drafts_and_says_how_to_pick(
    film: Path, online: SimServer, rdpipe_cli: Cli
) -> None:
    film.write_text(FILM.replace("-1080p", "-720p"))  # the final's size is not what is told
    result = run(rdpipe_cli)
    assert len(sent(online)) == 4
    assert "kite awaits a pick of its draft takes" in result.stdout


def test_a_rerun_of_the_finals_submits_nothing_and_a_new_final_model_only_the_final(
    film: Path, online: SimServer, rdpipe_cli: Cli
) -> None:
    """After the finals, an unchanged run reads its lock and submits nothing; changing only
    the final model of kite regenerates kite's final only. (One run of the finals for both.)"""
    small = FILM.replace("out/film.mp4}", "out/film.mp4, size: 640x360}")  # bodies are read
    film.write_text(small.replace("prompt: a red kite}", "prompt: a red kite, pick: 1}"))
    run(rdpipe_cli)
    assert [b["model"] for b in sent(online)].count("doubao-seedance-2-0-480p") == 2
    online.clear_observations()
    run(rdpipe_cli)
    assert online.counters().get(SUBMIT_KEY, 0) == 0
    film.write_text(
        small.replace("prompt: a red kite}", "prompt: a red kite, pick: 1, model: "
                     "doubao-seedance-2-0-720p}")
    )  # fmt: skip
    online.clear_observations()
    run(rdpipe_cli)
    assert [body["model"] for body in sent(online)] == ["doubao-seedance-2-0-720p"]


def test_run_drafts_after_the_pick_says_run_renders_the_finals(
    film: Path, online: SimServer, rdpipe_cli: Cli
) -> None:
    text = FILM.replace("prompt: a red kite}", "prompt: a red kite, pick: 2}")
    film.write_text(text.replace("-1080p", "-720p"))  # the final's size is not what is told
    result = run(rdpipe_cli, "--drafts")
    assert len(sent(online)) == 4  # the final is not rendered
    assert result.stdout.splitlines()[-2] == (
        "`rdpipe run film.yaml` renders the finals of the picked drafts."
    )


def test_a_regenerate_aspect_sends_one_more_request_at_9_16(
    film: Path, online: SimServer, rdpipe_cli: Cli
) -> None:
    """A second deliverable at 9:16 regenerating dog: one more request, dog's take 1 at 9:16."""
    text = FILM.replace(
        "output: {path: out/film.mp4}\n",
        "outputs:\n  - {name: main, path: out/film.mp4}\n"
        "  - {name: vertical, ratio: '9:16'}\n",  # its frame size is not what is told
    ).replace("draft: false}", "draft: false, aspect: {vertical: regenerate}}")
    film.write_text(text)
    run(rdpipe_cli, "--drafts")
    assert len(sent(online)) == 4  # --drafts: no regeneration
    online.clear_observations()
    run(rdpipe_cli)
    assert sent(online) == [
        {
            "model": "doubao-seedance-2-0-1080p",
            "prompt": "a dog",
            "seconds": "4",
            "metadata": {"ratio": "9:16"},
        }
    ]


def test_a_continuing_shot_starts_its_draft_from_the_draft_and_its_final_from_the_final(
    film: Path, online: SimServer, rdpipe_cli: Cli
) -> None:
    """``first_frame: {shot: kite}``: the draft of ``next`` is sent the last frame of kite's
    480p draft (864x480), its final the last frame of kite's 1080p final (1920x1080)."""
    film.write_text(
        FILM.replace("takes: 2}", "takes: 1}")
        .replace("prompt: a red kite}", "prompt: a red kite, pick: 1}")
        .replace(
            "  - {id: dog, prompt: a dog, draft: false}\n",
            "  - {id: next, prompt: the kite lands, first_frame: {shot: kite}, pick: 1}\n",
        )
    )
    run(rdpipe_cli)
    sizes = {}
    for request in online.requests():  # bodies are kept to 64 KiB: read the PNG's header
        text = request.body.decode("ascii", "replace")
        if request.endpoint != SUBMIT_KEY or "data:image/png;base64," not in text:
            continue  # only next's requests carry a frame
        encoded = text.split("data:image/png;base64,", 1)[1][:44]
        width, height = struct.unpack(">II", base64.b64decode(encoded)[16:24])
        # Keys are in canonical (sorted) order: "model" follows the frame, so the body with
        # the large 1080p frame, cut at 64 KiB, shows no model; the 480p body is whole.
        model = re.search(r'"model":"([^"]+)"', text)
        sizes[model.group(1) if model else "cut"] = (width, height)
    assert sizes == {"doubao-seedance-2-0-480p": (864, 480), "cut": (1920, 1080)}
