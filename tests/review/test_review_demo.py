"""The issue's acceptance run: the offline demo with two takes of a shot, reviewed in Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from rdpipe.cli import app
from tests.review.browser import (
    console_errors,
    needs_chromium,
    play_video,
    start_chromium,
    wait_for,
)

DEMO = Path(__file__).parents[2] / "pipelines" / "lighthouse"


@needs_chromium
def test_demo_with_two_takes_reviewed_in_chromium_then_picked(tmp_path: Path) -> None:
    """Two takes of `lamp` render as playable cards; `pick` + `assemble` switch the clip offline."""
    folder = tmp_path / "lighthouse"
    shutil.copytree(DEMO, folder, ignore=shutil.ignore_patterns("out", ".rdpipe", "*.lock"))
    pipeline = folder / "lighthouse.yaml"
    text = pipeline.read_text().replace("  - id: lamp\n", "  - id: lamp\n    takes: 2\n")
    pipeline.write_text(text)
    runner = CliRunner()
    run = runner.invoke(app, ["run", str(pipeline), "--offline", "--json"])
    assert run.exit_code == 0, run.stderr
    review = runner.invoke(app, ["review", str(pipeline), "--offline", "--no-open"])
    assert review.exit_code == 0, review.stderr
    page = folder / "out" / "offline" / "review.html"
    assert page.is_file()

    driver = start_chromium(tmp_path / "profile")
    try:
        driver.get(page.as_uri())
        cards = driver.execute_script(
            "return [...document.querySelectorAll('article.shot')].map(a => a.dataset.shot);"
        )
        assert cards == ["coast", "stairs", "lamp", "beam"]
        lamp_videos = driver.execute_script(
            "return document.querySelectorAll('article.shot[data-shot=lamp] video').length;"
        )
        assert lamp_videos == 2
        played = play_video(driver, "article.shot[data-shot=lamp] video")
        assert played["error"] is None and played["time"] > 0
        wait_for(lambda: driver.execute_script("return document.readyState") == "complete")
        assert console_errors(driver) == []
        shot = tmp_path / "review.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
    finally:
        driver.quit()

    manifest_path = folder / "out" / "offline" / "manifest.json"
    before = json.loads(manifest_path.read_text())["shots"][2]
    assert before["picked"] == 1
    picked = runner.invoke(app, ["pick", str(pipeline), "lamp", "2"])
    assert picked.exit_code == 0, picked.stderr
    rebuilt = runner.invoke(app, ["assemble", str(pipeline), "--offline"])
    assert rebuilt.exit_code == 0, rebuilt.stderr
    after = json.loads(manifest_path.read_text())["shots"][2]
    assert after["picked"] == 2
    assert after["clip"] == before["takes"][1]["clip"] != before["clip"]
