"""The still picture under every preview clip, drawn with Pillow (no system fonts needed).

The prompt is drawn with rdpipe's bundled fonts (:mod:`rdpipe.text`), so a prompt in any
script the storyboard may use reads as written; installed fonts are left out so that equal
specs give equal pictures on every machine.

It shows what a person needs to judge a storyboard: the prompt, the model and clip settings,
and the first reference image (or a placeholder for an image the simulator cannot fetch).
A moving marker is added later by ffmpeg along the track drawn at the bottom.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from rdpipe.text import FontChain, Typesetter, draw_block, layout_text, load_font_chain

BACKGROUND = (24, 33, 46)
TEXT = (235, 238, 242)
MUTED = (140, 150, 165)
TRACK = (60, 72, 90)


@dataclass(frozen=True)
class PictureSpec:
    """What a preview shows; equal specs give identical pictures."""

    width: int
    height: int
    prompt: str
    caption: str
    image_data: bytes | None
    image_label: str | None


def track_box(width: int, height: int) -> tuple[int, int, int, int]:
    """Left, top, right and bottom pixel of the progress track the marker moves along."""
    margin = height // 20
    thickness = max(4, height // 60)
    return margin, height - margin - thickness, width - margin, height - margin


def _font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled font at ``size`` pixels; it needs Pillow built with FreeType."""
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError("the simulator needs Pillow with FreeType to draw text")
    return font


def draw_picture(spec: PictureSpec) -> bytes:
    """Draw the picture and return it as PNG bytes."""
    picture = Image.new("RGB", (spec.width, spec.height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    margin = spec.height // 20
    small_size = max(10, spec.height // 36)
    small = _font(small_size)
    draw.text((margin, margin), "RelayDance simulator - offline preview", font=small, fill=MUTED)
    draw.text((margin, margin + small_size * 3 // 2), spec.caption, font=small, fill=TEXT)
    top = margin + small_size * 4
    text_left = margin
    if spec.image_data is not None or spec.image_label is not None:
        text_left = _draw_reference(picture, draw, spec, (margin, top), small_size)
    bottom = track_box(spec.width, spec.height)[1] - margin
    _draw_prompt(draw, spec, (text_left, top, spec.width - margin, bottom))
    draw.rectangle(track_box(spec.width, spec.height), fill=TRACK)
    output = io.BytesIO()
    picture.save(output, format="PNG", compress_level=1)
    return output.getvalue()


def _draw_reference(
    picture: Image.Image,
    draw: ImageDraw.ImageDraw,
    spec: PictureSpec,
    corner: tuple[int, int],
    font_size: int,
) -> int:
    """Put the reference image (or a placeholder) at ``corner``; return where text may start."""
    left, top = corner
    box_width, box_height = spec.width * 3 // 10, spec.height * 11 // 20
    thumbnail = _thumbnail(spec.image_data, (box_width, box_height))
    if thumbnail is not None:
        picture.paste(thumbnail, (left, top))
    else:
        font = _font(font_size)
        draw.rectangle((left, top, left + box_width, top + box_height), outline=MUTED, width=2)
        draw.text((left + 8, top + 8), "reference image (not fetched)", font=font, fill=MUTED)
        url = _fit(spec.image_label or "", font, box_width - 16)
        draw.text((left + 8, top + 8 + font_size * 3 // 2), url, font=font, fill=MUTED)
    return left + box_width + spec.height // 20


def _thumbnail(data: bytes | None, box: tuple[int, int]) -> Image.Image | None:
    if data is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            thumbnail: Image.Image = image.convert("RGB")
    except OSError:
        return None
    thumbnail.thumbnail(box)
    return thumbnail


def _draw_prompt(
    draw: ImageDraw.ImageDraw, spec: PictureSpec, box: tuple[int, int, int, int]
) -> None:
    left, top, right, bottom = box
    setter = Typesetter(_bundled_fonts(), max(12, spec.height // 22), shaping=False)
    line_height = layout_text("", setter, right - left).line_height
    max_lines = max(1, (bottom - top) // line_height)
    block = layout_text(spec.prompt, setter, right - left, max_lines=max_lines)
    draw_block(draw, block, (left, top), fill=TEXT, width=right - left)


@cache
def _bundled_fonts() -> FontChain:
    return load_font_chain(None, Path("."))


def _fit(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """Cut ``text`` so it is no wider than ``width`` pixels."""
    while text and font.getlength(text) > width:
        text = text[:-1]
    return text
