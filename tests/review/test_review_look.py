"""How the review page looks in headless Chromium at a desktop and a phone width: each tile has
its clip's shape, no tile is black before it is played, the keyboard moves between shots and
takes, and a shot of one take has nothing to pick. Judged from screenshots and the layout."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

from rdpipe.ffmpeg_path import find_ffmpeg
from rdpipe.review import build_page, serve
from rdpipe.yaml_edit import read_picks
from tests.assemble.oriented import PhoneClip, make_phone_clip
from tests.review.browser import console_errors, needs_chromium, wait_for
from tests.review.review_tree import (
    RunTree,
    build_tree,
    make_sim_clip,
    manifest_document,
    write_manifest,
)

pytestmark = needs_chromium

DESKTOP, PHONE = (1280, 900), (390, 844)
# The shape each take's picture has for a viewer (width / height).
SHAPES = {"coast-1": 16 / 9, "coast-3": 16 / 9, "stairs-1": 16 / 9,
          "lamp-1": 9 / 16, "lamp-2": 9 / 16}  # fmt: skip


@pytest.fixture(scope="module")
def shaped_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Clips as the offline simulator renders them (16:9 and 9:16), and a phone clip stored
    320x180 whose display matrix turns it to 180x320."""
    folder = tmp_path_factory.mktemp("shaped-clips")
    make_sim_clip(folder / "wide.mp4", 864, 480, "Aerial shot of a storm-battered coast")
    make_sim_clip(folder / "tall.mp4", 480, 864, "Close-up: the keeper lights the lamp")
    phone = make_phone_clip(
        find_ffmpeg(os.environ), PhoneClip("phone", 180, 320, rotation=90), folder
    )
    return {"wide": folder / "wide.mp4", "tall": folder / "tall.mp4", "phone": phone}


@pytest.fixture
def shaped_tree(tmp_path: Path, session_clip: Path, shaped_clips: dict[str, Path]) -> RunTree:
    """The run tree with coast in 16:9, lamp's takes 9:16 (one turned by its display matrix),
    and stairs reduced to one take."""
    tree = build_tree(tmp_path / "film", session_clip)
    clips = tree.output_dir / "clips"
    for target, source in (("coast/1-aaaa.mp4", "wide"), ("coast/3-cccc.mp4", "wide"),
                           ("lamp/1-eeee.mp4", "tall"), ("lamp/2-ffff.mp4", "phone")):  # fmt: skip
        shutil.copyfile(shaped_clips[source], clips / target)
    document = manifest_document(tree.pipeline)
    document["shots"][1]["takes"] = document["shots"][1]["takes"][:1]
    write_manifest(tree, document)
    return tree


def tiles(driver: Any) -> dict[str, dict[str, float]]:
    """Each playable take's video box in CSS pixels of the page, by "shot-take"."""
    script = """
        const out = {};
        for (const video of document.querySelectorAll('figure.take video')) {
          const figure = video.closest('figure');
          const r = video.getBoundingClientRect();
          out[figure.id.slice(5)] = {x: r.left + scrollX, y: r.top + scrollY,
                                     width: r.width, height: r.height};
        }
        return out;
    """
    return dict(driver.execute_script(script))


def poster_area(driver: Any, name: str) -> Image.Image:
    """The top part of take ``name``'s tile as the screen shows it (above the player's
    buttons), with the tile scrolled into the middle of the window first."""
    script = """
        const video = document.querySelector('#take-' + arguments[0] + ' video');
        video.scrollIntoView({block: 'center'});
        const r = video.getBoundingClientRect();
        return [r.left, r.top, r.width, r.height, devicePixelRatio];
    """
    left, top, width, height, scale = driver.execute_script(script, name)
    shot = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("L")
    area = (left + width * 0.05, top + height * 0.05, left + width * 0.95, top + height * 0.3)
    return shot.crop(tuple(round(v * scale) for v in area))


