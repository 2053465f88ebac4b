"""The review page in Chromium with the inputs that broke it (round 18): the keyboard after a
pick, a shot from an included file, long unbroken names, a portrait storyboard, clips that are
missing or damaged, takes not made yet of a portrait shot, a shot whose takes all failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rdpipe.hints import Invocation
from rdpipe.review import build_page, serve
from rdpipe.yaml_edit import read_picks
from tests.review.browser import console_errors, needs_chromium, play_video, wait_for
from tests.review.review_tree import (
    PIPELINE_YAML,
    RunTree,
    make_sim_clip,
    manifest_document,
    write_manifest,
)

pytestmark = needs_chromium

KEYS_STATE = """
const a = document.activeElement;
const figure = a.closest ? a.closest('figure.take') : null;
const shot = a.closest ? a.closest('article.shot') : null;
return {tag: a.tagName, take: figure && figure.id, shot: shot && shot.id};
"""


def press(driver: Any, key: str) -> dict[str, Any]:
    """Type ``key`` into the page as a person would; where the focus is afterwards."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(key).perform()
    state: dict[str, Any] = driver.execute_script(KEYS_STATE)
    return state


def box(driver: Any, selector: str) -> dict[str, float]:
    """The element's rendered box in CSS pixels."""
    script = "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
    script += "return {width: r.width, height: r.height, top: r.top};"
    result: dict[str, float] = driver.execute_script(script, selector)
    return result


def page_width(driver: Any) -> tuple[int, int]:
    """The page's scroll width and the window's inner width."""
    return tuple(  # type: ignore[return-value]
        driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth];")
    )


def test_after_a_pick_the_keyboard_stays_on_the_picked_take(driver: Any, run_tree: RunTree) -> None:
    """`3` then `p` on the first shot: the card is replaced with the pick, focus stays on take 3
    (its player); `1` goes to take 1 of the same shot, `j` to the next shot, not the first."""
    with serve(run_tree.manifest, run_tree.pipeline) as server:
        driver.get(server.url)
        assert press(driver, "3") == {"tag": "VIDEO", "take": "take-coast-3", "shot": "shot-coast"}
        press(driver, "p")
        wait_for(lambda: read_picks(run_tree.pipeline)["coast"] == 3, what="the pick in the YAML")
        pressed = "return document.getElementById('pick-coast-3').getAttribute('aria-pressed')"
        wait_for(lambda: driver.execute_script(pressed) == "true", what="the card replaced")
        after = driver.execute_script(KEYS_STATE)
        assert after == {"tag": "VIDEO", "take": "take-coast-3", "shot": "shot-coast"}
        assert press(driver, "1") == {"tag": "VIDEO", "take": "take-coast-1", "shot": "shot-coast"}
        assert press(driver, "j") == {"tag": "ARTICLE", "take": None, "shot": "shot-stairs"}
        assert press(driver, "j") == {"tag": "ARTICLE", "take": None, "shot": "shot-lamp"}
        assert console_errors(driver) == []


def test_moving_to_the_next_shot_pauses_the_take_left_playing(
    driver: Any, run_tree: RunTree
) -> None:
    """A take playing in the first shot is paused by `j` (no two takes' sound at once)."""
    driver.get(build_page(run_tree.manifest).as_uri())
    press(driver, "1")
    assert play_video(driver, "#take-coast-1 video")["error"] is None
    paused = "return document.querySelector('#take-coast-1 video').paused"
    assert driver.execute_script(paused) is False
    assert press(driver, "j")["shot"] == "shot-stairs"
    assert driver.execute_script(paused) is True


def test_a_shot_from_an_included_file_is_picked_from_the_served_page(
    driver: Any, run_tree: RunTree
) -> None:
    """The lamp shot written in kit/lamp.yaml: its Pick button writes pick: there, the status
    names that file, and the page marks the pick (read from the included file)."""
    lamp = (
        "  - id: lamp  # the lamp\n    prompt: >-\n      Close-up: the lamp is lit.\n    pick: 1\n"
    )
    assert lamp in PIPELINE_YAML
    run_tree.pipeline.write_text(
        PIPELINE_YAML.replace(lamp, "").replace("shots:\n", "include: [kit/lamp.yaml]\nshots:\n"),
        encoding="utf-8",
    )
    (run_tree.root / "kit").mkdir()
    (run_tree.root / "kit" / "lamp.yaml").write_text("shots:\n" + lamp, encoding="utf-8")
    with serve(run_tree.manifest, run_tree.pipeline) as server:
        driver.get(server.url)
        wait_for(
            lambda: (
                driver.execute_script(
                    "return document.getElementById('pick-lamp-1').getAttribute('aria-pressed')"
                )
                == "true"
            ),
            what="the included file's pick: 1 shown",
        )
        driver.execute_script("document.getElementById('pick-lamp-2').click()")
        status = driver.find_element("id", "status")
        wait_for(lambda: "lamp: take 2 picked in lamp.yaml (included)" in status.text,
                 what="the message naming the included file")  # fmt: skip
        assert "pick: 2" in (run_tree.root / "kit" / "lamp.yaml").read_text()
        assert "lamp" not in run_tree.pipeline.read_text().split("shots:")[1]
        pressed = "return document.getElementById('pick-lamp-2').getAttribute('aria-pressed')"
        wait_for(lambda: driver.execute_script(pressed) == "true", what="the page's pick")
        assert console_errors(driver) == []


