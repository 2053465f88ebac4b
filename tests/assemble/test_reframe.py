"""Deliverables of another shape than the clips (issue 17 §2): the frame, reframe around a
shot's focus, pad with bars; measured on frames decoded with PyAV."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest
from PIL import Image

from rdpipe.assemble import ClipInput
from rdpipe.assemble.framing import largest_inside
from rdpipe.model.deliverables import DeliverableSpec
from tests.assemble.joining import join
from tests.assemble.media import measure

RED, BLUE = (255, 0, 0), (0, 0, 255)


@pytest.fixture(scope="module")
def banded(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s 640x360 blue clip whose left fifth (128 pixels) is red, with a tone."""
    dest = tmp_path_factory.mktemp("banded") / "banded.mp4"
    picture = "color=blue:s=640x360:r=24:d=1,drawbox=x=0:y=0:w=128:h=360:color=red:t=fill"
    subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", picture, "-f", "lavfi", "-i", "sine=f=440:r=48000:d=1",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-ac", "2", str(dest)],
        check=True,
    )  # fmt: skip
    return dest


class _Rows:
    """A decoded frame's RGB pixels read as ``rows[y][x]``."""

    def __init__(self, image: Image.Image) -> None:
        self._image = image

    def __getitem__(self, y: int) -> _Row:
        return _Row(self._image, y)


class _Row:
    def __init__(self, image: Image.Image, y: int) -> None:
        self._image, self._y = image, y

    def __getitem__(self, x: int) -> tuple[int, int, int]:
        pixel = self._image.getpixel((x, self._y))
        assert isinstance(pixel, tuple)
        return (int(pixel[0]), int(pixel[1]), int(pixel[2]))


