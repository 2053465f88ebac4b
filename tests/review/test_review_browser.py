"""The review page in a real headless Chromium: it loads cleanly, plays, stays local, picks."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from rdpipe.review import build_page, serve
from rdpipe.yaml_edit import read_picks
from tests.review.browser import (
    WINDOW,
    console_errors,
    needs_chromium,
    play_video,
    requested_urls,
    resource_urls,
    wait_for,
)
from tests.review.review_tree import RunTree, manifest_document, write_manifest

pytestmark = needs_chromium


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def card_ids(driver: Any) -> list[str]:
    """Ids of the shot cards, in page order."""
    script = "return [...document.querySelectorAll('article.shot')].map(a => a.dataset.shot);"
    return [str(shot_id) for shot_id in driver.execute_script(script)]


def test_the_static_page_loads_plays_and_stays_on_disk(
    driver: Any, run_tree: RunTree, tmp_path: Path
) -> None:
    """Opened from disk: no console errors, every card, a take plays, nothing but file:// loads."""
    page = build_page(run_tree.manifest)
    driver.get(page.as_uri())
    assert card_ids(driver) == ["coast", "stairs", "lamp"]
    played = play_video(driver, "#take-coast-3 video")
    assert played["error"] is None and not played["paused"] and played["time"] > 0
    requested = requested_urls(driver)
    assert any(url.endswith("review/thumbs/" + url.rsplit("/", 1)[-1]) for url in requested)
    assert all(url.startswith(("file://", "data:")) for url in requested), requested
    assert all(url.startswith("file://") for url in resource_urls(driver))
    assert console_errors(driver) == []
    screenshot = tmp_path / "review.png"
    assert driver.save_screenshot(str(screenshot))
    assert png_size(screenshot)[0] == WINDOW[0] and screenshot.stat().st_size > 10_000


def test_the_page_fits_a_phone_screen(driver: Any, run_tree: RunTree, tmp_path: Path) -> None:
    """At 390 px wide nothing scrolls sideways and takes stack in one column."""
    driver.set_window_size(390, 844)
    driver.get(build_page(run_tree.manifest).as_uri())
    inner_width = driver.execute_script("return window.innerWidth")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= inner_width
    lefts = driver.execute_script(
        "return [...document.querySelectorAll('#shot-coast .take')].map(t => t.offsetLeft);"
    )
    assert len(set(lefts)) == 1
    screenshot = tmp_path / "phone.png"
    driver.save_screenshot(str(screenshot))
    assert png_size(screenshot)[0] == inner_width
    assert console_errors(driver) == []


def test_a_take_is_picked_from_the_served_page_with_the_keyboard(
    driver: Any, run_tree: RunTree
) -> None:
    """Enter on a take's Pick button writes pick: into the YAML and says to run assemble."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with serve(run_tree.manifest, run_tree.pipeline) as server:
        driver.get(server.url)
        button = driver.find_element(By.ID, "pick-coast-3")
        assert button.tag_name == "button" and button.text == "Pick take 3"
        driver.execute_script("arguments[0].focus()", button)
        button.send_keys(Keys.ENTER)
        wait_for(lambda: read_picks(run_tree.pipeline)["coast"] == 3, what="the pick in the YAML")
        status = driver.find_element(By.ID, "status")
        wait_for(lambda: "rdpipe assemble " in status.text, what="the message")
        pressed = "return document.getElementById('pick-coast-3').getAttribute('aria-pressed')"
        wait_for(lambda: driver.execute_script(pressed) == "true", what="the pressed button")
        assert driver.execute_script("return document.activeElement.id") == "pick-coast-3"
        urls = requested_urls(driver) + resource_urls(driver)
        assert all(url.startswith((server.url, "data:")) for url in urls), urls
        assert console_errors(driver) == []


def test_the_live_view_updates_a_card_without_stopping_its_video(
    driver: Any, run_tree: RunTree
) -> None:
    """A take finishing mid-review appears within a poll; a video playing in that card plays on."""
    with serve(run_tree.manifest, run_tree.pipeline) as server:
        driver.get(server.url)
        assert play_video(driver, "#take-stairs-1 video")["error"] is None
        mark = "const v = document.querySelector('#take-stairs-1 video'); v.dataset.mark = 'x';"
        driver.execute_script(mark + "v.loop = true;")
        document = manifest_document(run_tree.pipeline, running=True)
        document["shots"][1]["takes"][1].update(
            status="done", clip="clips/stairs/1-dddd.mp4", seed=9, duration=1.0
        )
        write_manifest(run_tree, document)
        present = "return document.querySelector('#take-stairs-2 video') !== null"
        wait_for(lambda: driver.execute_script(present), timeout=8, what="take 2's video")
        video = driver.execute_script(
            "const v = document.querySelector('#take-stairs-1 video');"
            "return {mark: v.dataset.mark, paused: v.paused};"
        )
        assert video == {"mark": "x", "paused": False}
        assert "Run in progress" in driver.find_element("id", "storyboard").text
        assert console_errors(driver) == []
