"""Where a burned caption goes in a frame, and at what size, so that all of it stays visible.

A caption is wrapped to the width the frame leaves free and sits near the bottom of it. It
may take at most a third of the frame's height, and never reaches above the free area's top
(a platform's safe area). Lines that would be taller than that are drawn smaller, down to half
the usual size (the legible minimum); a caption too long even then keeps the lines that fit,
the last one ending in an ellipsis, and :attr:`FittedCaption.fits` is false (``validate``
warns about it before anything is paid for).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rdpipe.text.chain import FontChain
from rdpipe.text.layout import TextBlock, Typesetter, layout_text

#: Share of the free width a line of text may take.
TEXT_WIDTH = 0.9
#: Share of the frame's height a caption may take at most.
_MOST_HEIGHT = 1 / 3


class Margins(Protocol):
    """Shares of the frame a platform's interface covers (``SafeArea`` of a deliverable)."""

    @property
    def top(self) -> float: ...
    @property
    def bottom(self) -> float: ...
    @property
    def left(self) -> float: ...
    @property
    def right(self) -> float: ...


@dataclass(frozen=True)
class CaptionArea:
    """The rectangle, in pixels from the top left, a caption's text block stays inside (its
    ``stroke``-pixel outline just around it): ``top`` is the free area's top moved down by the
    outline, ``bottom`` the bottom of the last line, centred between ``left`` and ``right``."""

    left: float
    top: float
    right: float
    bottom: float
    stroke: int

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2

    @property
    def line_width(self) -> float:
        """The widest a line may be drawn, in pixels."""
        return (self.right - self.left) * TEXT_WIDTH

    @property
    def block_height(self) -> float:
        """The tallest the text block may be, in pixels."""
        return self.bottom - self.top


@dataclass(frozen=True)
class FittedCaption:
    """A caption laid out for its area; ``pixels`` its font size, ``fits`` false when even
    the smallest size could not hold all of it (lines were dropped)."""

    block: TextBlock
    area: CaptionArea
    pixels: int
    fits: bool


def caption_area(size: tuple[int, int], margins: Margins | None) -> CaptionArea:
    """The area a caption of a ``size`` (width, height) frame is drawn in.

    With ``margins`` (a platform's safe area) the caption's bottom is two hundredths of the
    height above the bottom margin and its top no higher than the top margin; without, it
    spans the frame's width and its bottom is at 92% of the height.
    """
    width, height = size
    stroke = max(1, height // 180)
    if margins is None:
        left, right, ceiling, bottom = 0.0, float(width), 0.0, height * 0.92
    else:
        left, right = width * margins.left, width * (1 - margins.right)
        ceiling, bottom = height * margins.top, height * (1 - margins.bottom - 0.02)
    top = max(ceiling, bottom - height * _MOST_HEIGHT)
    return CaptionArea(left, top + stroke, right, bottom, stroke)


def fit_caption(
    text: str, fonts: FontChain, size: tuple[int, int], margins: Margins | None
) -> FittedCaption:
    """``text`` laid out to stay inside :func:`caption_area`: at ``height // 18`` pixels, or
    smaller down to ``height // 36`` (at least 10), or at that size with only the lines
    that fit."""
    area = caption_area(size, margins)
    pixels, smallest = max(10, size[1] // 18), max(10, size[1] // 36)
    while True:
        block = layout_text(text, Typesetter(fonts, pixels), area.line_width)
        if block.height <= area.block_height:
            return FittedCaption(block, area, pixels, fits=True)
        if pixels <= smallest:
            break
        pixels = max(smallest, pixels * 5 // 6)
    lines = max(1, int(area.block_height // block.line_height))
    block = layout_text(text, Typesetter(fonts, pixels), area.line_width, max_lines=lines)
    return FittedCaption(block, area, pixels, fits=False)
