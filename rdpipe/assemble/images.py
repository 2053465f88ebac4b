"""Pictures drawn with Pillow: title and end cards, and caption overlays for burn-in.

Text goes through :mod:`rdpipe.text`: each character in the first font of the chain that has
it (bundled Noto fonts unless ``output.font`` says otherwise), wrapped by rendered width, and
right-to-left scripts in visual order.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageOps

from rdpipe.model.deliverables import SafeArea
from rdpipe.model.output import CardSpec
from rdpipe.text import FontChain, TextBlock, Typesetter, draw_block, layout_text
from rdpipe.text.captions import fit_caption

#: Share of the frame's width a line of text may take.
_TEXT_WIDTH = 0.9


def render_card(
    card: CardSpec, size: tuple[int, int], dest: Path, *, image: Path | None, fonts: FontChain
) -> Path:
    """Draw a card: its image fitted inside the frame on its colour, text centred on top.

    Text too tall for the frame is drawn smaller until it fits (down to 12 pixels).
    """
    background = ImageColor.getrgb(card.background)
    canvas = Image.new("RGB", size, background)
    if image is not None:
        with Image.open(image) as picture:
            fitted = ImageOps.pad(picture.convert("RGB"), size, color=background)
        canvas.paste(fitted)
    block = _fitted(card.text.strip(), fonts, size, max(12, size[1] // 12))
    draw_block(
        ImageDraw.Draw(canvas), block, (size[0] / 2, size[1] / 2), anchor="mm", align="center",
        fill=ImageColor.getrgb(card.color), stroke_width=max(1, size[1] // 240),
        stroke_fill=background,
    )  # fmt: skip
    return _save(canvas, dest)


def render_caption(
    text: str,
    size: tuple[int, int],
    dest: Path,
    *,
    fonts: FontChain,
    safe_area: SafeArea | None = None,
) -> Path:
    """Draw a caption near the bottom of a transparent frame, white on a dark outline.

    With a ``safe_area`` (shares of the frame a platform's interface covers) the caption is
    laid out in the frame left free, its bottom two hundredths of the height above that
    area's bottom edge; without one, centred, its bottom at 92% of the height. Wrapped to that
    width, it takes at most a third of the height and never reaches above the area's top:
    drawn smaller if need be (:func:`rdpipe.text.captions.fit_caption`).
    """
    canvas = Image.new("RGBA", size, (0, 0, 0, 0))
    fitted = fit_caption(text.strip(), fonts, size, safe_area)
    area = fitted.area
    draw_block(
        ImageDraw.Draw(canvas), fitted.block, (area.centre, area.bottom), anchor="md",
        align="center", fill=(255, 255, 255, 255), stroke_width=area.stroke,
        stroke_fill=(0, 0, 0, 255),
    )  # fmt: skip
    return _save(canvas, dest)


def _fitted(text: str, fonts: FontChain, size: tuple[int, int], pixels: int) -> TextBlock:
    """``text`` laid out at ``pixels``, or smaller until it fits nine tenths of the frame."""
    while True:
        block = layout_text(text, Typesetter(fonts, pixels), size[0] * _TEXT_WIDTH)
        if pixels <= 12 or block.height <= size[1] * _TEXT_WIDTH:
            return block
        pixels = max(12, pixels * 5 // 6)


def _save(canvas: Image.Image, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    canvas.save(partial, format="PNG")
    partial.replace(dest)
    return dest
