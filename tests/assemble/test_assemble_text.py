"""Text in the assembled video, decoded as a viewer sees it (issue 11 §5: text in any script).

The title card's Chinese is compared with Pillow drawing the same characters in the bundled
CJK font by itself (no rdpipe code), and with the boxes Pillow draws for characters a font
lacks; the burned caption is checked pixel by pixel against its overlay.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw

from rdpipe.assemble import AssemblyResult, ClipInput, TargetFormat
from rdpipe.assemble.images import render_caption
from rdpipe.model.output import CaptionsSpec, CardSpec, OutputSpec
from rdpipe.text import bundled_faces, load_font_chain
from tests.assemble.joining import join

TARGET = TargetFormat(640, 360, Fraction(25))
TITLE = "第一章"
CAPTION = "Café crème à l'aube — 清晨的咖啡馆"


def _assemble(clip: Path, tmp_path: Path, ffmpeg: str) -> AssemblyResult:
    spec = OutputSpec(
        title_card=CardSpec(text=TITLE, seconds=1.0), captions=CaptionsSpec(burn_in=True)
    )
    clips = [ClipInput("cafe", clip, prompt="清晨的咖啡馆，阳光洒在木桌上", caption=CAPTION)]  # noqa: RUF001
    return join(clips, spec, tmp_path, ffmpeg, target=TARGET, base_dir=tmp_path)


def _frame_at(path: Path, seconds: float) -> Image.Image:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= seconds:
                return frame.to_image()
    raise AssertionError(f"no frame at {seconds} s")


def _glyphs(picture: Image.Image) -> Image.Image:
    """Bright pixels as a black-and-white picture cropped to them (compression noise dropped)."""
    ink = picture.convert("L").point(lambda v: 255 if v > 128 else 0)
    box = ink.getbbox()
    assert box is not None, "no text"
    return ink.crop(box)


def _agreement(a: Image.Image, b: Image.Image) -> float:
    """Share of pixels two ink pictures agree on, the second resized to the first."""
    pairs = zip(a.tobytes(), b.resize(a.size).tobytes(), strict=True)
    return sum(1 for x, y in pairs if (x > 128) == (y > 128)) / (a.width * a.height)


def test_chinese_title_and_caption_are_drawn_as_written(
    matching_clips: list[Path], tmp_path: Path, ffmpeg: str
) -> None:
    """The decoded title frame shows 第一章 as the CJK font draws it, not three boxes; the caption
    frame shows the caption overlay's white letters and dark outline; the contact sheet has
    the prompt's text under the frame."""
    result = _assemble(matching_clips[0], tmp_path, ffmpeg)

    cjk = next(f for f in bundled_faces() if f.name.startswith("Noto Sans CJK"))
    font = cjk.font(TARGET.height // 12, shaped=False)

    def drawn(text: str) -> Image.Image:
        canvas = Image.new("L", (TARGET.width, TARGET.height))
        ImageDraw.Draw(canvas).text((20, 200), text, font=font, fill=255, anchor="ls")
        return _glyphs(canvas)

    seen = _glyphs(_frame_at(result.output, 0.5))
    expected, boxes = drawn(TITLE), drawn("\U0010fffd" * len(TITLE))
    assert abs(seen.width - expected.width) <= 3 and abs(seen.height - expected.height) <= 3
    assert _agreement(seen, expected) > 0.97  # 第二章 would give 0.93
    assert _agreement(seen, boxes) < 0.75

    overlay_png = render_caption(
        CAPTION, (TARGET.width, TARGET.height), tmp_path / "caption.png",
        fonts=load_font_chain(None, tmp_path),
    )  # fmt: skip
    with Image.open(overlay_png) as overlay:
        alpha, colour = overlay.getchannel("A").tobytes(), overlay.convert("L").tobytes()
    frame = _frame_at(result.output, 1.5).convert("L").tobytes()
    opaque = [(c, f) for a, c, f in zip(alpha, colour, frame, strict=True) if a == 255]
    white = sorted(f for c, f in opaque if c == 255)  # the letters
    dark = sorted(f for c, f in opaque if c == 0)  # their outline
    assert len(white) > 300 and white[len(white) // 2] > 200
    assert len(dark) > 300 and dark[len(dark) // 2] < 60

    with Image.open(tmp_path / "film.contact.png") as sheet:
        under_frame = sheet.convert("L").crop((16, 16 + 180 + 28, 16 + 320, 16 + 180 + 70))
        assert under_frame.point(lambda v: 255 if v > 120 else 0).getbbox() is not None
