"""The review page and ``rdpipe pick`` for a drafted pipeline (issue 17 §1), from a real run
against the simulator, in headless Chromium: drafts badged with their model, the final saying
which draft it came from, regenerations under their deliverable; picks choose draft takes and
edit only the ``pick:`` line, sending nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.hints import Invocation
from rdpipe.review import build_page, serve
from rdpipe.session.events import CollectingRunReporter
from rdpipe.sim import SimServer
from rdpipe.yaml_edit import read_picks
from tests.cli_process import write_pipeline
from tests.review.browser import (
    console_errors,
    needs_chromium,
    play_video,
    wait_for,
)
from tests.session.test_running import QUICK, run

FILM = """version: 1
name: film
model: doubao-seedance-2-0-720p
defaults: {seconds: 4, ratio: '16:9', draft: true, takes: 2}
shots:
  - {id: kite, prompt: a red kite, pick: 2}
  - {id: dog, prompt: a dog, draft: false, takes: 1}
outputs:
  - {name: master, path: out/film.mp4, contact_sheet: false}
  - {name: vertical, ratio: '9:16', aspect: regenerate, contact_sheet: false}
"""


@pytest.fixture(scope="module")
def drafted_run(sim_server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The drafted pipeline after one run, made once for the module: kite's two drafts, its
    final from draft 2, both shots regenerated at 9:16."""
    path = write_pipeline(tmp_path_factory.mktemp("drafts-review"), FILM)
    run(sim_server, path, CollectingRunReporter(), QUICK)
    return path