def _middle_frame(path: Path) -> _Rows:
    """The RGB pixels of the video's frame nearest its middle."""
    with av.open(str(path)) as container:
        frames = [frame.to_image() for frame in container.decode(video=0)]
    return _Rows(frames[len(frames) // 2].convert("RGB"))


def _near(pixel: tuple[int, int, int], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 40 for a, b in zip(pixel, colour, strict=True))


def _spec(**fields: object) -> DeliverableSpec:
    return DeliverableSpec.model_validate({"contact_sheet": False, **fields})


def test_tiktok_frame_is_exactly_1080x1920(banded: Path, tmp_path: Path, ffmpeg: str) -> None:
    """The tiktok preset makes a 1080x1920 video of the clips' length from 16:9 clips."""
    clips = [ClipInput("a", banded, fit="reframe"), ClipInput("b", banded, fit="reframe")]
    result = join(clips, _spec(name="vertical", platform="tiktok"), tmp_path, ffmpeg)
    produced = measure(result.output)
    assert (produced.width, produced.height) == (1080, 1920)
    assert produced.video_seconds == pytest.approx(2.0, abs=1 / 24)
    assert result.copied is False


def test_ratio_without_size_is_the_largest_frame_inside_the_first_clip(
    banded: Path, tmp_path: Path, ffmpeg: str
) -> None:
    """ratio 9:16 alone from 640x360 clips makes a 202x360 video; 1:1 a 360x360 one."""
    assert largest_inside(9 / 16, (640, 360)) == (202, 360)
    tall = join([ClipInput("a", banded, fit="reframe")], _spec(name="tall", ratio="9:16"),
                tmp_path, ffmpeg, name="tall.mp4")  # fmt: skip
    square = join([ClipInput("a", banded, fit="reframe")], _spec(name="sq", ratio="1:1"),
                  tmp_path, ffmpeg, name="sq.mp4")  # fmt: skip
    assert (measure(tall.output).width, measure(tall.output).height) == (202, 360)
    assert (measure(square.output).width, measure(square.output).height) == (360, 360)


def test_same_ratio_as_the_clips_copies_them(banded: Path, tmp_path: Path, ffmpeg: str) -> None:
    """A 16:9 deliverable of 16:9 clips, without a size, joins them as they are."""
    clips = [ClipInput("a", banded, fit="reframe"), ClipInput("b", banded)]
    result = join(clips, _spec(name="master", ratio="16:9"), tmp_path, ffmpeg)
    assert result.copied is True
    assert (measure(result.output).width, measure(result.output).height) == (640, 360)


def test_focus_on_the_left_keeps_the_left_band(banded: Path, tmp_path: Path, ffmpeg: str) -> None:
    """Reframed to 9:16 around x=0.2 the red left band fills the left of the frame; around
    the centre (no focus) the frame is all blue."""
    spec = _spec(name="vertical", size="1080x1920")
    left = join([ClipInput("a", banded, fit="reframe", focus=(0.2, 0.5))], spec, tmp_path,
                ffmpeg, name="left.mp4")  # fmt: skip
    centre = join([ClipInput("a", banded, fit="reframe")], spec, tmp_path, ffmpeg,
                  name="centre.mp4")  # fmt: skip
    rows = _middle_frame(left.output)
    # Covered: scaled to 3413x1920, cropped from x = 3413*0.2 - 540 = 142; red up to 683-142.
    assert all(_near(rows[960][x], RED) for x in (10, 270, 520))
    assert all(_near(rows[960][x], BLUE) for x in (560, 800, 1070))
    assert _near(rows[10][10], RED) and _near(rows[1910][10], RED)  # no bars
    middle = _middle_frame(centre.output)
    assert all(_near(middle[960][x], BLUE) for x in (0, 540, 1079))


def test_focus_at_the_edge_is_clamped_to_the_picture(
    banded: Path, tmp_path: Path, ffmpeg: str
) -> None:
    """A focus at x=0 crops from the picture's left edge, never beyond it (no black)."""
    spec = _spec(name="vertical", size="1080x1920")
    result = join([ClipInput("a", banded, fit="reframe", focus=(0.0, 0.0))], spec, tmp_path,
                  ffmpeg)  # fmt: skip
    rows = _middle_frame(result.output)
    assert _near(rows[0][0], RED) and _near(rows[1919][0], RED)
    assert _near(rows[960][670], RED) and _near(rows[960][700], BLUE)


def test_pad_fits_the_whole_picture_between_bars(banded: Path, tmp_path: Path, ffmpeg: str) -> None:
    """Padded to 1080x1920 the 16:9 picture is 1080x608 in the middle, black above and below,
    its red band at the left."""
    result = join([ClipInput("a", banded, fit="pad")], _spec(name="v", size="1080x1920"),
                  tmp_path, ffmpeg)  # fmt: skip
    rows = _middle_frame(result.output)
    assert all(_near(rows[y][540], (0, 0, 0)) for y in (10, 600, 1320, 1910))
    assert _near(rows[960][100], RED) and _near(rows[960][540], BLUE)
    assert _near(rows[700][540], BLUE) and _near(rows[1220][540], BLUE)


def test_fit_steps_are_golden() -> None:
    """The scale and crop of a reframe around (0.2, 0.5), and the scale and pad of a pad."""
    from rdpipe.assemble.framing import fit_steps

    assert fit_steps("reframe", (0.2, 0.5), (1080, 1920), "out_range=tv") == [
        "scale=1080:1920:force_original_aspect_ratio=increase:out_range=tv",
        "crop=1080:1920:'max(0,min(iw-ow,iw*0.2-ow/2))':'max(0,min(ih-oh,ih*0.5-oh/2))'",
    ]
    assert fit_steps("pad", (0.2, 0.5), (1080, 1920), "out_range=tv") == [
        "scale=1080:1920:force_original_aspect_ratio=decrease:force_divisible_by=2:out_range=tv",
        "pad=1080:1920:(ow-iw)/2:(oh-ih)/2:color=black",
    ]
    assert fit_steps("as_is", (0.2, 0.5), (1080, 1920), "out_range=tv") == fit_steps(
        "pad", (0.5, 0.5), (1080, 1920), "out_range=tv"
    )
