"""A long burned caption is drawn whole inside its deliverable's caption place (the safe area's
width, at most a third of the frame high, never above the safe area's top), smaller if need
be; measured on the written video's first frame, decoded with PyAV."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest
from PIL import Image

from rdpipe.assemble import ClipInput
from rdpipe.model.deliverables import DeliverableSpec
from rdpipe.model.output import CaptionsSpec
from tests.assemble.joining import join

#: The 150-character caption the tester's vertical cut lost its first line of.
LONG = (
    "A long caption that should wrap several times inside the safe area of a vertical video "
    "without touching the platform buttons on the right side"
)
GREY = 128


@pytest.fixture(scope="module")
def grey(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s mid-grey 640x360 clip: the caption's white letters and black outline both show."""
    dest = tmp_path_factory.mktemp("grey") / "grey.mp4"
    subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"color=0x{GREY:02x}{GREY:02x}{GREY:02x}:s=640x360:r=24:d=1",
         "-f", "lavfi", "-i", "sine=f=440:r=48000:d=1,volume=0.05",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-ac", "2", str(dest)],
        check=True,
    )  # fmt: skip
    return dest


def _caption_rows(video: Path) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
    """The frame's (width, height) and the box of pixels far from the grey (the caption)."""
    with av.open(str(video)) as container:
        frame = next(iter(container.decode(video=0))).to_image().convert("L")
    ink = frame.point(lambda value: 255 if abs(value - GREY) > 48 else 0)
    box = ink.getbbox()
    assert box is not None  # the caption was drawn
    return frame.size, box


def _white_rows(video: Path) -> int:
    """How many pixel rows of the first frame hold white letters."""
    with av.open(str(video)) as container:
        frame = next(iter(container.decode(video=0))).to_image().convert("L")
    white = frame.point(lambda value: 255 if value > 200 else 0)
    rows = white.resize((1, frame.height), Image.Resampling.BOX)
    return sum(1 for y in range(frame.height) if rows.getpixel((0, y)))


@pytest.mark.parametrize(
    ("platform", "caption"),
    [("youtube-shorts", LONG), ("tiktok", LONG), ("tiktok", " ".join([LONG] * 4))],
    ids=["youtube-shorts", "tiktok", "tiktok-too-long-even-small"],
)
def test_long_caption_stays_inside_a_vertical_safe_area(
    platform: str, caption: str, grey: Path, tmp_path: Path, ffmpeg: str
) -> None:
    """On a 1080x1920 platform cut every caption pixel row and column lies inside the safe
    area (8% top, 20% bottom, 5% left, 12% right), the caption no taller than a third of
    the frame, where before it ran from row 0 to row 1489; a caption too long even at the
    smallest size loses its last lines, not its place."""
    spec = DeliverableSpec(name="vertical", platform=platform, contact_sheet=False)
    result = join([ClipInput("a", grey, caption=caption, fit="reframe")], spec, tmp_path, ffmpeg)
    (width, height), (left, top, right, bottom) = _caption_rows(result.output)
    assert (width, height) == (1080, 1920)
    assert top >= 0.08 * height and bottom <= (1 - 0.2) * height
    assert left >= 0.05 * width and right <= (1 - 0.12) * width
    assert bottom - top <= height / 3
    assert _white_rows(result.output) > 4 * 30  # several lines of letters at least 30 px high


def test_long_caption_stays_inside_a_master_without_safe_area(
    grey: Path, tmp_path: Path, ffmpeg: str
) -> None:
    """On a 1920x1080 master that burns captions and has no safe area, the caption keeps
    inside the frame's bottom third, ending above 92% of its height, on its full font size
    (it fits: three lines)."""
    spec = DeliverableSpec(
        name="master", size="1920x1080", contact_sheet=False, captions=CaptionsSpec(burn_in=True)
    )
    result = join([ClipInput("a", grey, caption=LONG, fit="reframe")], spec, tmp_path, ffmpeg)
    (width, height), (left, top, right, bottom) = _caption_rows(result.output)
    assert (width, height) == (1920, 1080)
    assert top >= height * (0.92 - 1 / 3) and bottom <= height * 0.92 + height // 180 + 2
    assert left >= 0.05 * width - 8 and right <= 0.95 * width + 8
    assert bottom - top > 2 * (height // 18)  # more than two lines of the usual size