@pytest.fixture
def film(
    drafted_run: Path, sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """This test's copy of the drafted pipeline after its run; the working folder."""
    project = tmp_path / "project"
    shutil.copytree(drafted_run.parent, project, symlinks=True)
    monkeypatch.chdir(project)
    return project / drafted_run.name


@needs_chromium
def test_a_shot_awaiting_a_pick_shows_its_drafts_to_pick(
    driver: Any, sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No pick: yet: the card says it awaits a pick, draft 1 is in the draft video, each draft
    has its pick command, and there is no final."""
    monkeypatch.chdir(tmp_path)
    path = write_pipeline(tmp_path, FILM.replace(", pick: 2}", "}"))
    run(sim, path, CollectingRunReporter(), QUICK)
    page = build_page(tmp_path / "out" / "manifest.json", picks=read_picks(path),
                      invocation=Invocation.start(Path("film.yaml")))  # fmt: skip
    driver.get(page.as_uri())
    summary = driver.find_element("css selector", "#shot-kite .summary").text
    assert summary == (
        "2 draft takes: 2 done · awaits a pick: its final is rendered from the draft you pick"
    )
    assert figure_text(driver, "kite-draft-1").splitlines()[:4] == [
        "Draft take 1", "draft", "doubao-seedance-2-0-480p", "✓ In the draft video",
    ]  # fmt: skip
    for take in (1, 2):
        assert (
            f"Pick: rdpipe pick film.yaml kite {take}"
            in figure_text(driver, f"kite-draft-{take}").splitlines()
        )
    assert driver.find_elements("id", "take-kite-1") == []
    assert console_errors(driver) == []


def figure_text(driver: Any, anchor: str) -> str:
    """The visible text of a take's caption, one line per line of it, spaces squeezed (the
    title's badges are flex items: each is a line of its own)."""
    text = driver.find_element("id", f"take-{anchor}").find_element("tag name", "figcaption").text
    return "\n".join(" ".join(line.split()) for line in str(text).splitlines())


def video_source(driver: Any, anchor: str) -> str:
    script = f"return document.querySelector('#take-{anchor} video').getAttribute('src');"
    return str(driver.execute_script(script))


@needs_chromium
def test_the_page_badges_drafts_and_links_the_final_to_its_draft(driver: Any, film: Path) -> None:
    """Draft takes: "draft" and the 480p model, with their pick command; the final: "final,
    from draft take 2" and its own clip, which plays; regenerations: their deliverable."""
    invocation = Invocation.start(Path("film.yaml"))
    page = build_page(film.parent / "out" / "manifest.json", picks=read_picks(film),
                      invocation=invocation)  # fmt: skip
    driver.get(page.as_uri())
    draft_1 = figure_text(driver, "kite-draft-1").splitlines()
    assert draft_1[:3] == ["Draft take 1", "draft", "doubao-seedance-2-0-480p"]
    assert "Pick: rdpipe pick film.yaml kite 1" in draft_1
    draft_2 = figure_text(driver, "kite-draft-2").splitlines()
    assert draft_2[:4] == ["Draft take 2", "draft", "doubao-seedance-2-0-480p", "✓ Picked"]
    final = figure_text(driver, "kite-1")
    assert final.splitlines()[:3] == [
        "Final",
        "final, from draft take 2",
        "doubao-seedance-2-0-720p",
    ]
    assert "Pick:" not in final
    vertical = figure_text(driver, "kite-vertical-1")
    assert vertical.splitlines()[:2] == [
        "vertical",
        "regenerated for vertical at 9:16, from draft take 2",
    ]
    assert "Pick:" not in vertical
    assert figure_text(driver, "dog-1").splitlines()[:2] == ["Take 1", "✓ In the storyboard"]
    dog_vertical = figure_text(driver, "dog-vertical-1").splitlines()[:2]
    assert dog_vertical == ["vertical", "regenerated for vertical at 9:16"]
    sources = {video_source(driver, a) for a in ("kite-draft-1", "kite-draft-2", "kite-1")}
    assert len(sources) == 3  # the final is its own clip
    played = play_video(driver, "#take-kite-1 video")
    assert played["error"] is None and played["time"] > 0
    badge = driver.find_element("css selector", "#take-kite-draft-1 .badge.draft")
    assert badge.is_displayed() and badge.text == "draft"
    assert console_errors(driver) == []


@needs_chromium
def test_the_served_page_picks_a_draft_editing_only_the_pick_line(
    driver: Any, film: Path, sim: SimServer
) -> None:
    """Pick buttons are on the drafts only; pressing draft 1's rewrites ``pick: 2`` as
    ``pick: 1`` and nothing else in the file, and sends no request."""
    before = film.read_text()
    sim.clear_observations()
    with serve(film.parent / "out" / "manifest.json", film) as server:
        driver.get(server.url)
        buttons = driver.execute_script(
            "return [...document.querySelectorAll('#shot-kite button.pick:not(.clear)')]"
            ".map(b => b.closest('figure').id);"
        )
        assert buttons == ["take-kite-draft-1", "take-kite-draft-2"]
        driver.find_element("id", "pick-kite-1").click()
        pressed = "return document.getElementById('pick-kite-1').getAttribute('aria-pressed')"
        wait_for(lambda: driver.execute_script(pressed) == "true", what="draft 1 picked")
        chosen = driver.find_element("css selector", "#take-kite-draft-1 .badge.chosen")
        assert chosen.text == "Picked: run to render its final"
        clear = driver.find_element("id", "clear-kite").text
        assert clear == "Clear pick (no final until a draft is picked)"
    assert film.read_text() == before.replace("a red kite, pick: 2}", "a red kite, pick: 1}")
    assert sim.counters() == {}


def test_pick_on_a_drafted_shot_names_the_draft_and_the_run_that_renders_its_final(
    film: Path, sim: SimServer
) -> None:
    """``rdpipe pick film.yaml kite 1``: only the pick line changes, the output says draft take
    and which command renders the final; no request is sent."""
    before = film.read_text()
    sim.clear_observations()
    result = CliRunner().invoke(app, ["pick", "film.yaml", "kite", "1"])
    assert result.exit_code == 0, result.stdout
    assert film.read_text() == before.replace("pick: 2}", "pick: 1}")
    assert result.stdout.splitlines() == [
        "kite: draft take 1 (was draft take 2) in film.yaml",
        "Nothing is regenerated. `rdpipe run film.yaml` renders the final of kite from draft "
        "take 1 (its seed and inputs).",
    ]
    assert sim.counters() == {}


def test_pick_beyond_the_drafts_is_refused_naming_draft_takes(film: Path) -> None:
    """``rdpipe pick film.yaml kite 3`` with two drafts: exit 2, the file untouched, and the
    command that shows the drafts (not --clear, which would pick no draft)."""
    before = film.read_text()
    result = CliRunner().invoke(app, ["pick", "film.yaml", "kite", "3"])
    assert result.exit_code == 2
    assert " ".join(result.stderr.split()) == (
        "error: film.yaml: shot 'kite' has no draft take 3; a draft take is between 1 and 2 "
        "`rdpipe review film.yaml` shows the draft takes to choose from."
    )
    assert film.read_text() == before


def test_pick_help_says_what_clear_does_to_a_drafted_shot() -> None:
    """``rdpipe pick -h``: --clear goes back to the first take that succeeded, and leaves a
    drafted shot awaiting a pick (drafts only, no final)."""
    result = CliRunner().invoke(app, ["pick", "-h"])
    assert result.exit_code == 0, result.stdout
    assert (
        "--clear Remove pick: (use the first take that succeeded; a drafted shot then awaits a "
        "pick: its drafts only, no final). --set NAME=VALUE"
    ) in " ".join(result.stdout.split())


def test_clearing_a_drafted_shot_s_pick_says_it_goes_back_to_drafts(film: Path) -> None:
    """``rdpipe pick film.yaml kite --clear``: the pick line goes, and the output says the next
    run makes drafts only."""
    before = film.read_text()
    result = CliRunner().invoke(app, ["pick", "film.yaml", "kite", "--clear"])
    assert result.exit_code == 0, result.stdout
    assert film.read_text() == before.replace(", pick: 2}", "}")
    assert result.stdout.splitlines() == [
        "kite: no draft picked (was draft take 2) in film.yaml",
        "Nothing is regenerated. kite now awaits a pick: `rdpipe run film.yaml` makes its "
        "drafts only, no final.",
    ]