def posters_drawn(driver: Any) -> bool:
    """Whether every video's poster image has loaded in the page."""
    script = """
        const done = arguments[arguments.length - 1];
        const posters = [...document.querySelectorAll('figure.take video')].map(v => v.poster);
        Promise.all(posters.map(src => new Promise(ok => {
          const image = new Image(); image.onload = () => ok(image.naturalWidth > 0);
          image.onerror = () => ok(false); image.src = src;
        }))).then(all => done(all.length > 0 && all.every(Boolean)));
    """
    return bool(driver.execute_async_script(script))


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_tiles_have_their_clip_s_shape_and_a_poster(
    browser: Any, shaped_tree: RunTree, size: tuple[int, int], tmp_path: Path
) -> None:
    """At 1280x900 and 390x844: every tile's rendered box is within 2% of its clip's aspect
    (9:16 tall, 16:9 wide), its poster area on screen is neither black nor flat, and nothing
    scrolls sideways."""
    browser.set_window_size(*size)
    browser.get(build_page(shaped_tree.manifest).as_uri())
    console_errors(browser)
    browser.set_script_timeout(15)
    wait_for(lambda: posters_drawn(browser), what="the posters")
    boxes = tiles(browser)
    assert sorted(boxes) == sorted(SHAPES)
    for name, box in boxes.items():
        aspect = box["width"] / box["height"]
        assert abs(aspect / SHAPES[name] - 1) < 0.02, (name, box)
        assert box["width"] >= 100, (name, box)
    assert boxes["lamp-1"]["height"] > boxes["lamp-1"]["width"] * 1.7
    inner_width = browser.execute_script("return window.innerWidth")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= inner_width
    for name in boxes:
        stats = ImageStat.Stat(poster_area(browser, name))
        # A black tile measures 0 and 0; the simulator's dark slate with its text ~32 and ~8.
        assert stats.mean[0] > 15 and stats.stddev[0] > 3, (name, stats.mean, stats.stddev)
    screenshot = tmp_path / "page.png"
    browser.execute_script("window.scrollTo(0, 0)")
    assert browser.save_screenshot(str(screenshot))
    with Image.open(screenshot) as image:
        assert image.width == inner_width
    assert console_errors(browser) == []


def test_the_keyboard_moves_between_shots_and_takes(browser: Any, shaped_tree: RunTree) -> None:
    """j/ArrowDown and k/ArrowUp focus the next and previous shot; 3 focuses take 3's player;
    Space plays it and Space again pauses it; Space on a focused shot plays its first take."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(*DESKTOP)
    browser.get(build_page(shaped_tree.manifest).as_uri())

    def press(key: str) -> str:
        ActionChains(browser).send_keys(key).perform()
        script = "const a = document.activeElement; return a.closest('figure')?.id || a.id;"
        return str(browser.execute_script(script))

    assert browser.find_element("css selector", ".keys").text.startswith("Keyboard")
    assert press("j") == "shot-coast"
    assert press("j") == "shot-stairs"
    assert press(Keys.ARROW_DOWN) == "shot-lamp"
    assert press("k") == "shot-stairs"
    assert press(Keys.ARROW_UP) == "shot-coast"
    assert press("3") == "take-coast-3"
    assert browser.execute_script("return document.activeElement.tagName") == "VIDEO"
    paused = "return document.querySelector('#take-coast-3 video').paused"
    press(" ")
    wait_for(lambda: not browser.execute_script(paused), what="take 3 playing")
    press(" ")
    wait_for(lambda: browser.execute_script(paused), what="take 3 paused")
    assert press("j") == "shot-stairs"
    press(" ")  # with the shot focused, Space plays its first take
    stairs = "return document.querySelector('#take-stairs-1 video').paused"
    wait_for(lambda: not browser.execute_script(stairs), what="stairs' take playing")
    assert press("1") == "take-stairs-1"
    assert browser.execute_script("return scrollY") > 0


def test_a_shot_of_one_take_has_no_pick_button(browser: Any, shaped_tree: RunTree) -> None:
    """On the served page the one-take shot has no pick button; coast's playable takes have
    one each, the picked take's tile is marked as the storyboard's, and j 3 p picks take 3."""
    from selenium.webdriver.common.action_chains import ActionChains

    with serve(shaped_tree.manifest, shaped_tree.pipeline) as server:
        browser.set_window_size(*DESKTOP)
        browser.get(server.url)
        buttons = (
            "return [...document.querySelectorAll('#shot-%s figure button.pick')].map(b => b.id)"
        )
        assert browser.execute_script(buttons % "stairs") == []
        assert browser.execute_script(buttons % "coast") == ["pick-coast-1", "pick-coast-3"]
        marked = browser.find_element("css selector", "#take-coast-1 .badge.picked")
        assert marked.text == "✓ In the storyboard"
        ActionChains(browser).send_keys("j").send_keys("3").send_keys("p").perform()
        wait_for(lambda: read_picks(shaped_tree.pipeline)["coast"] == 3, what="p's pick")
        assert console_errors(browser) == []
