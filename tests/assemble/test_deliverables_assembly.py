"""One deliverable's loudness, burned captions and longest length (issue 17 §2), measured on
the video written: ffmpeg's EBU R 128 meter, frames decoded with PyAV."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest

from rdpipe.assemble import ClipInput
from rdpipe.assemble.length_limit import TooLong
from rdpipe.model.deliverables import DeliverableSpec
from tests.assemble.joining import join
from tests.assemble.media import measure
from tests.media_measure import integrated_loudness


@pytest.fixture(scope="module")
def dark(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s black 640x360 clip with a quiet 440 Hz tone (about -30 LUFS)."""
    dest = tmp_path_factory.mktemp("dark") / "dark.mp4"
    subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "color=black:s=640x360:r=24:d=2",
         "-f", "lavfi", "-i", "sine=f=440:r=48000:d=2,volume=0.05",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-ac", "2", str(dest)],
        check=True,
    )  # fmt: skip
    return dest


@pytest.mark.parametrize(("platform", "target"), [("tiktok", -14.0), ("broadcast-ebu", -23.0)])
def test_loudness_meets_the_deliverables_target(
    platform: str, target: float, dark: Path, tmp_path: Path, ffmpeg: str
) -> None:
    """Each platform's loudness target is met within 1 LU, from the same quiet clips."""
    spec = DeliverableSpec(name="d", platform=platform, contact_sheet=False)
    clips = [ClipInput("a", dark, fit="reframe"), ClipInput("b", dark, fit="reframe")]
    result = join(clips, spec, tmp_path, ffmpeg)
    assert integrated_loudness(dark, ffmpeg) < target - 5
    assert integrated_loudness(result.output, ffmpeg) == pytest.approx(target, abs=1.0)


def test_burned_captions_stay_inside_the_safe_area(dark: Path, tmp_path: Path, ffmpeg: str) -> None:
    """A tiktok cut draws each caption into the picture inside its safe area (8% top, 20%
    bottom, 5% left, 12% right of 1080x1920), and writes no caption file."""
    spec = DeliverableSpec(name="vertical", platform="tiktok", contact_sheet=False)
    caption = "A long caption that has to wrap over more than one line of the frame"
    result = join([ClipInput("a", dark, caption=caption, fit="reframe")], spec, tmp_path, ffmpeg)
    with av.open(str(result.output)) as container:
        frame = next(iter(container.decode(video=0))).to_image().convert("L")
    bright = frame.point(lambda value: 255 if value > 128 else 0)
    box = bright.getbbox()
    assert box is not None  # the caption was drawn
    left, top, right, bottom = box
    assert (frame.width, frame.height) == (1080, 1920)
    assert left >= 0.05 * 1080 and right <= (1 - 0.12) * 1080
    assert top >= 0.08 * 1920 and bottom <= (1 - 0.2) * 1920
    assert bottom > 0.7 * 1920  # near the bottom of the area, not at the top
    assert result.sidecars == ()
    assert not (tmp_path / "film.srt").exists()


def test_master_keeps_caption_sidecars(dark: Path, tmp_path: Path, ffmpeg: str) -> None:
    """A youtube master writes SubRip and WebVTT captions and draws none into the picture."""
    spec = DeliverableSpec(name="master", platform="youtube", contact_sheet=False)
    result = join([ClipInput("a", dark, caption="Hello", fit="reframe")], spec, tmp_path, ffmpeg)
    assert [path.name for path in result.sidecars] == ["film.srt", "film.vtt"]
    with av.open(str(result.output)) as container:
        frame = next(iter(container.decode(video=0))).to_image().convert("L")
    assert frame.point(lambda value: 255 if value > 128 else 0).getbbox() is None
    assert (measure(result.output).width, measure(result.output).height) == (1920, 1080)


def test_a_video_longer_than_max_seconds_is_refused(
    dark: Path, tmp_path: Path, ffmpeg: str
) -> None:
    """A 4 s cut for a 3 s deliverable is an error naming both lengths; no file is left."""
    spec = DeliverableSpec(name="teaser", ratio="9:16", max_seconds=3, contact_sheet=False)
    with pytest.raises(TooLong) as caught:
        join([ClipInput("a", dark), ClipInput("b", dark)], spec, tmp_path, ffmpeg)
    assert str(caught.value) == (
        "deliverable 'teaser': the video lasts 4.00 s, longer than its max_seconds of 3 s; "
        "film.mp4 was not kept. Leave shots out, trim them, or raise max_seconds"
    )
    assert not (tmp_path / "film.mp4").exists()