@pytest.mark.parametrize("width", [390, 1280])
def test_long_unbroken_names_do_not_scroll_the_page_sideways(
    driver: Any, run_tree: RunTree, width: int
) -> None:
    """A 64-character name and shot id (the longest allowed), no break points: the page is as
    wide as the window, at a phone's width and a laptop's."""
    long_name, long_id = "spring_campaign_" + "x" * 48, "opening_aerial_" + "y" * 49
    document = manifest_document(run_tree.pipeline)
    document["pipeline"] = long_name
    document["shots"][0]["id"] = long_id
    document["shots"][0]["takes"][0]["task_id"] = "task_" + "z" * 80
    write_manifest(run_tree, document)
    driver.set_window_size(width, 900)
    driver.get(build_page(run_tree.manifest).as_uri())
    scroll_width, inner_width = page_width(driver)
    assert scroll_width <= inner_width
    title = box(driver, f"#title-{long_id}")
    assert title["width"] <= inner_width


def test_a_portrait_storyboard_video_is_capped_at_70_percent_of_the_window(
    driver: Any, run_tree: RunTree
) -> None:
    """A 9:16 storyboard video at 1280x1000: no taller than 70% of the window, still 9:16."""
    make_sim_clip(run_tree.output_dir / "lighthouse.mp4", 360, 640, "portrait storyboard")
    driver.get(build_page(run_tree.manifest).as_uri())
    inner_height = driver.execute_script("return window.innerHeight")
    film = box(driver, "video.film")
    assert film["height"] <= 0.7 * inner_height + 1
    assert film["width"] / film["height"] == pytest.approx(9 / 16, abs=0.01)


def test_missing_and_damaged_clips_say_so_on_their_tiles(driver: Any, run_tree: RunTree) -> None:
    """A deleted clip, a 0-byte clip, a cut-off clip and a deleted storyboard video: each tile
    says what is wrong in words, not a black tile that looks done."""
    out = run_tree.output_dir
    (out / "clips" / "coast" / "1-aaaa.mp4").unlink()
    (out / "clips" / "lamp" / "1-eeee.mp4").write_bytes(b"")
    whole = (out / "clips" / "lamp" / "2-ffff.mp4").read_bytes()
    (out / "clips" / "lamp" / "2-ffff.mp4").write_bytes(whole[:3000])
    (out / "lighthouse.mp4").unlink()
    driver.get(build_page(run_tree.manifest).as_uri())

    def text(selector: str) -> str:
        script = "return document.querySelector(arguments[0]).textContent.trim()"
        return str(driver.execute_script(script, selector))

    assert text("#take-coast-1 .placeholder") == "clip missing"
    assert "The clip is not on disk (clips/coast/1-aaaa.mp4)." in text("#take-coast-1")
    assert text("#take-lamp-1 .placeholder") == "cannot be played"
    assert "The clip cannot be played: the file is empty (0 bytes)" in text("#take-lamp-1")
    assert text("#take-lamp-2 .placeholder") == "cannot be played"
    assert "The clip cannot be played: the file is cut off or damaged (" in text("#take-lamp-2")
    assert driver.execute_script("return document.querySelectorAll('#shot-lamp video').length") == 0
    film = driver.find_element("css selector", "#storyboard .film").text
    assert film.startswith("Storyboard video missing (lighthouse.mp4): rdpipe assemble ")
    assert driver.execute_script("return document.querySelector('video.film')") is None
    assert "Open the storyboard video" not in text("#storyboard")
    assert box(driver, "#take-coast-1 .placeholder")["height"] > 100


