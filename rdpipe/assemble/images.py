"""Pictures drawn with Pillow: title and end cards, and caption overlays for burn-in.

Text uses Pillow's built-in scalable font (``ImageFont.load_default(size=...)``), so nothing
depends on the fonts installed on the machine.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFont, ImageOps

from rdpipe.model.output import CardSpec


def render_card(card: CardSpec, size: tuple[int, int], dest: Path, *, image: Path | None) -> Path:
    """Draw a card: its image fitted inside the frame on its colour, text centred on top."""
    background = ImageColor.getrgb(card.background)
    canvas = Image.new("RGB", size, background)
    if image is not None:
        with Image.open(image) as picture:
            fitted = ImageOps.pad(picture.convert("RGB"), size, color=background)
        canvas.paste(fitted)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=max(12, size[1] // 12))
    text = _wrap(card.text, size[0], font)
    draw.multiline_text(
        (size[0] / 2, size[1] / 2), text, font=font, fill=ImageColor.getrgb(card.color),
        anchor="mm", align="center", stroke_width=max(1, size[1] // 240),
        stroke_fill=background,
    )  # fmt: skip
    return _save(canvas, dest)


def render_caption(text: str, size: tuple[int, int], dest: Path) -> Path:
    """Draw a caption near the bottom of a transparent frame, white on a dark outline."""
    canvas = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=max(10, size[1] // 18))
    wrapped = _wrap(text, size[0], font)
    draw.multiline_text(
        (size[0] / 2, size[1] * 0.92), wrapped, font=font, fill=(255, 255, 255, 255),
        anchor="md", align="center", stroke_width=max(1, size[1] // 180),
        stroke_fill=(0, 0, 0, 255),
    )  # fmt: skip
    return _save(canvas, dest)


def _wrap(text: str, width: int, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> str:
    """Wrap each paragraph so lines fit in nine tenths of the width."""
    probe = font.getbbox("abcdefghijklmnopqrstuvwxyz")
    letter = max(1.0, (probe[2] - probe[0]) / 26)
    columns = max(8, int(width * 0.9 / letter))
    return "\n".join(textwrap.fill(line, columns) or " " for line in text.strip().splitlines())


def _save(canvas: Image.Image, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    canvas.save(partial, format="PNG")
    partial.replace(dest)
    return dest