def test_tiles_without_a_clip_have_the_shape_asked_for(driver: Any, run_tree: RunTree) -> None:
    """A 9:16 shot's generating and failed takes are 9:16 tiles (no jump when the clip lands),
    at most 70% of the window's height; a 16:9 shot's failed take stays 16:9."""
    document = manifest_document(run_tree.pipeline, running=True)
    document["shots"][1]["settings"]["ratio"] = "9:16"
    write_manifest(run_tree, document)
    driver.get(build_page(run_tree.manifest).as_uri())
    inner_height = driver.execute_script("return window.innerHeight")
    tall = box(driver, "#take-stairs-2 .placeholder")
    assert tall["width"] / tall["height"] == pytest.approx(9 / 16, abs=0.01)
    assert tall["height"] <= 0.7 * inner_height + 1
    wide = box(driver, "#take-coast-2 .placeholder")
    assert wide["width"] / wide["height"] == pytest.approx(16 / 9, abs=0.01)


def test_a_shot_whose_takes_all_failed_gets_a_hint_that_works(
    driver: Any, run_tree: RunTree
) -> None:
    """No storyboard video and every take of a shot failed: the page names that shot and says
    `rdpipe run FILE` or `rdpipe assemble FILE --partial` (assemble alone would fail)."""
    document = manifest_document(run_tree.pipeline)
    document["video"] = None
    for take in document["shots"][2]["takes"]:
        take.update(status="failed", clip=None, message="generation failed")
    write_manifest(run_tree, document)
    invocation = Invocation(cwd=run_tree.root, pipeline=Path("lighthouse.yaml"))
    driver.get(build_page(run_tree.manifest, invocation=invocation).as_uri())
    film = driver.find_element("css selector", "#storyboard .film").text
    assert film == (
        "No storyboard video yet: shot lamp has no take that succeeded. "
        "rdpipe run lighthouse.yaml generates it again, or "
        "rdpipe assemble lighthouse.yaml --partial builds the video without it."
    )


def test_user_text_takes_its_direction_from_its_first_letters(run_tree: RunTree) -> None:
    """Prompts, captions, titles and take prompts carry dir="auto" (a Hebrew prompt with a
    Latin word reads right to left)."""
    html = build_page(run_tree.manifest).read_text(encoding="utf-8")
    assert '<p class="prompt" dir="auto">@image1 climbs the stairs</p>' in html
    assert '<p class="caption" dir="auto">The coast, at dusk.</p>' in html
    assert '<h2 id="title-coast" dir="auto">' in html


def test_takes_beyond_nine_are_reached_with_h_and_l(driver: Any, run_tree: RunTree) -> None:
    """A shot of 12 takes: `9` goes to take 9, `l` on to 10, 11, 12 (and stays there), `h`
    back to 11; `h` on the first take stays on it."""
    document = manifest_document(run_tree.pipeline)
    document["shots"][0]["takes"] = [
        {**document["shots"][0]["takes"][0], "take": number, "seed": number}
        for number in range(1, 13)
    ]
    write_manifest(run_tree, document)
    driver.get(build_page(run_tree.manifest).as_uri())
    assert press(driver, "9")["take"] == "take-coast-9"
    assert [press(driver, "l")["take"] for _ in range(4)] == [
        "take-coast-10",
        "take-coast-11",
        "take-coast-12",
        "take-coast-12",
    ]
    assert press(driver, "h") == {"tag": "VIDEO", "take": "take-coast-11", "shot": "shot-coast"}
    press(driver, "1")
    assert press(driver, "h")["take"] == "take-coast-1"
    assert press(driver, "j")["shot"] == "shot-stairs"
    assert press(driver, "l")["take"] == "take-stairs-1"
    assert press(driver, "l") == {"tag": "ARTICLE", "take": None, "shot": "shot-stairs"}
    assert press(driver, "h")["take"] == "take-stairs-1"


def test_portrait_takes_sit_two_abreast_on_a_phone(driver: Any, run_tree: RunTree) -> None:
    """At 390 px, a 9:16 shot's two takes share a row (each at least 130 px wide, 9:16), where
    a 16:9 shot's takes stack; nothing scrolls sideways."""
    for name in ("1-eeee.mp4", "2-ffff.mp4"):
        make_sim_clip(run_tree.output_dir / "clips" / "lamp" / name, 180, 320, "tall lamp")
    driver.set_window_size(390, 844)
    driver.get(build_page(run_tree.manifest).as_uri())
    one, two = box(driver, "#take-lamp-1 video"), box(driver, "#take-lamp-2 video")
    assert abs(one["top"] - two["top"]) <= 1 and one["width"] >= 130  # picked: 3 px border
    assert one["height"] / one["width"] == pytest.approx(16 / 9, abs=0.02)
    lefts = driver.execute_script(
        "return [...document.querySelectorAll('#shot-coast .take')].map(t => t.offsetLeft);"
    )
    assert len(set(lefts)) == 1
    scroll_width, inner_width = page_width(driver)
    assert scroll_width <= inner_width
